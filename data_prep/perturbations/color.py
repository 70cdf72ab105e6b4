"""Fine-grained (appearance) perturbations: the content stays, its colours or sharpness change.

Parameters follow the paper; each is a keyword with the paper's value as default, drawn once per
sample so the whole segment changes the same way.

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


def noise(segment: Segment, rng: np.random.Generator, sigma: tuple[float, float] = (35.0, 70.0)) -> list:
    """Additive Gaussian noise, sigma ~ U(35, 70) once per sample, fresh noise on every frame."""
    s = float(rng.uniform(*sigma))

    def add(im: Image.Image) -> Image.Image:
        arr = np.asarray(im, dtype=np.float32)
        noisy = arr + rng.normal(0.0, s, size=arr.shape).astype(np.float32)
        return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))

    return each_frame(segment, add)


def blur(segment: Segment, rng: np.random.Generator, radius: float = 2.0) -> list:
    """Gaussian blur, radius 2 px (paper)."""
    return each_frame(segment, lambda im: im.filter(ImageFilter.GaussianBlur(radius)))


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
