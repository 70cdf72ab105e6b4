"""VideoSSRDataset: loads built rows through verl's RLHFDataset, names bad rows, decodes a prompt's
clips once for all rollout sessions (same result as verl's stock path), fresh jigsaw puzzles."""

from __future__ import annotations

import asyncio
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from omegaconf import OmegaConf
from transformers import AutoProcessor
from verl.utils.dataset.rl_dataset import RLHFDataset

from data_prep.media import resolve_videos
from recipes.videossr.dataset import VideoSSRDataset, recipe_options
from recipes.videossr.jigsaw_reshuffle import original_order


def data_config(tmp_path, **videossr):
    return OmegaConf.create({
        "max_prompt_length": 8192, "filter_overlong_prompts": False, "return_raw_chat": True,
        "cache_dir": str(tmp_path / "cache"), "video_key": "videos", "image_patch_size": 16,
        "videossr": videossr,
    })


@pytest.fixture(scope="module")
def processor(tiny_qwen3vl_dir):
    return AutoProcessor.from_pretrained(tiny_qwen3vl_dir)


def make(files, tmp_path, processor, max_samples=-1, filter_overlong_prompts=False, **videossr):
    config = data_config(tmp_path, **videossr)
    config.filter_overlong_prompts = filter_overlong_prompts
    return VideoSSRDataset([str(f) for f in files], processor.tokenizer, config, processor, max_samples=max_samples)


def write_rows(rows, path, media_root):
    """Rows edited by a test, written elsewhere in the layout before portable paths (absolute ones)."""
    rows = [{**r, "videos": resolve_videos(r["videos"], media_root)} for r in rows]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def video_items(messages):
    return [i for m in messages if isinstance(m["content"], list) for i in m["content"] if i.get("type") == "video"]


def test_loads_every_row_with_one_video_item_per_tag(tmp_path, videossr_data_dir, processor):
    files = [videossr_data_dir / "train.parquet", videossr_data_dir / "viubench.parquet"]
    ds = make(files, tmp_path, processor)
    rows = [r for f in files for r in pq.read_table(f).to_pylist()]
    assert len(ds) == len(rows) == 12 + 9
    for i in range(len(ds)):
        item = ds[i]
        assert len(video_items(item["raw_prompt"])) == len(rows[i]["videos"])
        assert item["reward_model"]["ground_truth"] == rows[i]["reward_model"]["ground_truth"]


def test_bad_rows_are_reported_with_file_and_row(tmp_path, videossr_data_dir, processor):
    rows = pq.read_table(videossr_data_dir / "train.parquet").to_pylist()
    rows[1]["videos"] = rows[1]["videos"][:-1] or [rows[1]["videos"][0], rows[1]["videos"][0]]
    rows[2]["videos"][0]["video"][0] = str(tmp_path / "moved" / "000.jpg")
    rows[3]["reward_model"]["ground_truth"] = ""
    bad = write_rows(rows, tmp_path / "bad.parquet", videossr_data_dir)
    with pytest.raises(ValueError) as err:
        make([bad], tmp_path, processor)
    text = str(err.value)
    assert "3 problem(s)" in text
    assert "bad.parquet row 1: the prompt has" in text
    assert f"bad.parquet row 2: videos[0] frame file not found: {tmp_path / 'moved' / '000.jpg'}" in text
    assert "bad.parquet row 3: 'reward_model' must be a dict with a non-empty 'ground_truth'" in text
    # The check can be switched off (e.g. for data produced elsewhere), and then loading works.
    assert len(make([bad], tmp_path, processor, validate_rows=False)) == len(rows)


def test_rows_of_the_second_file_are_numbered_in_that_file(tmp_path, videossr_data_dir, processor):
    rows = pq.read_table(videossr_data_dir / "viubench.parquet").to_pylist()
    k = next(i for i, r in enumerate(rows) if r["data_source"].startswith("videossr/jigsaw/"))
    rows[k]["reward_model"]["ground_truth"] = "1" * len(rows[k]["reward_model"]["ground_truth"])
    bad = write_rows(rows, tmp_path / "bad.parquet", videossr_data_dir)
    with pytest.raises(ValueError) as err:
        make([videossr_data_dir / "train.parquet", bad], tmp_path, processor)
    # Caught at start-up: the reward would raise on this answer mid-run.
    assert "1 problem(s)" in str(err.value)
    assert f"bad.parquet row {k}: reward_model.ground_truth does not parse for the jigsaw reward" in str(err.value)


