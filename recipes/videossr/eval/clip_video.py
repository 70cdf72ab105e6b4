"""Encode a frame-list clip into an mp4 at its own ``sample_fps`` (for tools that read video files).

lmms-eval's video models take file paths; VIUBench rows carry frame lists. Encoding each clip
once at ``sample_fps`` keeps every timestamp (and so every grounding answer in seconds) valid.
Files are cached by a hash of (frame paths, fps) and written atomically.

>>> # clip_video_file({"video": ["000.jpg", ...], "sample_fps": 4.8}, cache_dir) -> ".../<hash>.mp4"
"""

from __future__ import annotations

import hashlib
import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

DEFAULT_CACHE = Path("~/.cache/videossr/viubench_mp4")


def cache_dir() -> Path:
    """``$VIUBENCH_VIDEO_CACHE`` or ``~/.cache/videossr/viubench_mp4`` (never the frames folder)."""
    return Path(os.environ.get("VIUBENCH_VIDEO_CACHE", str(DEFAULT_CACHE))).expanduser()


def clip_video_file(video: dict[str, Any], cache: str | os.PathLike | None = None) -> str:
    """Path of the mp4 holding ``video["video"]`` (frame paths) at ``video["sample_fps"]``."""
    frames = [str(f) for f in video["video"]]
    fps = float(video["sample_fps"])
    key = hashlib.sha256(json.dumps([frames, fps]).encode()).hexdigest()[:24]
    folder = Path(cache) if cache is not None else cache_dir()
    path = folder / f"{key}.mp4"
    if path.is_file():
        return str(path)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{key}.partial{os.getpid()}.mp4"
    first = Image.open(frames[0]).convert("RGB")
    width, height = first.width - first.width % 2, first.height - first.height % 2  # yuv420p: even sizes
    with av.open(str(tmp), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "12", "preset": "medium", "threads": "1"}  # near-lossless, reproducible
        for frame_path in frames:
            image = Image.open(frame_path).convert("RGB")
            if image.size != first.size:
                image = image.resize(first.size, Image.BICUBIC)
            rgb = np.ascontiguousarray(np.asarray(image)[:height, :width])
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)
    return str(path)
