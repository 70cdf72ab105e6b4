"""Object counting: the answer is "circles,squares,triangles", e.g. "3,1,4".

Reward (paper): mean over the three shape types of ``max(0, 1 - |pred - true| / true)``.
Binary reward: 1 only when all three counts are right. VIUBench acc: per-type exact match,
averaged over the three types. The task's declaration is ``data_prep.tasks.counting.TASK``.

>>> grade((3, 1, 5), (3, 1, 4)).smooth   # (1 + 1 + 0.75) / 3
0.9166666666666666
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from rewards.tasks.base import Grade, Reward, digit_runs, is_negated, iter_numbers, to_count

Counts = tuple[int, int, int]

MAX_EXACT_CHARS = 64  # the paper's format never needs more; longer means "not the format"
_EXACT = re.compile(r"([0-9]+) *, *([0-9]+) *, *([0-9]+)")


def parse_truth(ground_truth: str, subtype: str) -> Counts:
    """Ground truth "c,s,t" -> (c, s, t); ``ValueError`` if it is not three non-negative integers.

    >>> parse_truth("3,1,4", "easy")
    (3, 1, 4)
    """
    text = ground_truth.strip() if isinstance(ground_truth, str) else ""
    match = _EXACT.fullmatch(text) if len(text) <= MAX_EXACT_CHARS else None
    if match is None:
        raise ValueError(f"counting ground truth must look like '3,1,4', got {ground_truth!r}")
    return tuple(int(g) for g in match.groups())  # type: ignore[return-value]


def parse_released(text: str, truth: Counts) -> Optional[Counts]:
    """The released reward's reading: every run of digits in the response, in order; exactly
    three, else ``None``. Words, units, tags, signs and dots around them do not matter.

    >>> parse_released("3 circles, 1 square and 4 triangles", (3, 1, 4))
    (3, 1, 4)
    >>> parse_released("<answer>3,1,4</answer>", (3, 1, 4)), parse_released("3,1,4 or 2,1,4", (3, 1, 4))
    ((3, 1, 4), None)
    """
    runs = digit_runs(text, limit=3)
    if runs is None or len(runs) != 3:
        return None
    return tuple(to_count(r) for r in runs)  # type: ignore[return-value]


def parse_exact(text: str, truth: Counts) -> Optional[Counts]:
    """The whole response must be "c,s,t" (spaces around commas allowed); else ``None``.

    >>> parse_exact(" 3, 1,4 ", (3, 1, 4)), parse_exact("3,1,4.", (3, 1, 4))
    ((3, 1, 4), None)
    """
    stripped = text.strip()
    if len(stripped) > MAX_EXACT_CHARS:
        return None
    match = _EXACT.fullmatch(stripped)
    return tuple(to_count(g) for g in match.groups()) if match else None  # type: ignore[return-value]


def parse_loose(text: str, truth: Counts) -> Optional[Counts]:
    """Exactly three non-negative integers anywhere in ``text``; anything else is ``None``.

    More numbers are not searched for "the right ones": listing many counts earns nothing.

    >>> parse_loose("I count 3 circles, 1 square and 4 triangles.", (3, 1, 4))
    (3, 1, 4)
    >>> parse_loose("3,1,4 or 2,1,4", (3, 1, 4)) is None
    True
    """
    tokens = iter_numbers(text, limit=3)
    if tokens is None or len(tokens) != 3:
        return None
    if any("." in t.text or is_negated(text, t) for t in tokens):
        return None
    return tuple(to_count(t.text) for t in tokens)  # type: ignore[return-value]


def closeness(pred: int, true: int) -> float:
    """The paper's per-type reward ``max(0, 1 - |pred - true| / true)`` (true = 0: exact match).

    >>> closeness(5, 4)
    0.75
    """
    if true == 0:
        return 1.0 if pred == 0 else 0.0
    return max(0.0, 1.0 - abs(pred - true) / true)


def grade(pred: Counts, truth: Counts) -> Grade:
    """Smooth, binary and VIUBench scores of a parsed answer.

    >>> grade((3, 1, 4), (3, 1, 4))
    Grade(smooth=1.0, binary=1.0, acc=1.0)
    """
    smooth = sum(closeness(p, t) for p, t in zip(pred, truth)) / 3
    acc = sum(p == t for p, t in zip(pred, truth)) / 3
    return Grade(smooth, 1.0 if tuple(pred) == tuple(truth) else 0.0, acc)


def render(pred: Counts) -> str:
    """Canonical answer string.

    >>> render((3, 1, 4))
    '3,1,4'
    """
    return ",".join(str(c) for c in pred)


def count_range(info: Mapping[str, Any], levels: Mapping[str, Sequence[int]]) -> int:
    """Largest per-shape count the generator draws for this row.

    F*K from the row's ``meta`` when recorded (a mix may override the levels), else from the
    build's ``levels`` option (level -> (F, K)) for its difficulty.

    >>> levels = {"easy": (3, 3), "hard": (4, 4)}
    >>> count_range({"difficulty": "hard"}, levels), count_range({"meta": '{"max_frames": 1, "max_per_frame": 2}'}, levels)
    (16, 2)
    """
    meta = info.get("meta") or {}  # a JSON string in parquet rows
    meta = json.loads(meta) if isinstance(meta, str) else meta
    if isinstance(meta, Mapping) and "max_frames" in meta and "max_per_frame" in meta:
        return int(meta["max_frames"]) * int(meta["max_per_frame"])
    level = info.get("difficulty") or info.get("subtype")
    if level not in levels:
        raise ValueError(f"counting row has difficulty {level!r}; expected one of {sorted(levels)}")
    max_frames, max_per_frame = levels[level]
    return int(max_frames) * int(max_per_frame)


def prior(truths: Sequence[Counts], infos: Sequence[Mapping[str, Any]], options: Mapping[str, Any]) -> dict:
    """Random-guess and best-constant figures for counting rows (exact, no sampling).

    A random guess draws each count uniformly from 1..K (K = 9 easy, 16 hard, or the row's own
    range, see :func:`count_range`). The reward is a
    mean of per-type terms, so the best constant answer is found type by type: an exhaustive
    search of the K^3 answers that costs 3*K evaluations per row.

    ``options``: the build's options over the task's defaults (``levels``: level -> (F, K)).

    >>> round(prior([(3, 1, 4)], [{"difficulty": "easy"}], {"levels": {"easy": (3, 3)}})["random_acc"], 4)
    0.1111
    """
    true = np.asarray(truths, dtype=np.float64)  # (N, 3)
    levels = options["levels"]
    k = np.asarray([count_range(info, levels) for info in infos], dtype=np.float64)  # (N,)
    guesses = np.arange(1, int(k.max()) + 1, dtype=np.float64)  # (G,)

    g = guesses[:, None, None]
    t = true[None, :, :]
    safe_t = np.where(t == 0, 1.0, t)
    reward = np.where(t == 0, (g == 0).astype(np.float64), np.maximum(0.0, 1.0 - np.abs(g - t) / safe_t))
    hit = (g == t).astype(np.float64)  # (G, N, 3)

    in_range = (guesses[:, None] <= k[None, :]).astype(np.float64)[:, :, None]  # (G, N, 1)
    random_score = ((reward * in_range).sum(axis=0) / k[:, None]).mean()
    random_acc = ((hit * in_range).sum(axis=0) / k[:, None]).mean()

    mean_reward = reward.mean(axis=1)  # (G, 3): every constant, type by type
    mean_hit = hit.mean(axis=1)
    best = mean_reward.argmax(axis=0)  # first maximum: deterministic tie-break (smallest count)
    best_acc = mean_hit.argmax(axis=0)
    cols = np.arange(3)
    return {
        "random_acc": float(random_acc),
        "random_score": float(random_score),
        "best_constant": render(tuple(int(guesses[i]) for i in best)),
        "best_constant_score": float(mean_reward[best, cols].mean()),
        "best_constant_acc": float(mean_hit[best, cols].mean()),
        "best_acc_constant": render(tuple(int(guesses[i]) for i in best_acc)),
        "best_acc_constant_acc": float(mean_hit[best_acc, cols].mean()),
    }


REWARD = Reward(
    parse_answer=parse_exact,
    grade=grade,
    parse_truth=parse_truth,
    parse_released=parse_released,
    parse_loose=parse_loose,
    render=render,
    prior=prior,
)
