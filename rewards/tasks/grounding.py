"""Anomaly grounding: the answer is the perturbed time interval "start-end" in seconds.

Reward (paper) and VIUBench acc: temporal IoU of the predicted and true intervals. Binary reward
(the paper's 0/1 ablation, whose definition the paper does not give): 1 when IoU >= 0.5, the usual
R@0.5 threshold of temporal grounding. A reversed interval ("20.1-12.3") is not an answer.
The task's declaration (subtypes, options, columns) is ``data_prep.tasks.grounding.TASK``.

>>> grade((10.0, 20.0), (15.0, 25.0)).smooth   # overlap 5 s, union 15 s
0.3333333333333333
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from rewards.tasks.base import MAX_NUMBER_CHARS, Grade, Reward, is_negated, iter_numbers

Interval = tuple[float, float]

BINARY_IOU = 0.5

MAX_EXACT_CHARS = 64
_CHUNK_ROWS = 1024
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_EXACT = re.compile(rf"({_NUMBER}) *- *({_NUMBER})")
# The released pattern; Unicode \d and \s on purpose. No nested quantifier: linear on 1 MB.
_RELEASED = re.compile(r"\s*([\d.]+)\s*-\s*([\d.]+)\s*")


def parse_truth(ground_truth: str, subtype: str) -> Interval:
    """Ground truth "s.s-e.e" -> (start, end); ``ValueError`` unless 0 <= start < end.

    >>> parse_truth("12.3-20.1", "mirror")
    (12.3, 20.1)
    """
    text = ground_truth.strip() if isinstance(ground_truth, str) else ""
    match = _EXACT.fullmatch(text) if len(text) <= MAX_EXACT_CHARS else None
    if match is None or not float(match.group(1)) < float(match.group(2)):
        raise ValueError(
            f"grounding ground truth must look like '12.3-20.1' with start < end, got {ground_truth!r}"
        )
    return float(match.group(1)), float(match.group(2))


def parse_released(text: str, truth: Interval) -> Optional[Interval]:
    """The released reward's reading: the whole stripped response is ``[\\d.]+ - [\\d.]+`` with
    any whitespace around the hyphen, each side a Python ``float`` ("12.", ".5", "１２.５" are
    numbers; "1.2.3" is not), start <= end; else ``None``.

    >>> parse_released(" 12.\\t- .5e", (0.0, 1.0)), parse_released("5 -\\t12.", (0.0, 1.0))
    (None, (5.0, 12.0))
    >>> parse_released("1.2.3-4", (0.0, 1.0)), parse_released("20-10", (0.0, 1.0))
    (None, None)
    """
    match = _RELEASED.fullmatch(text.strip())
    if match is None:
        return None
    try:
        start, end = float(match.group(1)), float(match.group(2))
    except ValueError:  # "." or "1.2.3": the pattern takes any run of digits and dots
        return None
    return (start, end) if start <= end else None


def parse_exact(text: str, truth: Interval) -> Optional[Interval]:
    """The whole response must be "start-end" with start <= end; else ``None``.

    >>> parse_exact("12.5-20.3", (0.0, 1.0)), parse_exact("20.3-12.5", (0.0, 1.0))
    ((12.5, 20.3), None)
    """
    stripped = text.strip()
    match = _EXACT.fullmatch(stripped) if len(stripped) <= MAX_EXACT_CHARS else None
    if match is None:
        return None
    start, end = float(match.group(1)), float(match.group(2))
    return (start, end) if start <= end else None


def parse_loose(text: str, truth: Interval) -> Optional[Interval]:
    """Exactly two non-negative numbers in ``text``, in increasing order; else ``None``.

    Accepts "from 12.5s to 20.3s", "[12.5, 20.3]", "１２.５-２０.３"; rejects a third number, so a
    list of intervals (hoping one overlaps) earns nothing.

    >>> parse_loose("The change spans 12.5 s to 20.3 s.", (0.0, 1.0))
    (12.5, 20.3)
    >>> parse_loose("0-10, 10-20, 20-30", (0.0, 1.0)) is None
    True
    """
    tokens = iter_numbers(text, limit=2)
    if tokens is None or len(tokens) != 2:
        return None
    if any(len(t.text) > MAX_NUMBER_CHARS or is_negated(text, t) for t in tokens):
        return None
    start, end = float(tokens[0].text), float(tokens[1].text)
    return (start, end) if start <= end else None


def iou(pred: Interval, truth: Interval) -> float:
    """Temporal intersection over union of two intervals, in [0, 1] (0, never NaN, for "inf-inf").

    >>> iou((0.0, 10.0), (5.0, 10.0))
    0.5
    """
    inter = max(0.0, min(pred[1], truth[1]) - max(pred[0], truth[0]))
    union = (pred[1] - pred[0]) + (truth[1] - truth[0]) - inter
    if union <= 0.0:  # two zero-length intervals
        return 1.0 if tuple(pred) == tuple(truth) else 0.0
    return min(1.0, max(0.0, inter / union))


def grade(pred: Interval, truth: Interval) -> Grade:
    """Smooth (IoU), binary (IoU >= 0.5) and VIUBench (IoU) scores of a parsed answer.

    >>> grade((12.0, 20.0), (12.0, 20.0))
    Grade(smooth=1.0, binary=1.0, acc=1.0)
    """
    overlap = iou(pred, truth)
    return Grade(overlap, 1.0 if overlap >= BINARY_IOU else 0.0, overlap)


def render(pred: Interval) -> str:
    """Canonical answer string (one decimal, as the generator writes answers).

    >>> render((12.5, 20.25))
    '12.5-20.2'
    """
    return f"{pred[0]:.1f}-{pred[1]:.1f}"


def _iou_matrix(ps: np.ndarray, pe: np.ndarray, ts: np.ndarray, te: np.ndarray) -> np.ndarray:
    """IoU of every candidate (rows of ps/pe, shape (C, N)) with every truth (ts/te, shape (N,))."""
    inter = np.maximum(0.0, np.minimum(pe, te) - np.maximum(ps, ts))
    union = (pe - ps) + (te - ts) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def _segments_in_seconds(frames: np.ndarray, fps: np.ndarray) -> np.ndarray:
    """Frame boundaries -> seconds, rounded to one decimal like the generator's answers."""
    return np.round(frames[:, None] / fps[None, :], 1)


