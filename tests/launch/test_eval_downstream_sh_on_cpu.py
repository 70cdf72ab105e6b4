"""launch/eval_downstream.sh: every benchmark folder under BENCH_ROOT, then Tables 2-3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_prep.synthetic import SynthSpec, write_video

ROOT = Path(__file__).resolve().parents[2]


def run(**env_vars: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT), **env_vars}
    return subprocess.run(["bash", str(ROOT / "launch" / "eval_downstream.sh")], env=env, capture_output=True,
                          text=True, timeout=600, cwd=ROOT)


def _charades(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "charades_sta_test.txt").write_text("VID0 0.5 1.5##a person opens a door\n")
    write_video(root / "Charades_v1_480" / "VID0.mp4", SynthSpec(width=64, height=48, fps=4, seconds=2.0), 0)


def test_dry_run_lists_the_present_benchmarks_in_table_order(tmp_path):
    (tmp_path / "bench" / "vcrbench").mkdir(parents=True)
    (tmp_path / "bench" / "mvbench").mkdir()
    proc = run(MODEL="m", BENCH_ROOT=str(tmp_path / "bench"), OUT=str(tmp_path / "out"), DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[4] for line in lines[:2]] == ["mvbench", "vcrbench"]
    assert "--max-frames 32 48 64" in lines[0] and "--backend vllm" in lines[0]
    assert " tables " in lines[2] and str(tmp_path / "out" / "mvbench") in lines[2]
    assert "skipping charades" in proc.stderr


@pytest.mark.slow
def test_one_benchmark_end_to_end_with_the_tiny_model(tmp_path, tiny_qwen25vl_dir):
    _charades(tmp_path / "bench" / "charades")
    out = tmp_path / "out"
    proc = run(MODEL=str(tiny_qwen25vl_dir), BENCH_ROOT=str(tmp_path / "bench"), OUT=str(out), BACKEND="hf",
               FRAMES="4 8", LABEL="tiny", EXTRA="--max-new-tokens 4")
    assert proc.returncode == 0, proc.stderr
    tables = (out / "tables" / "tables.md").read_text()
    assert "| tiny | 4 |" in tables and "| tiny | 8 |" in tables
    assert (out / "charades" / "frames_8" / "summary.json").is_file()


def test_required_settings_are_named(tmp_path):
    proc = run(BENCH_ROOT=str(tmp_path), OUT=str(tmp_path / "o"))
    assert proc.returncode == 1 and "set MODEL" in proc.stderr
    proc = run(MODEL="m", BENCH_ROOT=str(tmp_path), OUT=str(tmp_path / "o"))
    assert proc.returncode == 1 and "no benchmark folder found" in proc.stderr
