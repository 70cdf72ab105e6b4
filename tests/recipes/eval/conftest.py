"""Fixtures of the evaluation tests: a small real VIUBench built by the datasets stage."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def viubench_parquet(tmp_path_factory, frames_dir) -> Path:
    """VIUBench with one question per subtype (9 rows), built from the shared frames. Read-only!"""
    from data_prep.build import build_dataset

    out = tmp_path_factory.mktemp("viubench") / "data"
    summary = build_dataset(frames_dir, out, recipe="viubench", per_subtype=1, progress=False)
    assert summary.rows == 9, summary
    return summary.parquet
