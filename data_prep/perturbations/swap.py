"""Swap (reference code, not in the paper): the segment is replaced by the same span of ANOTHER video.

The other video is chosen by the task from the same split (never crossing train/eval) and its
frames are resized to this video's frame size, so the clip keeps one frame size.

>>> import numpy as np
>>> seg = Segment(0, 1, 4, load=lambda k: Image.new("RGB", (8, 6)), load_other=lambda k: Image.new("RGB", (3, 3)))
>>> swap(seg, np.random.default_rng(0))[0].size
(8, 6)
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from data_prep.perturbations.base import Segment


def swap(segment: Segment, rng: np.random.Generator) -> list:
    """Frames ``start..end-1`` of the partner video, resized to this video's size."""
    if segment.load_other is None:
        raise ValueError("swap needs a second video (Segment.load_other)")
    size = segment.load(segment.start).size
    return [segment.load_other(k).convert("RGB").resize(size, Image.BICUBIC) for k in segment.positions]
