"""Downstream temporal grounding scores with the grounding reward's IoU (one definition), and its
numbers are those of the formula it replaced, bit for bit."""

from __future__ import annotations

import numpy as np

from recipes.videossr.eval.downstream import metrics
from rewards.tasks import grounding


def _replaced(a, b):
    """The downstream IoU before it read the reward's (kept here as the reference)."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def test_the_reward_iou_is_the_one_used():
    assert metrics.iou is grounding.iou


def test_identical_to_the_replaced_formula():
    rng = np.random.default_rng(0)
    cases = [((3.0, 3.0), (3.0, 3.0)), ((0.0, 0.0), (0.0, 5.0)), ((2.0, 2.0), (0.0, 5.0)), ((0.0, 1.0), (1.0, 2.0))]
    for _ in range(5000):
        a, b = sorted(rng.uniform(0, 60, 2).round(int(rng.integers(0, 3)))), sorted(rng.uniform(0, 60, 2).round(1))
        if rng.random() < 0.05:
            a = [a[0], a[0]]  # an instant
        cases.append(((float(a[0]), float(a[1])), (float(b[0]), float(b[1]))))
    for a, b in cases:
        assert metrics.interval_iou(a, b) == _replaced(a, b), (a, b)
        if a[1] - a[0] + b[1] - b[0] > 0:
            assert metrics.interval_iou(a, b) == grounding.iou(a, b)
