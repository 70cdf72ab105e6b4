"""Grounding and multiple-choice metrics against hand-computed values."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.downstream.metrics import accuracy_summary, grounding_summary, interval_iou


@pytest.mark.parametrize(
    "a,b,iou",
    [
        ((0, 10), (0, 10), 1.0),
        ((0, 10), (5, 15), 5 / 15),
        ((0, 10), (2, 4), 0.2),  # contained
        ((0, 1), (2, 3), 0.0),  # disjoint
        ((0, 1), (1, 2), 0.0),  # touching
        ((3, 3), (3, 3), 0.0),  # empty
    ],
)
def test_interval_iou(a, b, iou):
    assert interval_iou(a, b) == pytest.approx(iou)


def test_grounding_summary_hand_computed():
    ious = [1.0, 0.7, 0.5, 0.3, 0.29, 0.0]
    s = grounding_summary(ious)
    assert s["mIoU"] == pytest.approx(100 * 2.79 / 6)
    assert s["R@0.3"] == pytest.approx(100 * 4 / 6)  # IoU >= 0.3
    assert s["R@0.5"] == pytest.approx(50.0)
    assert s["R@0.7"] == pytest.approx(100 * 2 / 6)
    assert s["n"] == 6


def test_accuracy_summary():
    assert accuracy_summary([1.0, 0.0, 0.0]) == {"accuracy": pytest.approx(100 / 3), "n": 3}
