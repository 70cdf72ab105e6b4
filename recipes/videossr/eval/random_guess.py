"""Reference rows computed from the questions alone: random guess and best constant answer.

Both come from ``rewards.priors.answer_priors`` -- the rewards package's own scorer, evaluated
exactly over the answer distribution of the generator (no sampling) -- so they are on the same
scale as the model rows, and the table rounds them half up as the paper does.

``random_acc`` is the paper's "Random guess" row: counting a uniform count per shape in the
level's range (1/9 = 11.1, 1/16 = 6.3), jigsaw a uniform order (1/6! = 0.1, 1/8! = 0.0), and for
grounding, which the paper does not define, the one uninformed answer that reproduces its
25.2-25.9 within 1 point: the whole video (expected IoU E[t]/48 = 25.0; a random interval drawn
from the generator's own distribution gets 21.3-21.9, see ``rewards.tasks.grounding.prior``).
With these, Overall is about 15.8 against the paper's 16.1. ``best_acc_constant_acc``: the best
single answer given to every question of a subtype (how much a degenerate model can score). That
answer is chosen with the very answers it is scored on (an oracle, not a baseline a model could
reach without them), which its row's name says: ``BEST_CONSTANT``; tables written before it was
renamed are read with the new name (``reference_label``).

>>> # random_guess_row(rows).values["Cnt-E"] -> 11.1 for any counting-easy rows
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from recipes.videossr.eval.columns import PAPER, Layout
from recipes.videossr.eval.table import ResultsRow, row_from_means

RANDOM_GUESS = "Random guess"
BEST_CONSTANT = "Best constant (fitted on these answers)"
OLD_BEST_CONSTANT = "Best constant"  # the row's name in summary.json files written before the rename
REFERENCE_LABELS = (RANDOM_GUESS, BEST_CONSTANT)


def reference_label(label: str) -> str:
    """The current name of a reference row read from an older summary.json.

    >>> reference_label("Best constant")
    'Best constant (fitted on these answers)'
    """
    return BEST_CONSTANT if label == OLD_BEST_CONSTANT else label


Options = Optional[Mapping[str, Mapping[str, Any]]]


def _priors(rows: list[dict[str, Any]], options: Options = None) -> Mapping[str, Mapping[str, Any]]:
    from rewards.priors import answer_priors

    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    return answer_priors(clean, options)


def random_guess_row(rows: list[dict[str, Any]], layout: Layout = PAPER, options: Options = None) -> ResultsRow:
    """The random-guess row for these questions (per data_source, via the rewards scorer).

    ``options``: the build's generator options (``<stem>.build.json``), when a mix overrode a default.
    """
    priors = _priors(rows, options)
    return row_from_means(RANDOM_GUESS, {ds: float(p["random_acc"]) for ds, p in priors.items()}, layout)


def best_constant_row(rows: list[dict[str, Any]], layout: Layout = PAPER, options: Options = None) -> ResultsRow:
    """The best-constant-answer row for these questions (per data_source)."""
    priors = _priors(rows, options)
    means = {ds: float(p["best_acc_constant_acc"]) for ds, p in priors.items()}
    return row_from_means(BEST_CONSTANT, means, layout)