def segment_lengths(options: Mapping[str, Any]) -> range:
    """The generator's segment lengths in frames: the build's ``segment_length`` option, inclusive.

    >>> segment_lengths({"segment_length": [8, 16]})
    range(8, 17)
    """
    low, high = (int(v) for v in options["segment_length"])
    return range(low, high + 1)


def prior(truths: Sequence[Interval], infos: Sequence[Mapping[str, Any]], options: Mapping[str, Any]) -> dict:
    """Random-guess and best-constant figures for grounding rows (exact enumeration).

    ``options``: the options the rows were built with (``rewards.priors`` merges the build's over
    the task's declared defaults); the generator's distribution uses its ``segment_length``.

    Random guess (``random_acc`` / ``random_score``, the paper's Table 1 row): the paper does not
    define its grounding baseline. Its 25.2-25.9 is reproduced within 1 point per column only by
    the uninformed answer "the whole video" (IoU = t / 48 per row, expected E[t] / 48 = 25.0);
    every random interval we tried scores lower: the generator's own distribution (length
    U{segment_length} frames, paper 8..16, at a uniform start) 21.3-21.9 (reported as ``generator_guess_acc``), two
    uniform end points 20.4, a uniform frame-aligned pair 20.8. Constant answers: every frame-aligned segment [a, b), 0 <= a < b <= num_frames,
    read in each row's own seconds (``sample_fps``); a model sees timestamps, so "always answer
    frames 16-32" is a policy it can learn. Acc equals score for grounding (both IoU).

    >>> figures = prior([(0.0, 4.0)], [{"sample_fps": 4.0, "num_frames": 48}], {"segment_length": [8, 16]})
    >>> figures["best_constant"], figures["best_constant_score"]
    ('frames 0-16 of 48', 1.0)
    """
    ts = np.asarray([t[0] for t in truths], dtype=np.float64)
    te = np.asarray([t[1] for t in truths], dtype=np.float64)
    fps = np.asarray([float(info["sample_fps"]) for info in infos], dtype=np.float64)
    frames = int(max(int(info["num_frames"]) for info in infos))
    if not np.all(fps > 0):
        raise ValueError("grounding rows need extra_info.sample_fps > 0")

    # Random guess: weight 1/9 per length (paper), then uniform over that length's start positions.
    lengths = [n for n in segment_lengths(options) if n <= frames]
    if not lengths:
        raise ValueError(f"segment_length {list(options['segment_length'])} exceeds the {frames} frames")
    starts, ends, weights = [], [], []
    for length in lengths:
        positions = np.arange(0, frames - length + 1)
        starts.append(positions)
        ends.append(positions + length)
        weights.append(np.full(len(positions), 1.0 / (len(lengths) * len(positions))))
    rs, re_, w = (np.concatenate(parts).astype(np.float64) for parts in (starts, ends, weights))
    # Every frame-aligned constant segment.
    a, b = np.triu_indices(frames + 1, k=1)

    random_iou = np.empty(len(ts))
    constant_sum = np.zeros(len(a))
    for lo in range(0, len(ts), _CHUNK_ROWS):  # bounded memory on large datasets
        rows = slice(lo, lo + _CHUNK_ROWS)
        f, s, e = fps[rows], ts[rows], te[rows]
        random_iou[rows] = w @ _iou_matrix(_segments_in_seconds(rs, f), _segments_in_seconds(re_, f), s, e)
        constant_sum += _iou_matrix(
            _segments_in_seconds(a.astype(np.float64), f), _segments_in_seconds(b.astype(np.float64), f), s, e
        ).sum(axis=1)
    constant_iou = constant_sum / len(ts)
    whole = _iou_matrix(np.zeros((1, len(ts))), _segments_in_seconds(np.asarray([float(frames)]), fps), ts, te)[0]
    best = int(constant_iou.argmax())
    label = f"frames {int(a[best])}-{int(b[best])} of {frames}"
    return {
        "random_acc": float(whole.mean()),
        "random_score": float(whole.mean()),
        "generator_guess_acc": float(random_iou.mean()),
        "best_constant": label,
        "best_constant_score": float(constant_iou[best]),
        "best_constant_acc": float(constant_iou[best]),
        "best_acc_constant": label,
        "best_acc_constant_acc": float(constant_iou[best]),
    }


REWARD = Reward(
    parse_answer=parse_exact,
    grade=grade,
    parse_truth=parse_truth,
    parse_released=parse_released,
    parse_loose=parse_loose,
    is_valid=lambda pred, truth: pred[0] <= pred[1],
    render=render,
    prior=prior,
)
