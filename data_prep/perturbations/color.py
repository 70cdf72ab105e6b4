"""Fine-grained (appearance) perturbations: the content stays, its colours or sharpness change.

Parameters follow the paper; each is a keyword with the paper's (released) value as default
(``data_prep.profiles`` sets them per profile).

>>> import numpy as np
>>> from PIL import Image
>>> seg = Segment(start=0, length=2, num_frames=4, load=lambda k: Image.new("RGB", (4, 4), (200, 10, 30)))
>>> channel_swap(seg, np.random.default_rng(0))[0].getpixel((0, 0))
(30, 10, 200)
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from data_prep.perturbations.base import Segment, each_frame


def saturation(segment: Segment, rng: np.random.Generator, factor: float = 2.0) -> list:
    """Colour saturation x ``factor`` (paper: 2.0)."""
    return each_frame(segment, lambda im: ImageEnhance.Color(im).enhance(factor))


def noise(
    segment: Segment,
    rng: np.random.Generator,
    sigma: tuple[float, float] = (35.0, 70.0),
    per_frame: bool = True,
    at_source: bool = True,
) -> list:
    """Additive Gaussian noise of sigma ~ U(35, 70), fresh noise on every frame.

    ``per_frame`` (paper): a new sigma for every frame, as the released generator; else one per
    segment. ``at_source`` (paper): the released generator added the noise to source-resolution
    frames, which the trainer then shrinks to the stored size; resizing is linear, so that equals
    noise drawn at the source size, shrunk (BICUBIC, as the trainer) and added here.
    """
    s = float(rng.uniform(*sigma))

    def add(im: Image.Image) -> Image.Image:
        strength = float(rng.uniform(*sigma)) if per_frame else s
        arr = np.asarray(im, dtype=np.float32)
        source = segment.source_size if at_source else None
        if source and source[0] > im.width:
            channels = [
                Image.fromarray(rng.normal(0.0, strength, size=(source[1], source[0])).astype(np.float32), "F")
                .resize(im.size, Image.BICUBIC)
                for _ in range(3)
            ]
            grain = np.stack([np.asarray(c) for c in channels], axis=-1)
        else:
            grain = rng.normal(0.0, strength, size=arr.shape).astype(np.float32)
        return Image.fromarray(np.clip(arr + grain, 0, 255).astype(np.uint8))

    return each_frame(segment, add)


def blur(segment: Segment, rng: np.random.Generator, radius: float = 2.0, at_source: bool = True) -> list:
    """Gaussian blur of radius 2 px (paper); ``at_source`` (paper): 2 px of the source resolution,
    i.e. ``2 * stored width / source width`` here."""

    def apply(im: Image.Image) -> Image.Image:
        source = segment.source_size if at_source else None
        r = radius * im.width / source[0] if source and source[0] > im.width else radius
        return im.filter(ImageFilter.GaussianBlur(r))

    return each_frame(segment, apply)


def grayscale(segment: Segment, rng: np.random.Generator) -> list:
    """Colour -> luminance, kept as 3-channel RGB."""
    return each_frame(segment, lambda im: ImageOps.grayscale(im).convert("RGB"))


def invert(segment: Segment, rng: np.random.Generator) -> list:
    """Negative image (255 - value)."""
    return each_frame(segment, ImageOps.invert)


def channel_swap(segment: Segment, rng: np.random.Generator) -> list:
    """Red and blue channels exchanged."""

    def swap(im: Image.Image) -> Image.Image:
        r, g, b = im.split()
        return Image.merge("RGB", (b, g, r))

    return each_frame(segment, swap)
