"""How much a model can score without looking at the video: answer priors of a built dataset.

For every ``data_source`` of a dataset, :func:`answer_priors` reports

==========================  ================================================================
``task``, ``n``             task name and number of rows
``random_acc``              expected VIUBench acc of a uniformly random answer from the task's
``random_score``            answer space, and its expected training reward (smooth, the paper's)
``best_constant``           the one answer that, given to every row, maximises the mean reward
``best_constant_score``     its mean reward ...
``best_constant_acc``       ... and its mean VIUBench acc
``best_acc_constant``       the constant answer that maximises mean acc instead, and that acc
``best_acc_constant_acc``
==========================  ================================================================

Answer spaces (the generator's, see each task module): counting 1..9 (easy) / 1..16 (hard) per
shape, or 1..F*K when the row's ``meta`` records the level it was built with; jigsaw all n!
orders; grounding random guesses of U{segment_length} frames (paper 8..16; pass the build's
options when a mix overrode it) at a uniform start and constant answers over every frame-aligned
segment of the ``num_frames`` shown; a task without its own ``prior`` enumerates its declared
``answer_space`` (``rewards.tasks.base.enumeration_prior``). Everything is exact (enumeration,
vectorised with numpy), so the figures are deterministic.

>>> rows = [{"data_source": "videossr/counting/easy", "reward_model": {"ground_truth": "3,1,4"},
...          "extra_info": {"difficulty": "easy"}}]
>>> answer_priors(rows)["videossr/counting/easy"]["best_constant"]
'3,1,4'
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Optional

from rewards.scoring import describe_row, resolve_task


def answer_priors(
    rows: Iterable[Mapping[str, Any]], options: Optional[Mapping[str, Mapping[str, Any]]] = None
) -> dict[str, dict]:
    """Random-guess and best-constant figures per ``data_source`` of verl rows.

    Args:
        rows: verl rows (dicts with ``data_source``, ``reward_model.ground_truth`` and
            ``extra_info``, as ``data_prep.schema`` describes; e.g. parquet rows read back).
        options: the generator options the rows were built with, by task (``generator_options``
            of the build's ``<stem>.build.json``); None: each task's declared defaults. A mix that
            overrides e.g. grounding's ``segment_length`` needs them for the right priors.

    Returns:
        ``{data_source: {"task", "n", "random_acc", "random_score", "best_constant",
        "best_constant_score", "best_constant_acc", "best_acc_constant", "best_acc_constant_acc"}}``
        with data_sources in sorted order. A malformed row raises ``ValueError`` naming it.

    >>> rows = [{"data_source": "videossr/jigsaw/n6", "reward_model": {"ground_truth": "123456"},
    ...          "extra_info": {"index": 0}}]
    >>> round(answer_priors(rows)["videossr/jigsaw/n6"]["random_score"], 4)
    0.3519
    """
    grouped: dict[str, tuple[Any, list, list]] = {}
    for position, row in enumerate(rows):
        data_source = row.get("data_source")
        info = row.get("extra_info") or {}
        label = describe_row(data_source, info if "index" in info else {**info, "index": position})
        try:
            ground_truth = row["reward_model"]["ground_truth"]
        except (KeyError, TypeError):
            raise ValueError(f"{label}: missing reward_model.ground_truth") from None
        task, subtype = resolve_task(data_source, info)
        try:
            truth = task.reward.parse_truth(ground_truth, subtype)
        except ValueError as err:
            raise ValueError(f"{label}: {err}") from None
        entry = grouped.setdefault(data_source, (task, [], []))
        entry[1].append(truth)
        entry[2].append(info)

    report: dict[str, dict] = {}
    for data_source in sorted(grouped):
        task, truths, infos = grouped[data_source]
        # Canonical row order: float sums, hence the figures, do not depend on the file's order.
        ordered = sorted(
            zip(truths, infos),
            key=lambda pair: (repr(pair[0]), json.dumps(pair[1], sort_keys=True, default=str)),
        )
        truths, infos = [t for t, _ in ordered], [i for _, i in ordered]
        try:
            figures = task.reward.priors(truths, infos, task.effective_options(options))
        except (KeyError, ValueError) as err:
            raise ValueError(f"data_source {data_source!r}: {err}") from None
        report[data_source] = {"task": task.name, "n": len(truths), **figures}
    return report
