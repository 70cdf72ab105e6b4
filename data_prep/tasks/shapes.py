"""Geometry and drawing of the Object Counting shapes: filled circles, squares, triangles.

``size`` is the shape's width before rotation: a circle's diameter, a square's side, an
equilateral triangle's side. ``circumradius(shape, size)`` bounds the shape at any rotation, which
is what the placement rules use to keep every shape fully inside the frame.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle")  # answer order: circles,squares,triangles
_CIRCUMRADIUS = {"circle": 0.5, "square": 1 / math.sqrt(2), "triangle": 1 / math.sqrt(3)}


@dataclass(frozen=True)
class Shape:
    kind: str
    cx: float
    cy: float
    size: float
    angle: float  # degrees, counter-clockwise
    color: tuple[int, int, int]

    def as_dict(self) -> dict:
        d = asdict(self)
        d["color"] = list(self.color)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Shape":
        """The inverse of :meth:`as_dict` (rows record their shapes that way in ``meta.shapes``)."""
        return cls(d["kind"], d["cx"], d["cy"], d["size"], d["angle"], tuple(d["color"]))


def circumradius(kind: str, size: float) -> float:
    """Radius of the circle that contains the shape at every rotation.

    >>> round(circumradius("square", 10), 3)
    7.071
    """
    return _CIRCUMRADIUS[kind] * size


def vertices(shape: Shape) -> list[tuple[float, float]]:
    """Polygon corners of a square or triangle (image coordinates, y down)."""
    r = circumradius(shape.kind, shape.size)
    corners = 4 if shape.kind == "square" else 3
    first = 45.0 if shape.kind == "square" else 90.0  # axis-aligned square, apex-up triangle at 0 deg
    pts = []
    for i in range(corners):
        a = math.radians(first + shape.angle + i * 360.0 / corners)
        pts.append((shape.cx + r * math.cos(a), shape.cy - r * math.sin(a)))
    return pts


def draw(image: Image.Image, shapes: list[Shape]) -> Image.Image:
    """A copy of ``image`` with ``shapes`` painted in order (later ones on top)."""
    out = image.convert("RGB").copy()
    pen = ImageDraw.Draw(out)
    for s in shapes:
        if s.kind == "circle":
            r = s.size / 2
            pen.ellipse((s.cx - r, s.cy - r, s.cx + r, s.cy + r), fill=tuple(s.color))
        else:
            pen.polygon(vertices(s), fill=tuple(s.color))
    return out


def overlap(a: Shape, b: Shape) -> bool:
    """True when the two shapes, drawn as :func:`draw` draws them, share a pixel.

    Both are rasterised on one small canvas around them and their masks intersected; shapes
    farther apart than their circumradii are told apart without drawing.

    >>> overlap(Shape("square", 0, 0, 10, 45, (0, 0, 0)), Shape("square", 11, 0, 10, 45, (0, 0, 0)))
    True
    """
    reach = [circumradius(s.kind, s.size) for s in (a, b)]
    if math.hypot(a.cx - b.cx, a.cy - b.cy) >= sum(reach) + 1:
        return False
    left = math.floor(min(s.cx - r for s, r in zip((a, b), reach))) - 1
    top = math.floor(min(s.cy - r for s, r in zip((a, b), reach))) - 1
    right = math.ceil(max(s.cx + r for s, r in zip((a, b), reach))) + 1
    bottom = math.ceil(max(s.cy + r for s, r in zip((a, b), reach))) + 1
    masks = []
    for s in (a, b):
        moved = Shape(s.kind, s.cx - left, s.cy - top, s.size, s.angle, (255, 255, 255))
        canvas = draw(Image.new("RGB", (right - left, bottom - top)), [moved])
        masks.append(np.asarray(canvas)[:, :, 0] > 0)
    return bool(np.any(masks[0] & masks[1]))
