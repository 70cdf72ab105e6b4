"""Checks of option values, shared by the Python API and the command lines.

Each checker takes a value (or its text) and returns it converted, or raises ``ValueError`` naming
what is wrong. The command lines wrap them as argparse ``type=`` functions (``data_prep.commands``),
so an impossible option is an argparse error (exit status 2) before any work starts; the API
(``FrameOptions``, ``build_dataset``) runs the same checks, so a folder is never written with them.

>>> positive_int("3"), non_negative_int("0"), fraction("0.2"), jpeg_quality("90")
(3, 0, 0.2, 90)
>>> positive_int("-5")
Traceback (most recent call last):
...
ValueError: must be a positive integer, got '-5'
>>> span((0.9, 0.1))
Traceback (most recent call last):
...
ValueError: START must be below END (0 <= START < END <= 1), got 0.9 0.1
>>> tier_pixels("train", 10)
Traceback (most recent call last):
...
ValueError: tier train=10: a tier needs at least 1024 pixels (32*32, one merged Qwen-VL patch)
"""

from __future__ import annotations

import math
import re
from typing import Any

MIN_TIER_PIXELS = 32 * 32  # the smallest frame a Qwen-VL patch grid (2x2 merge of 14/16 px) can hold
JPEG_QUALITY_RANGE = (1, 100)  # PIL's quality scale (above 95 only grows files)
RAY_SPECIAL = ("auto", "local")


def _number(text: Any, kind: type, what: str) -> Any:
    if isinstance(text, bool):
        raise ValueError(f"must be {what}, got {text!r}")
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise ValueError(f"must be {what}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise ValueError(f"must be {what}, got {text!r}")
    return value


def positive_int(text: Any) -> int:
    """A count that must be at least 1."""
    value = _number(text, int, "a positive integer")
    if value < 1:
        raise ValueError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_int(text: Any) -> int:
    """A count that may be 0."""
    value = _number(text, int, "an integer >= 0")
    if value < 0:
        raise ValueError(f"must be an integer >= 0, got {text!r}")
    return value


def positive_float(text: Any) -> float:
    value = _number(text, float, "a positive number")
    if value <= 0:
        raise ValueError(f"must be a positive number, got {text!r}")
    return value


def fraction(text: Any) -> float:
    """A share in [0, 1] (``--eval-fraction``)."""
    value = _number(text, float, "a number in [0, 1]")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be a number in [0, 1], got {text!r}")
    return value


def jpeg_quality(text: Any) -> int:
    lo, hi = JPEG_QUALITY_RANGE
    value = _number(text, int, f"an integer in [{lo}, {hi}]")
    if not lo <= value <= hi:
        raise ValueError(f"must be an integer in [{lo}, {hi}] (JPEG quality), got {text!r}")
    return value


def span(values: Any) -> tuple[float, float]:
    """``(START, END)``: fractions of the video with ``0 <= START < END <= 1``."""
    start, end = (fraction(v) for v in values)
    if not start < end:
        raise ValueError(f"START must be below END (0 <= START < END <= 1), got {start:g} {end:g}")
    return start, end


def tier_pixels(name: str, pixels: int) -> int:
    if not name or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"tier name {name!r}: letters, digits, '_', '-', '.' only (it is a folder name)")
    if pixels < MIN_TIER_PIXELS:
        raise ValueError(f"tier {name}={pixels}: a tier needs at least {MIN_TIER_PIXELS} pixels "
                         "(32*32, one merged Qwen-VL patch)")
    return pixels


def tiers(text: str) -> dict[str, int]:
    """``"train=256*256,eval=512*512"`` -> ``{"train": 65536, "eval": 262144}``.

    >>> tiers("train=256*256,eval=512*512")
    {'train': 65536, 'eval': 262144}
    """
    parsed: dict[str, int] = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        name = name.strip()
        if not name or not value:
            raise ValueError(f"tier {item!r} is not NAME=MAX_PIXELS")
        total = 1
        for factor in value.split("*"):
            total *= positive_int(factor.strip())
        if name in parsed:
            raise ValueError(f"tier {name!r} is given twice")
        parsed[name] = tier_pixels(name, total)
    return parsed


def ray_address(text: str) -> str:
    """``auto``, ``local``, ``HOST:PORT`` or ``ray://HOST:PORT`` (checked for form, not reached).

    >>> ray_address("10.0.0.1:6379"), ray_address("local")
    ('10.0.0.1:6379', 'local')
    """
    if text in RAY_SPECIAL:
        return text
    rest = text[len("ray://"):] if text.startswith("ray://") else text
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"must be 'auto', 'local', HOST:PORT or ray://HOST:PORT, got {text!r}")
    return text
