"""bench/bench_downstream_decode.py runs on the CPU and reports every figure the README quotes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_decode_bench_runs_and_reports_each_budget(tmp_path):
    out = tmp_path / "decode.json"
    subprocess.run([sys.executable, "bench/bench_downstream_decode.py", "--minutes", "0.5", "--repeats", "1",
                    "--json", str(out)], cwd=ROOT, check=True, capture_output=True)
    figures = json.loads(out.read_text())
    assert figures["reader"] in ("decord", "torchcodec")  # readers that seek
    for budget in (32, 48, 64):
        assert figures[f"decode_{budget}_s"] > 0 and figures[f"hit_{budget}_s"] >= 0
        assert 0 < figures[f"seek_decoded_frames_{budget}"] <= figures["total_frames"]
    assert figures["total_frames"] == 720  # 30 s at 24 fps
