"""The bench runner end to end: a 32/48/64 sweep through the HF backend with the tiny model on a
release fixture, resumed after kill -9 to the same table; missing videos; other settings refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recipes.videossr.eval.bench.tables import write_tables
from recipes.videossr.eval.cli import main

REPO = Path(__file__).resolve().parents[4]
SWEEP = ["--max-frames", "32", "48", "64"]


def _charades(root: Path, make_video, videos: int = 4) -> Path:
    lines = [f"VID{k} {k}.0 {k + 1}.5##a person does thing {k}" for k in range(videos)]
    (root / "charades_sta_test.txt").write_text("\n".join(lines) + "\n")
    for k in range(videos):
        make_video(root / "Charades_v1_480" / f"VID{k}.mp4", seed=k)
    return root


def _argv(root, model, out, *extra):
    return ["bench", "charades", "--root", str(root), "--model", str(model), "--out", str(out), *SWEEP,
            "--max-new-tokens", "6", "--batch-size", "1", "--label", "tiny", "--quiet", *extra]


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.slow
def test_sweep_resumed_after_kill_9_gives_the_same_table(release_root, make_video, tiny_qwen3vl_dir, tmp_path):
    root = _charades(release_root, make_video)
    clean = tmp_path / "clean"
    assert main(_argv(root, tiny_qwen3vl_dir, clean)) == 0
    summary = json.loads((clean / "summary.json").read_text())
    assert sorted(summary["budgets"], key=int) == ["32", "48", "64"]
    for frames, s in summary["budgets"].items():
        assert s["settings"]["max_frames"] == int(frames) and s["settings"]["fps"] == 2.0
        assert sum(s["status_counts"].values()) == 4 and s["strict"]["n"] == 4
        assert s["paper"]["n"] + sum(s["paper"]["excluded"].values()) == 4
        prompts = [json.loads(x)["prompt"] for x in (clean / f"frames_{frames}" / "samples.jsonl").read_text().splitlines()]
        assert prompts[0].endswith("a person does thing 0 Please return its start time and end time.")

    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "recipes.videossr.eval", *_argv(root, tiny_qwen3vl_dir, killed)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while _lines(killed / "frames_32" / "samples.jsonl") < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "frames_64" / "summary.json").exists(), "the run finished before it was killed"
    assert main(_argv(root, tiny_qwen3vl_dir, killed)) == 0  # resume
    for frames in ("32", "48", "64"):
        name = f"frames_{frames}"
        assert (killed / name / "samples.jsonl").read_bytes() == (clean / name / "samples.jsonl").read_bytes()
    a = write_tables([str(clean)], str(tmp_path / "tables_clean"))
    b = write_tables([str(killed)], str(tmp_path / "tables_killed"))
    assert a == b and "| tiny | 32 |" in a and "| paper: VideoSSR-8B | 48 |" in a
    for name in ("tables.csv", "tables.png"):
        assert (tmp_path / "tables_clean" / name).read_bytes() == (tmp_path / "tables_killed" / name).read_bytes()


@pytest.mark.slow
def test_missing_videos_are_listed_refused_over_the_threshold_and_excluded_by_the_paper(
        release_root, make_video, tiny_qwen25vl_dir, tmp_path, capsys):
    root = _charades(release_root, make_video)
    (root / "Charades_v1_480" / "VID3.mp4").unlink()
    out = tmp_path / "out"
    argv = _argv(root, tiny_qwen25vl_dir, out)[:-9] + ["--max-frames", "8", "--max-new-tokens", "4", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "1 of 4 items have missing videos" in err and "--max-missing" in err and "VID3.mp4" in err
    assert (out / "missing.txt").read_text().strip().endswith("VID3.mp4")
    assert not (out / "frames_8").exists()  # refused before the model loaded
    assert main(argv + ["--max-missing", "0.25"]) == 0
    s = json.loads((out / "frames_8" / "summary.json").read_text())
    assert s["status_counts"]["missing_video"] == 1
    assert s["paper"]["excluded"]["missing_video"] == 1 and s["strict"]["n"] == 4
    # the same folder with other settings is refused, naming what differs
    assert main(argv + ["--max-missing", "0.25", "--max-pixels", "65536"]) == 2
    assert "max_pixels" in capsys.readouterr().err


def test_bench_list_and_missing_arguments(capsys):
    assert main(["bench", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "charades" in listed and "charades_sta_test.txt" in listed
    assert main(["bench", "charades"]) == 2
    assert "bench needs --root, --model, --out" in capsys.readouterr().err


def test_a_wrong_root_is_one_line(tmp_path, capsys):
    assert main(["bench", "charades", "--root", str(tmp_path), "--model", "m", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --root") and "missing charades_sta_test.txt" in err and "\n" not in err


def test_questions_on_the_same_video_are_asked_one_after_the_other():
    """The backends keep the last few decoded videos: interleaved questions would decode a video again."""
    from recipes.videossr.eval.bench.registry import get_benchmark
    from recipes.videossr.eval.bench.runner import BenchConfig, build_samples
    from recipes.videossr.eval.bench.spec import Item

    items = [Item(f"q{k}", (f"/v/{'ab'[k % 2]}.mp4",), "Q?\nA. x\nB. y", "A") for k in range(6)]
    config = BenchConfig(benchmark="mvbench", root="/r", model="m", out="/o")
    samples = build_samples(get_benchmark("mvbench"), items, config, 32)
    assert [s.media[0] for s in samples] == ["/v/a.mp4"] * 3 + ["/v/b.mp4"] * 3
    assert [s.id for s in samples] == ["q0", "q2", "q4", "q1", "q3", "q5"]
