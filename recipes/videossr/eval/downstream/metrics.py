"""Downstream metrics: multiple-choice accuracy; temporal grounding mIoU and R@{0.3,0.5,0.7}.

All in percent over EVERY item: unparsable answers, errors and missing videos count as 0.

>>> interval_iou((0.0, 10.0), (5.0, 15.0))
0.3333333333333333
>>> grounding_summary([1.0, 0.4, 0.0, 0.0])["R@0.3"]
50.0
"""

from __future__ import annotations

from rewards.tasks.grounding import iou

RECALL_THRESHOLDS = (0.3, 0.5, 0.7)


def interval_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Temporal IoU of two ordered [start, end] intervals: the grounding reward's ``iou`` (one
    definition for training and evaluation); 0 when they do not overlap, and when both are empty.

    Both empty is the one case where the reward differs (it gives 1.0 to an instant that equals the
    true instant); this benchmark's convention has always scored it 0.
    """
    return iou(a, b) if (a[1] - a[0]) + (b[1] - b[0]) > 0 else 0.0


def grounding_summary(ious: list[float]) -> dict[str, float]:
    """mIoU and recall at each IoU threshold (IoU >= t), percent, over all items."""
    n = len(ious)
    if n == 0:
        return {"mIoU": 0.0, **{f"R@{t}": 0.0 for t in RECALL_THRESHOLDS}, "n": 0}
    out = {"mIoU": 100.0 * sum(ious) / n}
    for t in RECALL_THRESHOLDS:
        out[f"R@{t}"] = 100.0 * sum(1 for x in ious if x >= t) / n
    out["n"] = n
    return out


def accuracy_summary(correct: list[float]) -> dict[str, float]:
    """Accuracy in percent over all items.

    >>> accuracy_summary([1.0, 0.0, 0.0, 1.0])
    {'accuracy': 50.0, 'n': 4}
    """
    n = len(correct)
    return {"accuracy": 100.0 * sum(correct) / n if n else 0.0, "n": n}
