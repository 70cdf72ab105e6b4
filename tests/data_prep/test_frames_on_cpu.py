"""Frame stage: bad inputs, manifest, tier policy, skipped decoding, determinism, kill-and-resume, Ray."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from data_prep import decode
from data_prep.builders.splits import split_of
from data_prep.embedded import embedded_videos
from data_prep.executors import available_cores, threads_per_worker
from data_prep.frames import (CONFIG, DEFAULT_TIERS, MANIFEST, PARTIAL, FrameOptions, extract_frames,
                              frame_paths, load_manifest, tiers_for)
from data_prep.synthetic import SynthSpec, render_frames, write_corpus, write_video
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
        split = split_of(record["video_id"])
        assert set(record["tiers"]) == {split}, "the default run writes the video's split tier only"
        assert sorted(p.name for p in folder.iterdir()) == [split]
        files = sorted((folder / split).iterdir())
        assert [f.name for f in files] == [f"{k:03d}.jpg" for k in range(48)]
        size = Image.open(files[0]).size
        assert size == (record["tiers"][split]["width"], record["tiers"][split]["height"])
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
    sizes = decode.tier_sizes(decode.VideoInfo(54, 24.0, 3840, 2160), DEFAULT_TIERS)
    recorded = {t: (size["width"], size["height"]) for t, size in big["tiers"].items()}
    assert recorded and all(sizes[t] == wh for t, wh in recorded.items())
    for tier, budget in DEFAULT_TIERS.items():
        w, h = sizes[tier]
        assert w * h <= budget and w * h > 0.97 * budget
        assert abs(w / h - 3840 / 2160) < 0.02


def _tiers_on_disk(out: Path) -> dict[str, set[str]]:
    return {p.name: {t.name for t in p.iterdir()} for p in out.iterdir() if p.is_dir()}


def test_split_tiers_are_written_only_for_their_split(synthetic_videos, tmp_path, tree_digest):
    """train/eval tiers follow split_of(video_id, eval_fraction); other tiers go to every video."""
    ids = [v.video_id for v in discover_videos([synthetic_videos])]
    assert {split_of(v) for v in ids} == {"train", "eval"}, "the fixture must hold both splits"
    tiers = {"train": 64 * 64, "eval": 96 * 96, "source": 1 << 40}
    out = tmp_path / "split"
    extract_frames([synthetic_videos], out, FrameOptions(tiers=tiers), progress=False)
    expected = {v: {split_of(v), "source"} for v in ids}
    assert _tiers_on_disk(out) == expected
    assert {r["video_id"]: set(r["tiers"]) for r in load_manifest(out)} == expected
    assert json.loads((out / CONFIG).read_text())["eval_fraction"] == 0.2
    # every tier for every video, with the same bytes for the tiers both runs wrote
    every = tmp_path / "all"
    extract_frames([synthetic_videos], every, FrameOptions(tiers=tiers, eval_fraction=None), progress=False)
    assert _tiers_on_disk(every) == {v: set(tiers) for v in ids}
    for v in ids:
        for tier in expected[v]:
            assert tree_digest(out / v / tier) == tree_digest(every / v / tier)
    # another fraction moves videos across: the tiers follow
    half = tmp_path / "half"
    extract_frames([synthetic_videos], half, FrameOptions(tiers=tiers, eval_fraction=0.5), progress=False)
    assert _tiers_on_disk(half) == {v: {split_of(v, 0.5), "source"} for v in ids}
    assert set(tiers_for(ids[0], FrameOptions(tiers=tiers, eval_fraction=1.0))) == {"eval", "source"}
    with pytest.raises(ValueError, match=r"eval_fraction must be a number in \[0, 1\]"):
        FrameOptions(eval_fraction=1.5)


def _x264(path: Path, params: str, seconds: float = 4.0) -> Path:
    """A synthetic H.264 clip with explicit x264 parameters (B-frame structure, GOP)."""
    spec = SynthSpec(width=160, height=96, fps=24, seconds=seconds)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {"preset": "veryfast", "threads": "1", "x264-params": params}
        for index, rgb in enumerate(render_frames(spec, seed=5)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, spec.fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


# H.264 layouts whose unplanned non-reference frames are skipped: B-frames, B-pyramid, open GOPs, MKV.
SKIPPABLE = {
    "bframes.mp4": "bframes=3:b-pyramid=none",
    "pyramid.mkv": "bframes=5:b-pyramid=normal:b-adapt=2",
    "open_gop.mp4": "bframes=3:open-gop=1:keyint=20:min-keyint=20",
}


def _frames(path: Path, skip: bool, threads: int) -> dict:
    info = decode.probe(path)
    plan = decode.plan_for(info, 48, (0.05, 0.95), "paper")
    return decode.decode_planned_frames(path, plan, decode.tier_sizes(info, DEFAULT_TIERS), threads, skip)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(x, y) for t in a for x, y in zip(a[t], b[t]))


def _plan(path: Path):
    return decode.plan_for(decode.probe(path), 48, (0.05, 0.95), "paper")


def test_skipping_unplanned_frames_gives_the_same_pixels(tmp_path, monkeypatch):
    skippable = [_x264(tmp_path / name, params) for name, params in SKIPPABLE.items()]
    others = list(embedded_videos())
    if "libx265" in av.codecs_available:  # HEVC is never skipped, and stays right
        others.append(write_video(tmp_path / "x265.mp4", SynthSpec(160, 96, codec="libx265"), seed=9))
    for path in skippable + others:
        reference = _frames(path, skip=False, threads=1)
        for threads in (1, 2):
            got = _frames(path, skip=True, threads=threads)
            assert _same(reference, got), path.name
    for path in skippable:  # the skipping path really ran (no silent fallback)
        decode._decode(path, _plan(path), {}, 1, skip=True)
    # a reordering deeper than the lookahead is caught, and the video decodes the plain way
    monkeypatch.setattr(decode, "LOOKAHEAD", 0)
    path = skippable[0]
    with pytest.raises(decode._Unprovable):
        decode._decode(path, _plan(path), {}, 1, skip=True)
    assert _same(_frames(path, skip=False, threads=1), _frames(path, skip=True, threads=1))


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
    extract_frames([video.parent], out, FrameOptions(eval_fraction=0.0), progress=False)
    record = load_manifest(out)[0]
    greens = [np.asarray(Image.open(p))[..., 1].mean() for p in frame_paths(out, record, "train")]
    expected = [(i * 7) % 256 for i in record["frame_indices"]]
    assert np.allclose(greens, expected, atol=6), (greens[:5], expected[:5])


def test_same_inputs_give_identical_bytes(synthetic_videos, tmp_path, tree_digest):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    extract_frames([synthetic_videos], a, progress=False)
    extract_frames([synthetic_videos], b, workers=2, progress=False)
    extract_frames([synthetic_videos], c, FrameOptions(decode_threads=1), workers=3, progress=False)
    assert tree_digest(a) == tree_digest(b) == tree_digest(c)


def test_workers_share_the_cores_with_the_decoders(synthetic_videos, tmp_path, monkeypatch):
    assert [threads_per_worker(w, cores=8) for w in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    assert threads_per_worker(1) == available_cores() >= 1
    seen = []
    real = decode.decode_planned_frames

    def spy(*args, threads, **kwargs):
        seen.append(threads)
        return real(*args, threads=threads, **kwargs)

    monkeypatch.setattr(decode, "decode_planned_frames", spy)
    extract_frames([synthetic_videos], tmp_path / "one", progress=False)
    assert set(seen) == {min(16, available_cores())}
    seen.clear()
    extract_frames([synthetic_videos], tmp_path / "two", FrameOptions(decode_threads=3), progress=False)
    assert set(seen) == {3}


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
    out = tmp_path / "out"
    extract_frames([synthetic_videos], out, progress=False)
    others = (FrameOptions(num_frames=32), FrameOptions(eval_fraction=0.5), FrameOptions(eval_fraction=None))
    for other in others:
        with pytest.raises(ValueError, match="different options"):
            extract_frames([synthetic_videos], out, other, progress=False)
    threads_only = FrameOptions(decode_threads=1)  # speed only: the same folder
    assert extract_frames([synthetic_videos], out, threads_only, progress=False).newly_done == 0
    # a folder from before eval_fraction existed holds every tier: it resumes as --all-tiers
    config = json.loads((out / CONFIG).read_text())
    del config["eval_fraction"]
    (out / CONFIG).write_text(json.dumps(config))
    with pytest.raises(ValueError, match="eval_fraction null: --all-tiers"):
        extract_frames([synthetic_videos], out, progress=False)
    every_tier = FrameOptions(eval_fraction=None)
    assert extract_frames([synthetic_videos], out, every_tier, progress=False).newly_done == 0


def test_cli_reports_and_exits_cleanly(synthetic_videos, tmp_path):
    from data_prep.cli import main

    assert main(["frames", "--videos", str(synthetic_videos), "--out", str(tmp_path / "o"), "--no-progress",
                 "--tiers", "train=128*128"]) == 0
    records = load_manifest(tmp_path / "o", only_ok=False)
    assert {r["status"] for r in records} == {"ok"}
    assert {split_of(r["video_id"]) for r in records} == {"train", "eval"}
    for record in records:  # eval videos get no train tier, and no frames
        assert set(record["tiers"]) == ({"train"} if split_of(record["video_id"]) == "train" else set())
    assert main(["frames", "--videos", str(synthetic_videos), "--out", str(tmp_path / "a"), "--no-progress",
                 "--tiers", "train=128*128", "--all-tiers"]) == 0
    assert all(set(r["tiers"]) == {"train"} for r in load_manifest(tmp_path / "a"))
    assert main(["frames", "--videos", str(synthetic_videos), "--out", str(tmp_path / "h"), "--no-progress",
                 "--tiers", "train=128*128", "--eval-fraction", "0.5"]) == 0
    assert json.loads((tmp_path / "h" / CONFIG).read_text())["eval_fraction"] == 0.5
    assert main(["frames", "--videos", str(tmp_path / "missing"), "--out", str(tmp_path / "o2")]) == 2
    with pytest.raises(SystemExit) as exit_info:  # an impossible value: argparse's error, before any work
        main(["frames", "--videos", str(synthetic_videos), "--out", str(tmp_path / "x"), "--eval-fraction", "2"])
    assert exit_info.value.code == 2 and not (tmp_path / "x").exists()
    with pytest.raises(SystemExit):  # one or the other
        main(["frames", "--videos", "v", "--out", "o", "--all-tiers", "--eval-fraction", "0.2"])


@pytest.mark.ray
def test_ray_path_gives_the_same_output(synthetic_videos, tmp_path, tree_digest):
    pytest.importorskip("ray")
    local, pool, ray_out = tmp_path / "local", tmp_path / "pool", tmp_path / "ray"
    extract_frames([synthetic_videos], local, progress=False)
    extract_frames([synthetic_videos], pool, workers=2, progress=False)
    summary = extract_frames([synthetic_videos], ray_out, workers=2, ray_address="local", progress=False)
    assert summary.ok == len(discover_videos([synthetic_videos]))
    assert tree_digest(local) == tree_digest(pool) == tree_digest(ray_out)
