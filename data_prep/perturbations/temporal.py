"""Temporal perturbations: every frame is an original frame of the same video, shown at the wrong time.

No new frames are decoded: the segment is rebuilt from the video's stored frames, so these return
frame indices (referenced by path). Timestamps stay evenly spaced at the video's ``sample_fps``;
the prompt tells the model to judge speed from the motion.

Slow and fast always move every frame; shuffle and stutter-hold do under the ``verified``
profile only (``data_prep.profiles``).

* slow (factor r=2): the segment plays at 1/r speed, starting from the frame just before it
  (``s-1, s-1, s, s, ...``) and then playback jumps back to normal at the segment's end. When the
  segment opens the video there is no frame before it, so the slow run instead ends on the frame
  just after it.
* fast (factor r=2): the segment plays r times faster: it skips frames starting just after its
  first frame (``s+1, s+3, ...``), or, where that would run past the last frame, ends just before
  it; one of the fitting anchors is drawn at random. Playback then jumps back to the normal
  timeline. With r=2 and segments of at most 16 of 48 frames one anchor always fits.
* stutter-hold: 2..5 frames are kept, each held for an equal share of the segment (the video
  "hangs"). Paper (``rule="linspace"``): the released rule, frames evenly spaced inside the
  segment. ``hold_before``: each hold shows the last frame before its block (the first frame after
  it when the segment opens the video), so no position shows its own frame.
* shuffle: the segment's frames in a random order (paper); ``derangement=True``: none in place.

>>> rng = np.random.default_rng(0)
>>> slow(Segment(start=10, length=4, num_frames=48, load=None), rng)
[9, 9, 10, 10]
>>> stutter_hold(Segment(start=0, length=4, num_frames=48, load=None), rng, rule="hold_before")
[2, 2, 4, 4]
>>> stutter_hold(Segment(start=10, length=8, num_frames=48, load=None), np.random.default_rng(1))
[10, 10, 10, 13, 13, 13, 17, 17]
"""

from __future__ import annotations

import numpy as np

from data_prep.perturbations.base import Segment


def slow(segment: Segment, rng: np.random.Generator, factor: int = 2) -> list[int]:
    """Slow motion from the stored frames (see the module docstring)."""
    s, e = segment.start, segment.end
    if s >= 1:
        return [s - 1 + (i - s) // factor for i in segment.positions]
    if e <= segment.num_frames - 1:
        return [e - (e - 1 - i) // factor for i in segment.positions]
    raise ValueError(f"slow needs a frame before or after the segment [{s}, {e})")


def fast(segment: Segment, rng: np.random.Generator, factor: int = 2) -> list[int]:
    """Fast motion from the stored frames (see the module docstring)."""
    s, e, n = segment.start, segment.end, segment.num_frames
    anchors = []
    if s + 1 + factor * (segment.length - 1) <= n - 1:
        anchors.append([s + 1 + factor * (i - s) for i in segment.positions])
    if e - 2 - factor * (segment.length - 1) >= 0:
        anchors.append([e - 2 - factor * (e - 1 - i) for i in segment.positions])
    if not anchors:
        raise ValueError(f"fast x{factor} does not fit the segment [{s}, {e}) of {n} frames")
    return anchors[int(rng.integers(len(anchors)))]


def stutter_hold(
    segment: Segment, rng: np.random.Generator, kept: tuple[int, int] = (2, 5), rule: str = "linspace"
) -> list[int]:
    """k ~ U{2..5} frames held in turn.

    ``linspace`` (paper, released): the segment's frames at ``linspace(0, t-1, k)`` (integer), each
    repeated t//k times (+1 for the first t%k), so the first (and last) position shows its own
    frame. ``hold_before``: see the module docstring; every position differs from the original.
    """
    t = segment.length
    if rule == "linspace":
        k = int(rng.integers(kept[0], kept[1] + 1))
        picks = np.linspace(0, t - 1, k, dtype=int)
        out: list[int] = []
        for i, pick in enumerate(picks):
            out += [segment.start + int(pick)] * (t // k + (1 if i < t % k else 0))
        return out
    if rule != "hold_before":
        raise ValueError(f"stutter_hold rule must be linspace or hold_before, got {rule!r}")
    m = int(rng.integers(kept[0], min(kept[1], max(kept[0], t // 2)) + 1))
    blocks = np.array_split(np.arange(segment.start, segment.end), m)
    before = segment.start >= 1
    out = []
    for block in blocks:
        held = int(block[0]) - 1 if before else int(block[-1]) + 1
        out += [held] * len(block)
    return out


def shuffle(segment: Segment, rng: np.random.Generator, derangement: bool = False) -> list[int]:
    """The segment's own frames in a uniformly random order (paper, released: frames may stay in
    place); ``derangement``: no frame keeps its position."""
    positions = np.arange(segment.start, segment.end)
    while True:  # ~e tries on average for a derangement
        order = rng.permutation(positions)
        if not derangement or not np.any(order == positions):
            return [int(k) for k in order]
