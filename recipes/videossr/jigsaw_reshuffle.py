"""Fresh Temporal Jigsaw puzzles: re-permute the shown clips of a built prompt and rewrite its answer.

A stored jigsaw row fixes one permutation; with ``fresh_jigsaw`` on, each access shows the same clips
in a new random order (Visual-Jigsaw style), so a model cannot memorise answers across epochs.

Answer convention (``data_prep.schema``): digit k = the 1-based SHOWN position of ORIGINAL clip k.

>>> shown, answer, _ = reshuffle(["c2", "c0", "c1"], "231", np.random.default_rng(0))
>>> [shown[int(d) - 1] for d in answer]  # original order recovered from the new answer
['c0', 'c1', 'c2']
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from data_prep.schema import MAX_JIGSAW_CLIPS
from data_prep.tasks.jigsaw import answer_for


def original_order(shown: Sequence[Any], answer: str) -> list[Any]:
    """Clips in their original (temporal) order, from the shown order and the answer.

    >>> original_order(["b", "c", "a"], "312")
    ['a', 'b', 'c']
    """
    positions = [int(d) for d in answer]
    if sorted(positions) != list(range(1, len(shown) + 1)):
        raise ValueError(f"jigsaw answer {answer!r} is not a permutation of 1..{len(shown)}")
    return [shown[p - 1] for p in positions]


def reshuffle(
    shown: Sequence[Any], answer: str, rng: np.random.Generator
) -> tuple[list[Any], str, list[int]]:
    """A new random shown order of the same clips, its answer string, and ``shown_order`` (the
    original clip index in each shown slot, as ``extra_info.meta`` records it)."""
    if len(shown) > MAX_JIGSAW_CLIPS:
        raise ValueError(f"jigsaw answers are one digit per clip: at most {MAX_JIGSAW_CLIPS} clips")
    clips = original_order(shown, answer)
    order = [int(k) for k in rng.permutation(len(clips))]  # new_shown[j] = clips[order[j]]
    return [clips[k] for k in order], answer_for(order), order


def reshuffle_messages(messages: list[dict], answer: str, rng: np.random.Generator) -> tuple[str, list[int]]:
    """Re-permute the video items of built chat ``messages`` in place; return the new answer and
    the new ``shown_order``.

    ``messages`` is verl's ``raw_prompt`` (content lists with ``{"type": "video", ...}`` items). The
    text around the clips ("Clip 1:", "Clip 2:", ...) stays; only the clips change slots.
    """
    slots = [
        (m, i)
        for m in messages
        if isinstance(m.get("content"), list)
        for i, item in enumerate(m["content"])
        if isinstance(item, dict) and item.get("type") == "video"
    ]
    shown = [m["content"][i] for m, i in slots]
    new_shown, new_answer, order = reshuffle(shown, answer, rng)
    for (m, i), item in zip(slots, new_shown):
        m["content"][i] = item
    return new_answer, order
