"""Downstream metrics: multiple-choice accuracy; temporal grounding mIoU and R@{0.3,0.5,0.7}.

All in percent over EVERY item: unparsable answers, errors and missing videos count as 0.

>>> interval_iou((0.0, 10.0), (5.0, 15.0))
0.3333333333333333
>>> grounding_summary([1.0, 0.4, 0.0, 0.0])["R@0.3"]
50.0
"""

from __future__ import annotations

RECALL_THRESHOLDS = (0.3, 0.5, 0.7)


def interval_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Temporal IoU of two [start, end] intervals; 0 when they do not overlap or are empty."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


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
