"""The ``data_source`` naming scheme shared by the datasets, the rewards and the evaluation.

Every row that ``data_prep`` writes carries ``data_source = "videossr/<task>/<subtype>"``:

=============  =========================================================  ==================
task           subtypes                                                    ground truth
=============  =========================================================  ==================
grounding      the perturbation name, e.g. ``channel_swap``, ``mirror``   ``"12.3-20.1"``
counting       the difficulty, ``easy`` or ``hard``                       ``"3,1,4"``
jigsaw         the number of clips, ``n6``, ``n8`` (any ``n<k>``)          ``"341562"``
=============  =========================================================  ==================

verl reports validation metrics per ``data_source`` (``val-core/<data_source>/<key>/mean@N``),
so this scheme gives one metric line per VIUBench column for free, and the reward router only
needs the middle component. This module is the single place that builds and parses the name.

>>> make_data_source("grounding", "mirror")
'videossr/grounding/mirror'
>>> parse_data_source("videossr/jigsaw/n6")
DataSource(task='jigsaw', subtype='n6')
"""

from __future__ import annotations

import re
from typing import NamedTuple

PREFIX = "videossr"
_PART = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class DataSource(NamedTuple):
    task: str
    subtype: str


def make_data_source(task: str, subtype: str) -> str:
    """Build the ``data_source`` string for a task and subtype.

    >>> make_data_source("counting", "easy")
    'videossr/counting/easy'
    """
    for part in (task, subtype):
        if not _PART.match(part):
            raise ValueError(f"data_source parts must be lowercase [a-z0-9_], got {part!r}")
    return f"{PREFIX}/{task}/{subtype}"


def parse_data_source(data_source: str) -> DataSource:
    """Split a ``data_source`` into (task, subtype); raise ``ValueError`` naming it otherwise.

    >>> parse_data_source("videossr/grounding/rotate_180").task
    'grounding'
    """
    parts = data_source.split("/") if isinstance(data_source, str) else []
    if len(parts) != 3 or parts[0] != PREFIX or not all(_PART.match(p) for p in parts[1:]):
        raise ValueError(
            f"data_source {data_source!r} is not of the form '{PREFIX}/<task>/<subtype>' "
            "(rows written by `python -m data_prep build` always are)"
        )
    return DataSource(parts[1], parts[2])


def jigsaw_subtype(num_clips: int) -> str:
    """Subtype name for a jigsaw with ``num_clips`` clips.

    >>> jigsaw_subtype(8)
    'n8'
    """
    return f"n{int(num_clips)}"
