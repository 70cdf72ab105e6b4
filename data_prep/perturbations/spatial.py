"""Spatial perturbations: the geometry of the frame changes, never its size.

Every output keeps the video's frame size: zoom in crops the centre and resizes it back, zoom
out shrinks the frame onto black, and the quarter turns (released code only, not in the paper)
fit the rotated frame onto a black canvas of the original size. The released code rotates with
``expand=True`` instead, which changes the frame size mid-video; qwen-vl-utils' ``fetch_video``
``torch.stack``s the frames of a frame-list video, so such a row raises when it is loaded (every
non-square video): letterboxing is the one way to keep these rows usable.

>>> import numpy as np
>>> from PIL import Image
>>> seg = Segment(start=0, length=1, num_frames=4, load=lambda k: Image.new("RGB", (8, 4)))
>>> rotate_90(seg, np.random.default_rng(0))[0].size
(8, 4)
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from data_prep.perturbations.base import Segment, each_frame


_RESAMPLE = {"lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC}


def zoom_in(
    segment: Segment,
    rng: np.random.Generator,
    scale: tuple[float, float] = (1.3, 1.5),
    per_frame: bool = True,
    resample: str = "lanczos",
) -> list:
    """Centre crop of 1/scale of each side (scale ~ U(1.3, 1.5)), resized back.

    ``per_frame`` (paper): a new scale for every frame, as the released generator (the view
    jitters); else one per segment. ``resample``: lanczos (released) | bicubic.
    """
    z = float(rng.uniform(*scale))
    method = _RESAMPLE[resample]

    def crop(im: Image.Image) -> Image.Image:
        zoom = float(rng.uniform(*scale)) if per_frame else z
        w, h = im.size
        cw, ch = w / zoom, h / zoom
        box = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
        return im.resize((w, h), method, box=box)

    return each_frame(segment, crop)


def zoom_out(
    segment: Segment,
    rng: np.random.Generator,
    scale: tuple[float, float] = (1.2, 1.4),
    per_frame: bool = True,
    resample: str = "lanczos",
) -> list:
    """Frame shrunk by scale ~ U(1.2, 1.4) to ``int(w/scale) x int(h/scale)`` and centred on
    black; ``per_frame`` and ``resample`` as for :func:`zoom_in`."""
    z = float(rng.uniform(*scale))
    method = _RESAMPLE[resample]

    def shrink(im: Image.Image) -> Image.Image:
        zoom = float(rng.uniform(*scale)) if per_frame else z
        w, h = im.size
        nw, nh = max(1, int(w / zoom)), max(1, int(h / zoom))
        canvas = Image.new("RGB", (w, h))
        canvas.paste(im.resize((nw, nh), method), ((w - nw) // 2, (h - nh) // 2))
        return canvas

    return each_frame(segment, shrink)


def rotate_180(segment: Segment, rng: np.random.Generator) -> list:
    """Upside down."""
    return each_frame(segment, lambda im: im.transpose(Image.Transpose.ROTATE_180))


def mirror(segment: Segment, rng: np.random.Generator) -> list:
    """Horizontal flip."""
    return each_frame(segment, lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT))


def rotate_90(segment: Segment, rng: np.random.Generator) -> list:
    """Quarter turn clockwise, as the released Rotate90 (PIL ``rotate(-90)``), letterboxed."""
    return each_frame(segment, lambda im: _fit_on_black(im.transpose(Image.Transpose.ROTATE_270), im.size))


def rotate_270(segment: Segment, rng: np.random.Generator) -> list:
    """270 degrees clockwise = a quarter turn counter-clockwise, as the released Rotate270
    (PIL ``rotate(90)``), letterboxed."""
    return each_frame(segment, lambda im: _fit_on_black(im.transpose(Image.Transpose.ROTATE_90), im.size))


def _fit_on_black(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``im`` scaled to fit ``size``, centred on a black canvas of ``size``."""
    w, h = size
    fit = min(w / im.width, h / im.height)
    nw, nh = max(1, round(im.width * fit)), max(1, round(im.height * fit))
    canvas = Image.new("RGB", size)
    canvas.paste(im.resize((nw, nh), Image.BICUBIC), ((w - nw) // 2, (h - nh) // 2))
    return canvas
