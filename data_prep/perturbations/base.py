"""What a perturbation is: a seeded function from a video segment to the frames shown instead.

A perturbation receives a :class:`Segment` (where it acts, how to load the original frames) and a
seeded ``numpy`` generator, and returns one entry per segment position:

* an ``int`` k: show the ORIGINAL frame k of the same video (referenced by path, never copied);
* a ``PIL.Image``: new pixels, written under the output dataset folder by the task.

Contract (the tests check it for every registered perturbation): all images keep the size of the
video's frames (Qwen-VL needs one size per video). With the ``verified`` profile's parameters
(``data_prep.profiles``) every returned entry also differs from the original frame at that
position (an ``int`` never equals its own position, an image is never the unchanged original), so
the frames that differ from the source video are exactly the answer's span. The function
defaults are the ``paper`` profile's, where the released shuffle and stutter-hold may show an
original frame in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

import numpy as np
from PIL import Image

FrameOut = Union[int, Image.Image]


@dataclass(frozen=True)
class Segment:
    """The perturbed span ``[start, start + length)`` of a ``num_frames``-frame video.

    >>> seg = Segment(start=10, length=8, num_frames=48, load=lambda k: None)
    >>> list(seg.positions)[:3]
    [10, 11, 12]
    """

    start: int
    length: int
    num_frames: int
    load: Callable[[int], Image.Image]  # original frame k of this video (RGB)
    load_other: Optional[Callable[[int], Image.Image]] = None  # frame k of another video (swap)
    # (width, height) of the source video; pixel-scale perturbations can act as if at this size
    source_size: Optional[tuple[int, int]] = None

    @property
    def positions(self) -> range:
        return range(self.start, self.start + self.length)

    @property
    def end(self) -> int:
        return self.start + self.length


PerturbFn = Callable[[Segment, np.random.Generator], list]


@dataclass(frozen=True)
class Perturbation:
    """A registered perturbation: its function, the prompt's description, its family."""

    name: str
    fn: PerturbFn
    description: str  # completes "In a segment of this video, {description}."
    family: str  # "fine-grained" | "spatial" | "temporal"
    needs_other_video: bool = False

    def __call__(self, segment: Segment, rng: np.random.Generator, **params) -> list:
        """Run it; ``params`` override the function's keyword defaults (e.g. ``sigma=(35, 70)``)."""
        out = self.fn(segment, rng, **params)
        if len(out) != segment.length:
            raise RuntimeError(f"perturbation {self.name} returned {len(out)} frames for {segment.length}")
        return out


def each_frame(segment: Segment, transform: Callable[[Image.Image], Image.Image]) -> list:
    """Apply ``transform`` to every original frame of the segment (parameters drawn by the caller)."""
    return [transform(segment.load(k).convert("RGB")) for k in segment.positions]
