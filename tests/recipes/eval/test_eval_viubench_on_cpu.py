"""VIUBench end to end: built demo data, tiny Qwen2.5-VL, transformers backend, real scorer.

The tiny model is random, so its numbers are ~0: these tests check the pipeline, the outputs and
the accounting (every question counted), and that a killed run resumes without redoing work.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

import rewards
from data_prep.media import resolve_videos
from recipes.videossr.eval.cli import main
from recipes.videossr.eval.columns import table_headers

REPO = Path(__file__).resolve().parents[3]


def _args(model: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return ["viubench", "--model", str(model), "--data", str(data), "--out", str(out), "--quiet", *extra]


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def test_end_to_end_with_failures(viubench_parquet, tiny_qwen25vl_dir, tmp_path):
    # Written elsewhere in the layout before portable paths (absolute frame paths): still evaluated.
    rows = [{**r, "videos": resolve_videos(r["videos"], viubench_parquet.parent)}
            for r in pq.read_table(viubench_parquet).to_pylist()]
    # Row 2: one frame missing on disk. Row 4: one frame is not an image (decoding raises).
    rows[2]["videos"][0]["video"][5] = str(tmp_path / "deleted.jpg")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    rows[4]["videos"][0]["video"][0] = str(broken)
    data = tmp_path / "viubench.parquet"
    pq.write_table(pa.Table.from_pylist(rows), data)
    out = tmp_path / "run"

    assert main(_args(tiny_qwen25vl_dir, data, out, "--batch-size", "4", "--max-new-tokens", "4", "--label", "tiny",
                      "--score-missing-as-zero")) == 0

    records = _records(out)
    assert len(records) == 9 and len({r["id"] for r in records}) == 9
    by_id = {r["id"]: r for r in records}
    assert by_id["viubench:00002"]["status"] == "missing_video" and by_id["viubench:00002"]["output"] is None
    assert by_id["viubench:00004"]["status"] == "error" and by_id["viubench:00004"]["error"]
    for r in records:
        assert {"id", "subtype", "prompt", "output", "parsed", "metric", "status"} <= set(r)
        if r["status"] in ("ok", "unparsable"):  # the metric is the rewards scorer's, failures are 0
            expected = rewards.score(r["data_source"], r["output"], r["answer"])
            assert r["metric"] == (expected["acc"] if expected["parsed"] else 0.0)
            assert (r["status"] == "ok") == bool(expected["parsed"])
        else:
            assert r["metric"] == 0.0

    summary = json.loads((out / "summary.json").read_text())
    assert sum(c["n"] for c in summary["counts"].values()) == 9
    assert sum(c["missing_video"] for c in summary["counts"].values()) == 1
    assert sum(c["error"] for c in summary["counts"].values()) == 1
    labels = [r["label"] for r in summary["rows"]]
    assert labels == ["tiny", "Random guess", "Best constant (fitted on these answers)"]
    table = list(csv.reader((out / "results.csv").open()))
    assert table[0] == ["model", *table_headers()] and [t[0] for t in table[1:]] == labels
    assert float(table[2][1]) == pytest.approx(100 / 9, abs=0.01)  # random guess, counting easy
    md = (out / "results.md").read_text()
    assert "| **all** | 9 |" in md and "missing_video" in md
    assert Image.open(out / "results.png").size[0] > 500


def test_resume_after_kill(viubench_parquet, tiny_qwen25vl_dir, tmp_path):
    out = tmp_path / "run"
    args = _args(tiny_qwen25vl_dir, viubench_parquet, out, "--batch-size", "1", "--max-new-tokens", "12")
    proc = subprocess.Popen([sys.executable, "-m", "recipes.videossr.eval", *args], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = out / "samples.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if samples.exists() and samples.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail("the run ended before it could be killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r["id"]: r for r in (json.loads(x) for x in samples.read_text().splitlines() if x.endswith("}"))}
    assert 2 <= len(before) < 9

    assert main(args) == 0
    after = _records(out)
    assert len(after) == 9 and len({r["id"] for r in after}) == 9
    for r in after:  # finished questions were kept, not asked again
        if r["id"] in before:
            assert r == before[r["id"]]
    assert not list(out.glob(".*tmp*"))  # no half-written outputs left behind


def test_other_run_in_same_folder_is_refused(viubench_parquet, tiny_qwen25vl_dir, tiny_qwen3vl_dir, tmp_path, capsys):
    out = tmp_path / "run"
    data = shutil.copytree(viubench_parquet.parent, tmp_path / "data", symlinks=True) / "viubench.parquet"
    assert main(_args(tiny_qwen25vl_dir, data, out, "--limit", "1", "--max-new-tokens", "2")) == 0
    assert main(_args(tiny_qwen3vl_dir, data, out, "--limit", "1", "--max-new-tokens", "2")) == 2
    assert "differs in: model" in capsys.readouterr().err


def test_same_inputs_same_bytes(viubench_parquet, tiny_qwen25vl_dir, tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert main(_args(tiny_qwen25vl_dir, viubench_parquet, out, "--batch-size", "3", "--max-new-tokens", "3", "--limit", "5")) == 0
    names = ["run.json", "samples.jsonl", "results.md", "results.csv", "summary.json", "results.png"]
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert sorted(p.name for p in outs[0].iterdir()) == sorted(names)


def test_malformed_ground_truth_stops_before_generation(viubench_parquet, tmp_path, capsys):
    rows = pq.read_table(viubench_parquet).to_pylist()
    rows[7]["reward_model"]["ground_truth"] = "12x"  # jigsaw n6 answer that is no order
    data = tmp_path / "viubench.parquet"
    pq.write_table(pa.Table.from_pylist(rows), data)
    # the model path does not exist: reaching generation would fail differently
    assert main(_args(tmp_path / "no-model", data, tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert "row 7" in err and "videossr/jigsaw/n6" in err
    assert not (tmp_path / "run").exists()  # nothing written


def test_missing_frames_fail_the_run_unless_scored_as_zero(viubench_parquet, tiny_qwen25vl_dir, tmp_path, capsys):
    """Issue 24 item 6: a moved frames folder is an error naming the count and the fix, not a table of
    zeros; scored as 0 on request; re-linked, the same command asks those questions."""
    data = shutil.copytree(viubench_parquet.parent, tmp_path / "data", symlinks=True)
    link = data / "source_frames"
    target = os.path.realpath(link)
    link.unlink()
    out = tmp_path / "run"
    args = _args(tiny_qwen25vl_dir, data / "viubench.parquet", out, "--limit", "3", "--max-new-tokens", "2")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "3 of 3 questions have missing input files" in err and "python -m data_prep media" in err
    assert "--score-missing-as-zero" in err and "Traceback" not in err
    assert not out.exists()  # nothing evaluated, nothing bound
    assert main([*args, "--score-missing-as-zero"]) == 0
    assert {r["status"] for r in _records(out)} == {"missing_video"}
    os.symlink(target, link)  # re-linked (python -m data_prep media DATA --frames ...)
    assert main(args) == 0
    assert "missing_video" not in {r["status"] for r in _records(out)}


def test_a_failed_start_does_not_block_the_corrected_command(viubench_parquet, tiny_qwen25vl_dir, tmp_path, capsys):
    """Issue 24 items 4 and 7: a wrong --model is one line (no transformers traceback) and leaves no
    run.json, so the corrected command into the same --out runs."""
    out = tmp_path / "run"
    assert main(_args(tmp_path / "nonexistent", viubench_parquet, out, "--limit", "1")) == 2
    err = capsys.readouterr().err
    assert "no such model folder" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (out / "run.json").exists()
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    assert main(_args(not_a_model, viubench_parquet, out, "--limit", "1")) == 2
    assert "no config.json" in capsys.readouterr().err
    assert main(_args(tiny_qwen25vl_dir, viubench_parquet, out, "--limit", "1", "--max-new-tokens", "2")) == 0


@pytest.mark.parametrize("extra", [["--limit", "-1"], ["--limit", "0"], ["--batch-size", "0"],
                                   ["--max-new-tokens", "0"], ["--max-pixels", "-4"]])
def test_impossible_counts_are_refused_before_any_work(extra, tmp_path, capsys):
    """Issue 24 item 7: --limit -1 would slice off the last question, --batch-size 0 fail after the
    model loaded: argparse refuses them (exit 2) before anything is read."""
    with pytest.raises(SystemExit) as exit_info:
        main(_args(tmp_path / "model", tmp_path / "data", tmp_path / "run", *extra))
    assert exit_info.value.code == 2 and "must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_interrupt_is_one_line(monkeypatch, tmp_path, capsys):
    """Ctrl-C ends the command with one line and status 130 (answers so far are kept)."""
    from recipes.videossr.eval import viubench

    def interrupted(config, progress=True):
        raise KeyboardInterrupt

    monkeypatch.setattr(viubench, "run_viubench", interrupted)
    assert main(_args(tmp_path / "m", tmp_path / "d", tmp_path / "run")) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_demo_step_without_viubench_says_so(tmp_path):
    from recipes.videossr.eval.demo import demo_step

    (line,) = demo_step(tmp_path, None)
    assert "skipped" in line and "viubench.parquet" in line
    assert not (tmp_path / "eval").exists()