def test_a_max_samples_subset_is_validated_as_loaded(tmp_path, videossr_data_dir, processor):
    rows = pq.read_table(videossr_data_dir / "train.parquet").to_pylist()
    rows[1]["reward_model"]["ground_truth"] = rows[8]["reward_model"]["ground_truth"] = ""
    bad = write_rows(rows, tmp_path / "bad.parquet", videossr_data_dir)
    with pytest.raises(ValueError) as err:
        make([bad], tmp_path, processor, max_samples=5)
    text = str(err.value)
    # Only the 5 loaded rows are checked; the subset no longer lines up with the file's rows.
    assert "1 problem(s)" in text and "bad.parquet'] as loaded" in text
    assert "\n  row 1: 'reward_model' must be a dict with a non-empty 'ground_truth'" in text


def test_bad_rows_are_named_before_verls_length_filter_drops_them(tmp_path, videossr_data_dir, processor):
    rows = pq.read_table(videossr_data_dir / "train.parquet").to_pylist()
    rows[2]["videos"][0]["video"][0] = str(tmp_path / "moved" / "000.jpg")
    bad = write_rows(rows, tmp_path / "bad.parquet", videossr_data_dir)
    with pytest.raises(ValueError, match="bad.parquet row 2: videos.0. frame file not found"):
        make([bad], tmp_path, processor, filter_overlong_prompts=True)


def test_unknown_option_is_an_error():
    with pytest.raises(ValueError, match="unknown data.videossr option"):
        recipe_options({"videossr": {"fresh_jigsw": True}})


def test_n_sessions_decode_each_clip_once_and_match_verls_stock_output(tmp_path, videossr_data_dir, processor):
    ds = make([videossr_data_dir / "viubench.parquet"], tmp_path, processor)
    jigsaw = next(i for i in range(len(ds)) if ds[i]["data_source"] == "videossr/jigsaw/n8")
    messages = ds[jigsaw]["raw_prompt"]
    cfg = data_config(tmp_path)
    VideoSSRDataset._clip_cache.clear()

    async def sessions(n):  # the rollout.n sessions of one prompt start together
        return await asyncio.gather(*[VideoSSRDataset.process_multi_modal_info(messages, 16, cfg) for _ in range(n)])

    results = asyncio.run(sessions(8))
    stats = VideoSSRDataset.cache_stats()
    assert stats["decodes"] == 8  # 8 clips, each decoded once
    assert stats["hits"] == 7 * 8  # the other 7 sessions were served from the cache
    _, stock_videos, _ = RLHFDataset._process_multi_modal_info(messages, 16, cfg)
    for images, videos, _ in results:
        assert images is None and len(videos) == len(stock_videos) == 8
        for (frames, meta), (stock_frames, stock_meta) in zip(videos, stock_videos):
            assert torch.equal(frames, stock_frames) and meta == stock_meta


def test_fresh_jigsaw_rewrites_order_and_answer_consistently(tmp_path, videossr_data_dir, processor):
    files = [videossr_data_dir / "train.parquet"]
    ds = make(files, tmp_path, processor, fresh_jigsaw=True, fresh_jigsaw_seed=3)
    stored = make(files, tmp_path, processor)
    jigsaws = [i for i in range(len(ds)) if ds[i]["data_source"].startswith("videossr/jigsaw/")]
    assert jigsaws
    answers = set()
    for i in jigsaws:
        for _ in range(3):
            item = ds[i]
            answer = item["reward_model"]["ground_truth"]
            assert item["extra_info"]["answer"] == answer
            shown = [clip["video"][0] for clip in video_items(item["raw_prompt"])]
            # The new answer puts the clips back in temporal order (frame files are numbered in time).
            assert original_order(shown, answer) == sorted(shown)
            meta = json.loads(item["extra_info"]["meta"])
            assert [shown.index(sorted(shown)[k]) for k in range(len(shown))] == [
                meta["shown_order"].index(k) for k in range(len(shown))]
            answers.add((i, answer))
        # Stored rows are untouched by the fresh dataset.
        assert stored[i]["reward_model"]["ground_truth"] == pq.read_table(files[0]).to_pylist()[i]["reward_model"]["ground_truth"]
    assert len(answers) > len(jigsaws)  # accesses see new puzzles
    # Same seed, same access sequence -> the same puzzles.
    first, second = (make(files, tmp_path, processor, fresh_jigsaw=True, fresh_jigsaw_seed=3) for _ in range(2))
    assert [first[i]["reward_model"]["ground_truth"] for i in jigsaws * 2] == [
        second[i]["reward_model"]["ground_truth"] for i in jigsaws * 2]


def test_fresh_jigsaw_leaves_evaluation_rows_alone(tmp_path, videossr_data_dir, processor):
    files = [videossr_data_dir / "viubench.parquet"]
    ds = make(files, tmp_path, processor, fresh_jigsaw=True, fresh_jigsaw_seed=3)
    rows = pq.read_table(files[0]).to_pylist()
    for i, row in enumerate(rows):
        assert ds[i]["reward_model"]["ground_truth"] == row["reward_model"]["ground_truth"]
