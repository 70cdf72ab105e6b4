"""tests/e2e/checks.py, on made-up inputs: each check of the end-to-end run can fail."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from omegaconf import OmegaConf

_spec = importlib.util.spec_from_file_location("videossr_e2e_checks", Path(__file__).with_name("checks.py"))
checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks)


def _rec(step, index, uid="u", session=0, validate=False, response=(1,)):
    return {"step": step, "index": index, "uid": uid, "session": session, "validate": validate,
            "response_ids": list(response)}


def test_expected_batches_are_verls_seeded_sampler():
    data = OmegaConf.create({"shuffle": True, "seed": 42, "train_batch_size": 2})
    rows = [10, 11, 12, 13, 14, 15]
    first = checks.expected_batches(data, rows, 3)
    assert first == checks.expected_batches(data, rows, 3)  # seeded
    assert sorted(i for batch in first for i in batch) == rows  # one epoch, every row once
    other = checks.expected_batches(OmegaConf.create({**data, "seed": 7}), rows, 3)
    assert other != first


def test_data_order_names_the_step_that_differs():
    expected = [[1, 2], [3, 4]]
    good = {1: [_rec(1, 1), _rec(1, 1, session=1), _rec(1, 2), _rec(1, 2, session=1)],
            2: [_rec(2, 3), _rec(2, 3, session=1), _rec(2, 4), _rec(2, 4, session=1)]}
    assert checks.data_order(good, expected, rollout_n=2) == []
    bad = {**good, 2: [_rec(2, 3), _rec(2, 5)]}
    (problem,) = checks.data_order(bad, expected, rollout_n=2)
    assert problem.startswith("step 2: trained rows [3, 5]")
    assert checks.data_order({1: good[1][:3], 2: good[2]}, expected, rollout_n=2) == \
        ["step 1: 3 sessions, expected 2 per row"]


def test_the_last_attempt_wins_for_the_steps_it_redid(tmp_path):
    import json
    import os

    older, newer = tmp_path / "rollout-1.jsonl", tmp_path / "rollout-2.jsonl"
    older.write_text("".join(json.dumps(_rec(s, 100 + s)) + "\n" for s in (1, 2, 3)))  # killed during step 3
    newer.write_text(json.dumps(_rec(3, 7)) + "\n" + json.dumps(_rec(3, 9, validate=True)) + "\n")
    os.utime(older, (1, 1))
    by_step = checks.last_attempt_records(tmp_path)
    assert [r["index"] for r in by_step[1]] == [101] and [r["index"] for r in by_step[3]] == [7]


def test_advantage_signs_are_relative_to_the_group_mean():
    records = [_rec(1, 0, uid="a", session=i, response=(i,)) for i in range(3)] + [_rec(1, 1, uid="b", response=(0,))]
    signs = checks.advantage_signs(records, lambda r: float(r["response_ids"][0] > 0))
    assert [s for _, s in signs] == [-1, 1, 1, 0]


@pytest.mark.parametrize("deltas, ok", [
    ([(1, 0.2), (1, 0.1), (-1, -0.3)], True),
    ([(1, -0.2), (-1, 0.1)], False),
    ([(1, 0.2)], False),  # nothing to compare against
])
def test_grpo_direction(deltas, ok):
    problems, _ = checks.grpo_direction(deltas)
    assert (not problems) is ok
