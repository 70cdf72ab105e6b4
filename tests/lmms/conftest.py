"""Fixtures of the lmms-eval tests. The test VIUBench is built by the CPU environment ``.venv``:
data preparation needs PyAV >= 16 (``VideoFrame.reformat(threads=...)``), lmms-eval 0.7.3 pins av < 16."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CPU_PYTHON = ROOT / ".venv" / "bin" / "python"

BUILD = """
import sys
from data_prep.build import build_dataset
from data_prep.embedded import embedded_videos
from data_prep.frames import FrameOptions, extract_frames
from data_prep.synthetic import SynthSpec, write_corpus
out = sys.argv[1]
write_corpus(out + "/synth", 12, seed=7, spec=SynthSpec(width=160, height=120, fps=24, seconds=2.5))
summary = extract_frames([str(p) for p in embedded_videos()] + [out + "/synth"], out + "/frames",
                         FrameOptions(eval_fraction=None), progress=False)
assert summary.ok == 15, summary
print(build_dataset(out + "/frames", out + "/data", recipe="viubench", per_subtype=1, progress=False).parquet)
"""


@pytest.fixture(scope="session")
def viubench_parquet(tmp_path_factory) -> Path:
    """VIUBench with one question per subtype (9 rows) of the embedded + synthetic clips, as
    tests/conftest.py builds it, built by ``.venv`` (make venv). Read-only!"""
    if not CPU_PYTHON.exists():
        pytest.skip("building the test VIUBench needs the CPU environment .venv (make venv)")
    out = tmp_path_factory.mktemp("lmms_data")
    done = subprocess.run([str(CPU_PYTHON), "-c", BUILD, str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(done.stdout.strip().splitlines()[-1])
