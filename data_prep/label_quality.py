"""Label quality of a built dataset: how often a label is not verifiable from the pixels.

Two figures, computed from the facts each row records in ``extra_info.meta`` (no image I/O):

* counting: the fraction of shape-drawn frames on which two shapes overlap (a shape drawn over
  another hides part of the count), exact on the drawn geometry (``shapes.overlap``).
* grounding: the fraction of rows whose first or last perturbed frame shows the original frame of
  that position (``meta.shown[pos] == pos``: a shuffle that leaves a frame in place, a stutter that
  holds the segment's own first frame), so that edge of the interval cannot be seen.

The released generators (``paper`` profile) have both; the ``verified`` profile has neither
(``data_prep.profiles``). The dataset card prints them per build.

>>> label_quality([])
{'counting_frames': 0, 'counting_overlap_fraction': None, 'grounding_rows': 0, 'grounding_edge_identical_fraction': None}
"""

from __future__ import annotations

import itertools
import json
from typing import Any, Iterable, Mapping

from data_prep.tasks.shapes import Shape, overlap


def label_quality(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The two figures of the module docstring over ``rows`` (None where no row of that task)."""
    frames = overlapping = grounding_rows = edge_identical = 0
    for row in rows:
        info = row["extra_info"]
        meta = info["meta"]
        meta = json.loads(meta) if isinstance(meta, str) else meta
        if info["task"] == "counting":
            for drawn in meta["shapes"].values():
                frames += 1
                overlapping += frame_has_overlap([Shape.from_dict(d) for d in drawn])
        elif info["task"] == "grounding":
            grounding_rows += 1
            shown, start, end = meta["shown"], meta["start_frame"], meta["end_frame"]
            edge_identical += shown[start] == start or shown[end - 1] == end - 1
    return {
        "counting_frames": frames,
        "counting_overlap_fraction": overlapping / frames if frames else None,
        "grounding_rows": grounding_rows,
        "grounding_edge_identical_fraction": edge_identical / grounding_rows if grounding_rows else None,
    }


def frame_has_overlap(shapes: list[Shape]) -> bool:
    """True when two of the shapes share a pixel.

    >>> a = Shape("circle", 10, 10, 8, 0, (255, 0, 0))
    >>> frame_has_overlap([a, Shape("square", 14, 10, 8, 0, (0, 255, 0))]), frame_has_overlap([a, Shape("square", 30, 10, 8, 0, (0, 255, 0))])
    (True, False)
    """
    return any(overlap(a, b) for a, b in itertools.combinations(shapes, 2))

