"""Temporal jigsaw: the answer is n digits, digit k = shown position (1-based) of original clip k.

Reward (paper Eq. 7-8 and the released reward): read the answer and the ground truth as sequences
of clip labels; E = sum over the labels c of |index of c in the answer - index of c in the truth|,
reward ``1 - E / E_max`` with E_max = n*n//2 (the reversed order); an answer that is not a
permutation of the truth's labels scores 0. (It is not the sum over positions of |answer digit -
truth digit|: on random answers that metric differs 76% / 85% of the time for 6 / 8 clips.)
Binary reward and VIUBench acc: exact match. The task's declaration is
``data_prep.tasks.jigsaw.TASK``.

>>> grade((3, 4, 1, 5, 2, 6), (3, 4, 1, 5, 6, 2)).smooth   # labels 6 and 2 one place off: E = 2
0.8888888888888888
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from data_prep.schema import MAX_JIGSAW_CLIPS as MAX_CLIPS  # one digit per clip (bottom layer)
from rewards.tasks.base import Grade, Reward

Order = tuple[int, ...]

_DIGIT_RUN = re.compile(r"\d+")  # Unicode-aware: lenient parsing reads "３４１５６２"
_SUBTYPE = re.compile(r"n([0-9]+)")


def parse_truth(ground_truth: str, subtype: str) -> Order:
    """Ground truth digits -> order; ``ValueError`` unless a permutation of 1..n (2 <= n <= 9)
    whose n matches the subtype ``n<k>``.

    >>> parse_truth("341562", "n6")
    (3, 4, 1, 5, 6, 2)
    """
    text = ground_truth.strip() if isinstance(ground_truth, str) else ""
    n = len(text)
    if not (text.isascii() and text.isdigit() and 2 <= n <= MAX_CLIPS):
        raise ValueError(f"jigsaw ground truth must be 2..{MAX_CLIPS} digits, got {ground_truth!r}")
    order = tuple(int(c) for c in text)
    if sorted(order) != list(range(1, n + 1)):
        raise ValueError(f"jigsaw ground truth {ground_truth!r} is not a permutation of 1..{n}")
    match = _SUBTYPE.fullmatch(subtype or "")
    if match and int(match.group(1)) != n:
        raise ValueError(
            f"jigsaw ground truth {ground_truth!r} has {n} clips but the subtype says {subtype!r}"
        )
    return order


def parse_released(text: str, truth: Order) -> Optional[Order]:
    """The released reward's reading: ``text.strip()`` must be a permutation of the truth's
    characters; else ``None``.

    >>> parse_released(" 341562\\n", (1, 2, 3, 4, 5, 6)), parse_released("341566", (1, 2, 3, 4, 5, 6))
    ((3, 4, 1, 5, 6, 2), None)
    """
    stripped = text.strip()
    # length first: a permutation has the truth's length, and sorting a 1 MB response costs 60 ms
    if len(stripped) != len(truth) or sorted(stripped) != sorted(render(truth)):
        return None
    return tuple(int(c) for c in stripped)


def parse_exact(text: str, truth: Order) -> Optional[Order]:
    """The whole response must be exactly n ASCII digits (the paper's format); else ``None``.

    >>> parse_exact("341562", (1,) * 6), parse_exact("3415627", (1,) * 6)
    ((3, 4, 1, 5, 6, 2), None)
    """
    stripped = text.strip()
    if len(stripped) != len(truth) or not (stripped.isascii() and stripped.isdigit()):
        return None
    return tuple(int(c) for c in stripped)


def parse_loose(text: str, truth: Order) -> Optional[Order]:
    """One run of n digits, or n single digits ("3,4,1,5,6,2"), and no other digit; else ``None``.

    >>> parse_loose("The order is 3 4 1 5 6 2.", (1,) * 6)
    (3, 4, 1, 5, 6, 2)
    >>> parse_loose("341562 or 341526", (1,) * 6) is None
    True
    """
    n = len(truth)
    runs = [m.group() for m in itertools.islice(_DIGIT_RUN.finditer(text), n + 1)]
    if len(runs) == 1 and len(runs[0]) == n:
        digits = runs[0]
    elif len(runs) == n and all(len(r) == 1 for r in runs):
        digits = "".join(runs)
    else:
        return None
    return tuple(int(c) for c in digits)


def is_permutation(pred: Order, truth: Order) -> bool:
    """True when ``pred`` orders exactly the clips 1..n.

    >>> is_permutation((1, 1, 2), (1, 2, 3))
    False
    """
    return sorted(pred) == list(range(1, len(truth) + 1))


def label_displacement(pred: Order, truth: Order) -> int:
    """E of Eq. 7: sum over clip labels of |index in ``pred`` - index in ``truth``|.

    >>> label_displacement((3, 4, 1, 5, 2, 6), (3, 4, 1, 5, 6, 2)), label_displacement((6, 5, 4, 3, 2, 1), (1, 2, 3, 4, 5, 6))
    (2, 18)
    """
    where = {label: i for i, label in enumerate(pred)}
    return sum(abs(where[label] - i) for i, label in enumerate(truth))


def grade(pred: Order, truth: Order) -> Grade:
    """Smooth (Eq. 7-8), binary and VIUBench (exact match) scores of a parsed answer.

    >>> grade((6, 5, 4, 3, 2, 1), (1, 2, 3, 4, 5, 6)).smooth
    0.0
    """
    if len(pred) != len(truth) or not is_permutation(pred, truth):
        return Grade(0.0, 0.0, 0.0)
    n = len(truth)
    exact = 1.0 if tuple(pred) == tuple(truth) else 0.0
    return Grade(max(0.0, 1.0 - label_displacement(pred, truth) / (n * n // 2)), exact, exact)


def render(pred: Order) -> str:
    """Canonical answer string.

    >>> render((3, 4, 1, 5, 6, 2))
    '341562'
    """
    return "".join(str(d) for d in pred)


def prior(truths: Sequence[Order], infos: Sequence[Mapping[str, Any]], options: Mapping[str, Any]) -> dict:
    """Random-guess and best-constant figures for jigsaw rows of one clip count n (exact).

    Random guess: a uniform permutation. E depends only on the answer relative to the truth
    (relabel the clips so the truth reads 1..n), and a uniform answer stays uniform, so its
    expected E is the same for every truth: enumerate the n! answers once against the identity.
    Best constant: E is a sum over labels of |answer index - truth index|, so the mean over rows of
    every one of the n! constants is a lookup in an n x n cost table.

    >>> round(prior([(1, 2, 3, 4, 5, 6)], [{}], {})["random_acc"] * 720, 6)
    1.0
    """
    sizes = {len(t) for t in truths}
    if len(sizes) != 1:
        raise ValueError(f"jigsaw rows of one data_source must share one clip count, got {sorted(sizes)}")
    n = sizes.pop()
    e_max = n * n // 2
    perms = np.asarray(list(itertools.permutations(range(1, n + 1))), dtype=np.int64)  # (n!, n)
    true = np.asarray(truths, dtype=np.int64)  # (N, n)

    # Against the identity both readings of E coincide: sum_i |perm[i] - i|.
    random_score = float(np.mean(1.0 - np.abs(perms - np.arange(1, n + 1)).sum(axis=1) / e_max))

    # index[r, c-1] = index of label c in the truth of row r;
    # cost[c-1, j] = mean over rows of |j - index of label c in the truth|
    index = np.argsort(true, axis=1)
    cost = np.abs(np.arange(n)[None, None, :] - index[:, :, None]).mean(axis=0)  # (n, n)
    # A constant lists labels perms[p, j] at indices j: E = sum_j cost[perms[p, j] - 1, j].
    mean_displacement = cost[perms - 1, np.arange(n)].sum(axis=1)  # (n!,)
    best = int(mean_displacement.argmin())  # first minimum: lexicographically smallest order
    best_order = tuple(int(v) for v in perms[best])

    counts = Counter(tuple(int(v) for v in row) for row in true)
    top = max(counts.values())
    mode = min(order for order, c in counts.items() if c == top)  # deterministic tie-break
    return {
        "random_acc": 1.0 / len(perms),
        "random_score": random_score,
        "best_constant": render(best_order),
        "best_constant_score": float(1.0 - mean_displacement[best] / e_max),
        "best_constant_acc": counts.get(best_order, 0) / len(true),
        "best_acc_constant": render(mode),
        "best_acc_constant_acc": top / len(true),
    }


REWARD = Reward(
    parse_answer=parse_exact,
    grade=grade,
    parse_truth=parse_truth,
    parse_released=parse_released,
    parse_loose=parse_loose,
    is_valid=is_permutation,
    render=render,
    prior=prior,
)
