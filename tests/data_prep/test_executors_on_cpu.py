"""Executors: batches that shrink towards the end, fork only where safe, the same bytes either way."""

from __future__ import annotations

import subprocess
import sys

import pytest

from data_prep import executors
from data_prep.build import build_dataset


@pytest.mark.parametrize("n, batch, parallelism", [(1, 16, 2), (10, 4, 1), (360, 16, 2), (1000, 16, 7)])
def test_batches_cover_the_items_in_order_and_shrink(n, batch, parallelism):
    chunks = executors._chunks(list(range(n)), batch, parallelism)
    assert [i for c in chunks for i in c] == list(range(n))
    sizes = [len(c) for c in chunks]
    assert all(1 <= s <= batch for s in sizes) and sizes == sorted(sizes, reverse=True)
    assert sizes[-1] == 1  # the last batch is one item: the workers end together


def test_fork_only_without_torch(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert executors._pool_context().get_start_method() == "fork"
    monkeypatch.setitem(sys.modules, "torch", object())
    assert executors._pool_context().get_start_method() == "spawn"


def test_cli_build_with_forked_workers_gives_the_same_bytes(frames_dir, tmp_path):
    # The CLI process imports no torch, so its pool forks (this test process has torch: it spawns).
    one = tmp_path / "one"
    build_dataset(frames_dir, one, "viubench", per_subtype=8, progress=False)
    forked = tmp_path / "forked"
    subprocess.run([sys.executable, "-m", "data_prep", "build", "--frames", str(frames_dir), "--out", str(forked),
                    "--recipe", "viubench", "--per-subtype", "8", "--workers", "2", "--no-progress"],
                   check=True, capture_output=True)
    for name in ("viubench.parquet", "viubench_val.parquet"):  # (the journals name their own folder)
        assert (forked / name).read_bytes() == (one / name).read_bytes(), name
