"""Frame stage: bad inputs, manifest, determinism, kill-and-resume, source folders, Ray."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_prep.frames import MANIFEST, PARTIAL, FrameOptions, extract_frames, frame_paths, load_manifest
from data_prep.synthetic import SynthSpec, write_corpus
from data_prep.video_ids import discover_videos

sys.path.insert(0, str(Path(__file__).parent))
from bad_videos import audio_only, encode  # noqa: E402


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


# (file name, how to make it, expected status, substring of the reason)
BAD_INPUTS = [
    ("ok.mp4", lambda p: encode(p, 120, 64, 48), "ok", ""),
    ("portrait.mp4", lambda p: encode(p, 120, 48, 96), "ok", ""),
    ("odd_size.avi", lambda p: encode(p, 120, 161, 121, codec="rawvideo"), "ok", ""),
    ("variable_fps.mkv", lambda p: encode(p, 120, 64, 48, pts_ms=[i * 40 + (i % 3) * 13 for i in range(120)]), "ok", ""),
    ("uhd_4k.mp4", lambda p: encode(p, 54, 3840, 2160), "ok", ""),
    ("empty.mp4", lambda p: p.write_bytes(b""), "skipped", "empty file"),
    ("text_with_video_ext.mp4", lambda p: p.write_text("this is not a video"), "skipped", "not a readable video"),
    ("audio_only.mp4", audio_only, "skipped", "no video stream"),
    ("shorter_than_48.mp4", lambda p: encode(p, 30, 64, 48), "skipped", "too short"),
    ("one_frame.mp4", lambda p: encode(p, 1, 64, 48), "skipped", "too short"),
    ("one_pixel_wide.avi", lambda p: encode(p, 120, 1, 48, codec="rawvideo"), "skipped", "too small"),
    ("truncated.mp4", lambda p: p.write_bytes(encode(p, 120, 64, 48).read_bytes()[:3000]), "skipped", "not a readable video"),
    ("truncated.avi", lambda p: p.write_bytes(encode(p, 120, 161, 121, codec="rawvideo").read_bytes()[: 161 * 121 * 3 * 60]),
     "skipped", "decoding failed"),
]


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad") / "inputs"
    folder.mkdir()
    for name, make, _, _ in BAD_INPUTS:
        make(folder / name)
    return folder


@pytest.fixture(scope="module")
def bad_run(bad_corpus, tmp_path_factory):
    before = snapshot(bad_corpus)
    out = tmp_path_factory.mktemp("bad_out") / "frames"
    summary = extract_frames([bad_corpus], out, progress=False)
    assert snapshot(bad_corpus) == before, "the frame stage wrote into the source folder"
    records = {r["source_key"].split("/", 1)[1]: r for r in load_manifest(out, only_ok=False)}
    return out, summary, records


@pytest.mark.parametrize("name,make,status,reason", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_each_input_gets_the_expected_status(bad_run, name, make, status, reason):
    out, _, records = bad_run
    record = records[name]
    assert record["status"] == status, record
    assert reason in record["reason"]
    folder = out / record["video_id"]
    if status == "ok":
        for tier in ("train", "eval"):
            files = sorted((folder / tier).iterdir())
            assert [f.name for f in files] == [f"{k:03d}.jpg" for k in range(48)]
            size = Image.open(files[0]).size
            assert size == (record["tiers"][tier]["width"], record["tiers"][tier]["height"])
    else:
        assert not folder.exists(), "a skipped video must leave no frame folder"
        assert record["reason"] and "/" not in record["reason"], "reason is human readable and path-free"


def test_summary_and_manifest_are_complete(bad_run):
    out, summary, records = bad_run
    assert (summary.total, summary.ok, summary.skipped) == (len(BAD_INPUTS), 5, len(BAD_INPUTS) - 5)
    lines = (out / MANIFEST).read_text().splitlines()
    ids = [json.loads(line)["video_id"] for line in lines]
    assert ids == sorted(ids), "the finished manifest is sorted by video id"
    assert not (out / PARTIAL).exists()


def test_tiers_respect_pixel_budgets_and_aspect(bad_run):
    _, _, records = bad_run
    big = records["uhd_4k.mp4"]
    for tier, budget in FrameOptions().tiers.items():
        w, h = big["tiers"][tier]["width"], big["tiers"][tier]["height"]
        assert w * h <= budget and w * h > 0.97 * budget
        assert abs(w / h - 3840 / 2160) < 0.02


def test_manifest_records_the_paper_sampling(frames_dir):
    record = next(r for r in load_manifest(frames_dir) if r["source_key"].endswith("bikes.mp4"))
    # bikes.mp4: 250 frames at 25 fps -> start 12, end 237, step 4; paper sample_fps = 48 / 10 s.
    assert record["total_frames"] == 250 and record["fps"] == 25.0
    assert record["frame_indices"] == [12 + 4 * i for i in range(48)]
    assert record["sample_fps"] == pytest.approx(4.8)
    assert record["duration"] == pytest.approx(10.0)
    assert len(frame_paths(frames_dir, record, "train")) == 48


def test_stored_frames_are_the_planned_source_frames(tmp_path):
    """Frame k of the output shows source frame indices[k] (content check, not just counts)."""
    video = encode(tmp_path / "src" / "ramp.mp4", 100, 64, 48, codec="libx264")
    out = tmp_path / "out"
    extract_frames([video.parent], out, progress=False)
    record = load_manifest(out)[0]
    greens = [np.asarray(Image.open(p))[..., 1].mean() for p in frame_paths(out, record, "train")]
    expected = [(i * 7) % 256 for i in record["frame_indices"]]
    assert np.allclose(greens, expected, atol=6), (greens[:5], expected[:5])


def test_same_inputs_give_identical_bytes(synthetic_videos, tmp_path, tree_digest):
    a, b = tmp_path / "a", tmp_path / "b"
    extract_frames([synthetic_videos], a, progress=False)
    extract_frames([synthetic_videos], b, workers=2, progress=False)
    assert tree_digest(a) == tree_digest(b)


def test_rerun_on_finished_output_does_no_work(synthetic_videos, tmp_path, tree_digest):
    out = tmp_path / "out"
    extract_frames([synthetic_videos], out, progress=False)
    digest, mtimes = tree_digest(out), snapshot(out)
    summary = extract_frames([synthetic_videos], out, progress=False)
    assert summary.newly_done == 0
    assert tree_digest(out) == digest
    assert {k: v for k, v in snapshot(out).items() if not k.endswith(".jpg")}.keys() == {
        k for k in mtimes if not k.endswith(".jpg")
    }


def test_resume_repairs_torn_manifest_and_stale_folders(synthetic_videos, tmp_path, tree_digest):
    reference = tmp_path / "reference"
    extract_frames([synthetic_videos], reference, progress=False)
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    lines = (out / MANIFEST).read_text().splitlines(keepends=True)
    # Keep 5 complete lines, then a torn 6th; leave the 6th video's finished folder (killed between
    # rename and manifest append) and a half-written partial folder.
    (out / MANIFEST).write_text("".join(lines[:5]) + lines[5][:40])
    (out / PARTIAL / "x.123.abc" / "train").mkdir(parents=True)
    (out / PARTIAL / "x.123.abc" / "train" / "000.jpg").write_bytes(b"half")
    summary = extract_frames([synthetic_videos], out, progress=False)
    assert summary.newly_done == len(lines) - 5
    assert tree_digest(out) == tree_digest(reference)


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_matches_uninterrupted_run(tmp_path, tree_digest):
    videos = tmp_path / "videos"
    write_corpus(videos, 10, seed=3, spec=SynthSpec(width=320, height=240, fps=24, seconds=6))
    reference = tmp_path / "reference"
    extract_frames([videos], reference, progress=False)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "data_prep", "frames", "--videos", str(videos), "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:  # kill once some, but not all, videos are done
        manifest = out / MANIFEST
        if manifest.exists() and manifest.read_text().count("\n") >= 2:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = (out / MANIFEST).read_text().count("\n")
    assert done_before < 10, "the run finished before it could be killed; use more videos"
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    assert tree_digest(out) == tree_digest(reference)


def test_output_inside_a_source_folder_is_refused(synthetic_videos):
    before = snapshot(synthetic_videos)
    with pytest.raises(ValueError, match="inside the source folder"):
        extract_frames([synthetic_videos], synthetic_videos / "frames", progress=False)
    assert snapshot(synthetic_videos) == before


def test_resume_with_different_options_is_refused(synthetic_videos, tmp_path):
    extract_frames([synthetic_videos], tmp_path / "out", progress=False)
    with pytest.raises(ValueError, match="different options"):
        extract_frames([synthetic_videos], tmp_path / "out", FrameOptions(num_frames=32), progress=False)


def test_cli_reports_and_exits_cleanly(synthetic_videos, tmp_path):
    from data_prep.cli import main

    assert main(["frames", "--videos", str(synthetic_videos), "--out", str(tmp_path / "o"), "--no-progress",
                 "--tiers", "train=128*128"]) == 0
    record = load_manifest(tmp_path / "o")[0]
    assert set(record["tiers"]) == {"train"}
    assert main(["frames", "--videos", str(tmp_path / "missing"), "--out", str(tmp_path / "o2")]) == 2


@pytest.mark.ray
def test_ray_path_gives_the_same_output(synthetic_videos, tmp_path, tree_digest):
    pytest.importorskip("ray")
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    extract_frames([synthetic_videos], local, progress=False)
    summary = extract_frames([synthetic_videos], ray_out, workers=2, ray_address="local", progress=False)
    assert summary.ok == len(discover_videos([synthetic_videos]))
    assert tree_digest(local) == tree_digest(ray_out)
