"""Portable datasets: build, move the dataset folder and the frames folder, load from the new place.

Rows name frames relative to their dataset folder (``data_prep.media``); ``source_frames`` links the
frames folder or, self-contained, holds the frames the rows use (``data_prep.portable``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf
from transformers import AutoProcessor

from data_prep.build import build_dataset, read_rows
from data_prep.cli import main
from data_prep.media import SOURCE_FRAMES, is_portable, resolve_videos
from recipes.videossr.dataset import VideoSSRDataset
from recipes.videossr.eval.viubench import load_rows, to_sample


@pytest.fixture(scope="module")
def processor(tiny_qwen3vl_dir):
    return AutoProcessor.from_pretrained(tiny_qwen3vl_dir)


@pytest.fixture()
def place(tmp_path, frames_dir):
    """A private frames folder (it gets moved) and a dataset built from it: train + VIUBench."""
    frames = shutil.copytree(frames_dir, tmp_path / "a" / "frames")
    data = tmp_path / "a" / "data"
    build_dataset(frames, data, "videossr30k", size=6, progress=False)
    build_dataset(frames, data, "viubench", per_subtype=1, progress=False)
    return frames, data


def load(parquet: Path, processor, cache: Path, **videossr) -> VideoSSRDataset:
    config = OmegaConf.create({
        "max_prompt_length": 100000, "filter_overlong_prompts": False, "cache_dir": str(cache),
        "video_key": "videos", "image_patch_size": 16, "videossr": videossr,
    })
    return VideoSSRDataset([str(parquet)], processor.tokenizer, config, processor)


def tokenize_every_row(dataset: VideoSSRDataset, processor) -> int:
    """Decode every clip of every row and tokenize the prompt; returns the rows done."""
    for i in range(len(dataset)):
        messages = dataset[i]["raw_prompt"]
        _, videos, _ = asyncio.run(VideoSSRDataset.process_multi_modal_info(messages, 16, dataset.config))
        frames, metadata = zip(*videos)
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = processor(text=[text], videos=list(frames), video_metadata=list(metadata), do_sample_frames=False,
                        return_tensors="pt")["input_ids"][0]
        assert len(ids) > 100
    return len(dataset)


def test_rows_are_relative_and_the_folder_links_its_frames(place):
    frames, data = place
    for parquet in ("train.parquet", "viubench.parquet", "viubench_val.parquet"):
        rows = read_rows(data / parquet)
        assert rows and all(is_portable(r["videos"]) for r in rows)
    assert (data / SOURCE_FRAMES).is_symlink() and (data / SOURCE_FRAMES).resolve() == frames.resolve()
    assert "a link to the frames folder the build read" in (data / "README.md").read_text()


def test_a_project_folder_holding_frames_and_data_moves_as_one(place, tmp_path, capsys):
    """Issue 24 item 5: frames/ and data/ side by side (launch/prepare_data.sh's layout) are linked
    relatively, so moving or copying the project folder keeps every row's frames."""
    frames, data = place
    assert os.readlink(data / SOURCE_FRAMES) == "../frames"
    project = tmp_path / "elsewhere" / "project"
    project.parent.mkdir()
    os.rename(tmp_path / "a", project)
    assert main(["media", str(project / "data"), "--check"]) == 0
    assert "all" in capsys.readouterr().out
    for parquet in ("train.parquet", "viubench.parquet"):
        for row in read_rows(project / "data" / parquet):
            for video in resolve_videos(row["videos"], project / "data"):
                assert all(os.path.isfile(p) for p in video["video"])


def test_frames_folders_apart_from_the_dataset_are_linked_absolutely(frames_dir, tmp_path):
    """No common folder but ``/`` (or another file system): the link is absolute, the dataset folder moves alone."""
    from data_prep.portable import link_text

    (tmp_path / "data").mkdir()
    assert link_text(Path("/"), tmp_path / "data" / SOURCE_FRAMES) == "/"
    assert link_text(frames_dir, tmp_path / "data" / SOURCE_FRAMES).startswith("../")  # both under /tmp


def test_move_the_dataset_then_the_frames_then_make_it_self_contained(place, tmp_path, processor, capsys):
    frames, data = place
    moved = tmp_path / "b" / "data"
    moved.parent.mkdir()
    os.rename(data, moved)  # the dataset folder alone: its relative link no longer reaches the frames
    with pytest.raises(ValueError, match=rf"python -m data_prep media {moved} --frames NEW_FRAMES_DIR"):
        load(moved / "viubench.parquet", processor, tmp_path / "c0")
    assert main(["media", str(moved), "--frames", str(frames)]) == 0
    assert tokenize_every_row(load(moved / "viubench.parquet", processor, tmp_path / "c1"), processor) == 9

    new_frames = tmp_path / "c" / "frames"
    new_frames.parent.mkdir()
    os.rename(frames, new_frames)  # now the frames folder: a clear error naming the one-command fix
    with pytest.raises(ValueError, match=rf"python -m data_prep media {moved} --frames NEW_FRAMES_DIR"):
        load(moved / "train.parquet", processor, tmp_path / "c2")
    assert main(["media", str(moved), "--frames", str(new_frames)]) == 0
    assert tokenize_every_row(load(moved / "train.parquet", processor, tmp_path / "c3"), processor) == 6

    before = {p: (moved / p).read_bytes() for p in ("train.parquet", "viubench.parquet")}
    assert main(["media", str(moved), "--copy"]) == 0
    assert "self-contained" in capsys.readouterr().out
    shutil.rmtree(new_frames)  # nothing outside the folder is needed any more
    link = moved / SOURCE_FRAMES
    assert link.is_dir() and not link.is_symlink()
    used = {p for r in read_rows(moved / "train.parquet") + read_rows(moved / "viubench.parquet")
            for v in r["videos"] for p in v["video"] if p.startswith(SOURCE_FRAMES + "/")}
    copied = {str(p.relative_to(moved)) for p in link.rglob("*.jpg")}
    assert copied == used  # exactly the frames the rows show, not the whole frames folder
    assert {p: (moved / p).read_bytes() for p in before} == before  # rows unchanged
    assert "self-contained: this folder alone is the dataset" in (moved / "README.md").read_text()

    # Copied elsewhere (no links left to follow): verl's dataset class, the eval runner and plain
    # `datasets` all read it from the new place.
    final = shutil.copytree(moved, tmp_path / "d" / "data")
    shutil.rmtree(moved)
    assert tokenize_every_row(load(final / "viubench.parquet", processor, tmp_path / "c4"), processor) == 9
    for sample in (to_sample(r, {}) for r in load_rows(final)):
        assert sample.media and all(Path(m).is_file() for m in sample.media)
    hf = datasets.load_dataset("parquet", data_files=str(final / "viubench.parquet"), cache_dir=str(tmp_path / "hf"))
    for row in hf["train"]:
        for video in resolve_videos(row["videos"], final):
            assert all(os.path.isfile(p) for p in video["video"])


def test_self_contained_build_writes_the_same_rows(place, tmp_path):
    frames, data = place
    other = tmp_path / "sc" / "data"
    build_dataset(frames, other, "viubench", per_subtype=1, progress=False, self_contained=True)
    assert (other / "viubench.parquet").read_bytes() == (data / "viubench.parquet").read_bytes()
    assert (other / SOURCE_FRAMES).is_dir() and not (other / SOURCE_FRAMES).is_symlink()
    # A second build into the self-contained folder brings its own frames in.
    build_dataset(frames, other, "videossr30k", size=6, progress=False)
    for parquet in ("viubench.parquet", "train.parquet"):
        for row in read_rows(other / parquet):
            for video in row["videos"]:
                assert all((other / p).is_file() and not (other / p).is_symlink() for p in video["video"])


def test_rows_of_the_old_layout_load_and_migrate_to_the_same_bytes(place, tmp_path, processor):
    frames, data = place
    parquet = data / "viubench.parquet"
    built = parquet.read_bytes()
    old = [{**r, "videos": resolve_videos(r["videos"], data.resolve())} for r in read_rows(parquet)]
    pq.write_table(pa.Table.from_pylist(old), parquet)  # as builds wrote them before: absolute paths
    assert not any(is_portable(r["videos"]) for r in read_rows(parquet))
    assert tokenize_every_row(load(parquet, processor, tmp_path / "c1"), processor) == 9  # still loads
    assert main(["media", str(data)]) == 0
    assert parquet.read_bytes() == built


def test_media_root_option_reads_a_parquet_kept_apart_from_its_frames(place, tmp_path, processor):
    _, data = place
    apart = tmp_path / "elsewhere" / "viubench.parquet"
    apart.parent.mkdir()
    shutil.copyfile(data / "viubench.parquet", apart)
    with pytest.raises(ValueError, match="has no source_frames/"):
        load(apart, processor, tmp_path / "c1")
    assert tokenize_every_row(load(apart, processor, tmp_path / "c2", media_root=str(data)), processor) == 9
    samples = [to_sample(r, {}) for r in load_rows(apart, media_root=data)]
    assert all(Path(m).is_file() for s in samples for m in s.media)


def test_a_dataset_folder_reads_one_frames_folder(place, tmp_path, frames_dir):
    _, data = place
    with pytest.raises(ValueError, match="one dataset folder reads one frames folder"):
        build_dataset(frames_dir, data, "viubench", per_subtype=2, progress=False)
