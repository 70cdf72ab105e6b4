"""Train/eval video split: a pure function of the video id, so no two builds can disagree.

A video is an evaluation (VIUBench) video when a hash of its id falls below ``eval_fraction``
(default 0.2). Training builds use only the other videos, so a VIUBench build never shares a
video with a training build of the same frames folder as long as both use the same fraction (the
default; both dataset cards record it, and a build refuses a folder whose other builds used
another). Adding videos never moves an existing video across.
"""

from __future__ import annotations

import hashlib

DEFAULT_EVAL_FRACTION = 0.2
SPLITS = ("train", "eval")


def split_score(video_id: str) -> float:
    """Uniform number in [0, 1) derived from the id only.

    >>> 0.0 <= split_score("demo_bikes-6eb3236353") < 1.0
    True
    """
    digest = hashlib.sha256(f"videossr-split/{video_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(video_id: str, eval_fraction: float = DEFAULT_EVAL_FRACTION) -> str:
    """``"eval"`` or ``"train"`` for this video.

    >>> split_of("any-video", eval_fraction=0.0)
    'train'
    """
    if not 0.0 <= eval_fraction <= 1.0:
        raise ValueError(f"eval_fraction must be within [0, 1], got {eval_fraction}")
    return "eval" if split_score(video_id) < eval_fraction else "train"
