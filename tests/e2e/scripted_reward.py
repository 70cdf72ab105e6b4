"""Test devices for the CPU end-to-end run (tests/e2e/cpu_train_e2e.py): rewards the tiny model can earn.

A tiny random model scores 0 on every real VideoSSR answer, so every GRPO advantage is 0 and an
update cannot be told apart from no update. ``compute_score`` gives a reward that differs within a
group instead: 1.0 when the decoded response has an even number of characters, else 0.0. It is a
function of the response alone (no video, no ground truth), deterministic, and about half of a
group's random answers win, which is all the GRPO direction check needs: after one update, the
responses with a positive advantage must have gained log-probability relative to the others.

``broken_score`` raises, as a reward with a bug would: the run must stop with a non-zero exit.
Both are loaded by file path (``reward.custom_reward_function.path=<this file>``); neither is a
VideoSSR reward.
"""

from __future__ import annotations


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> float:
    return 1.0 if len(solution_str) % 2 == 0 else 0.0


def broken_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> float:
    raise RuntimeError("broken reward (test device): every call fails")
