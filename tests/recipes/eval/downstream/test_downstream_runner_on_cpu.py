"""Downstream runner end to end on real videos with the tiny model, plus its scoring rules."""

from __future__ import annotations

import json

import pytest

from recipes.videossr.eval.cli import main
from recipes.videossr.eval.downstream.items import detect_kind, load_items, resolve_video
from recipes.videossr.eval.downstream.runner import DownstreamConfig, build_samples, score_downstream


def _write(path, items):
    path.write_text(json.dumps(items))
    return path


def test_multiple_choice_run_counts_every_item(synthetic_videos, tiny_qwen25vl_dir, tmp_path, capsys):
    videos = sorted(p.stem for p in synthetic_videos.glob("*.mp4"))[:2]
    items = [{"video": v, "question": "Which colour?\nA. red\nB. blue\nC. green", "answer": "B"} for v in videos]
    items.append({"video": "not_there", "question": "Q?\nA. x\nB. y", "answer": "(A)"})
    path = _write(tmp_path / "mcbench.json", items)
    out = tmp_path / "out"
    argv = ["downstream", "--model", str(tiny_qwen25vl_dir), "--items", str(path), "--videos", str(synthetic_videos),
            "--out", str(out), "--max-frames", "4", "8", "--max-new-tokens", "3", "--quiet"]
    assert main(argv) == 2  # a missing video is not a result of 0: the run says so and stops
    assert "1 of 3 questions have missing input files" in capsys.readouterr().err and not out.exists()
    argv.append("--score-missing-as-zero")  # counted as 0 on purpose
    assert main(argv) == 0
    for budget in ("frames_4", "frames_8"):
        summary = json.loads((out / budget / "summary.json").read_text())
        assert summary["n"] == 3 and summary["settings"]["fps"] == 2.0
        assert summary["settings"]["max_frames"] == int(budget.split("_")[1])
        counts = summary["status_counts"]
        assert counts["missing_video"] == 1 and counts["error"] == 0 and sum(counts.values()) == 3
        records = [json.loads(x) for x in (out / budget / "samples.jsonl").read_text().splitlines()]
        assert summary["accuracy"] == pytest.approx(100 * sum(r["metric"] for r in records) / 3)
        assert records[0]["prompt"].endswith("Answer with the option letter directly.")
    assert "| 4 | 3 |" in (out / "summary.md").read_text()
    before = (out / "frames_4" / "samples.jsonl").read_bytes()
    assert main(argv) == 0  # finished: resumes to the same bytes without asking again
    assert (out / "frames_4" / "samples.jsonl").read_bytes() == before


def _sample(kind, answer, question="Q?\nA. x\nB. y\nC. z"):
    items = [{"video": "v", "question": question, "answer": answer}]
    config = DownstreamConfig(model="m", items="items.json", out="o")
    return build_samples(items, kind, config, 48)[0]


def test_grounding_scoring_and_prompt():
    sample = _sample("tg", [10.0, 20.0], question="person opens a door")
    assert "person opens a door Please return its start time and end time." in sample.prompt
    scored = score_downstream(sample, "The event happens in the 15 - 25 seconds.")
    assert scored.metric == pytest.approx(1 / 3) and scored.parsed == [15.0, 25.0]
    assert score_downstream(sample, "no idea").parsed is None


def test_multiple_choice_scoring():
    sample = _sample("mc", "(B) y")
    assert score_downstream(sample, "B").metric == 1.0
    assert score_downstream(sample, "A").metric == 0.0
    assert score_downstream(sample, "D").parsed is None  # D is not an option of this question


def test_kind_detection_and_video_lookup(tmp_path):
    assert detect_kind([{"answer": [0, 1]}, {"answer": "3.0-4.5"}]) == "tg"
    with pytest.raises(ValueError, match="item 1"):
        detect_kind([{"answer": "A"}, {"answer": [0, 1]}])
    (tmp_path / "clip7.mp4").write_bytes(b"")
    assert resolve_video("clip7", tmp_path) == str(tmp_path / "clip7.mp4")
    path = tmp_path / "items.jsonl"
    path.write_text('{"video": "a", "question": "q", "answer": "A"}\n{"video": "b", "question": "q"}\n')
    with pytest.raises(ValueError, match="item 1 lacks answer"):
        load_items(path)


@pytest.mark.parametrize("max_frames,expected", [(8, 8), (64, 20)])
def test_frames_follow_fps_and_budget(max_frames, expected):
    """bikes.mp4 lasts 10 s: 2 fps gives 20 frames, capped by the frame budget."""
    from data_prep.embedded import embedded_videos
    from recipes.videossr.eval.backends.base import decode_videos

    bikes = next(p for p in embedded_videos() if p.name == "bikes.mp4")
    items = [{"video": str(bikes), "question": "Q?\nA. x\nB. y", "answer": "A"}]
    sample = build_samples(items, "mc", DownstreamConfig(model="m", items="i.json", out="o"), max_frames)[0]
    (frames, metadata), = decode_videos(sample.messages, image_patch_size=14)
    assert frames.shape[0] == expected
    assert frames.shape[2] * frames.shape[3] <= 512 * 512
