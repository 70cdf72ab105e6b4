"""The VIUBench column layout of the paper's Table 1: 9 subtypes, 3 task averages, Overall.

A column is one ``data_source`` (``videossr/<task>/<subtype>``, see ``rewards.naming``). Overall is
the unweighted mean of the 9 subtype columns (not of the 3 task averages), as in the paper.
Adding a subtype to the benchmark is one line in ``SUBTYPE_COLUMNS``.

>>> SUBTYPE_COLUMNS[0]
Column(data_source='videossr/counting/easy', label='Cnt-E', task='counting')
>>> [c.label for c in columns_of_task("jigsaw")]
['Jig-6', 'Jig-8']
"""

from __future__ import annotations

from typing import NamedTuple

from rewards.naming import make_data_source


class Column(NamedTuple):
    data_source: str
    label: str  # short header, the paper's abbreviation
    task: str


def _col(task: str, subtype: str, label: str) -> Column:
    return Column(make_data_source(task, subtype), label, task)


SUBTYPE_COLUMNS: tuple[Column, ...] = (
    _col("counting", "easy", "Cnt-E"),
    _col("counting", "hard", "Cnt-H"),
    _col("grounding", "channel_swap", "Chan"),
    _col("grounding", "rotate_180", "Rot"),
    _col("grounding", "zoom_out", "ZoomOut"),
    _col("grounding", "mirror", "Mirror"),
    _col("grounding", "shuffle", "Shuffle"),
    _col("jigsaw", "n6", "Jig-6"),
    _col("jigsaw", "n8", "Jig-8"),
)

# Task order and the header of each task-average column.
TASK_AVERAGES: tuple[tuple[str, str], ...] = (
    ("counting", "Cnt-Avg"),
    ("grounding", "Grd-Avg"),
    ("jigsaw", "Jig-Avg"),
)
OVERALL = "Overall"


def columns_of_task(task: str) -> list[Column]:
    """The subtype columns of one task, in table order.

    >>> len(columns_of_task("grounding"))
    5
    """
    return [c for c in SUBTYPE_COLUMNS if c.task == task]


def table_headers() -> list[str]:
    """All metric headers in Table 1 order: each task's subtypes then its average, then Overall.

    >>> table_headers()[:3]
    ['Cnt-E', 'Cnt-H', 'Cnt-Avg']
    """
    headers: list[str] = []
    for task, avg_label in TASK_AVERAGES:
        headers += [c.label for c in columns_of_task(task)] + [avg_label]
    return headers + [OVERALL]
