"""Builders for the awkward inputs the frame stage must survive (real files, real encoders)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def encode(path: Path, frames: int, width: int, height: int, codec: str = "libx264", fps: int = 24,
           pts_ms: list[int] | None = None) -> Path:
    """Encode ``frames`` gradient frames; ``pts_ms`` gives explicit (variable) timestamps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if codec in ("libx264", "mpeg4") else "rgb24"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "threads": "1"}
        if pts_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for i in range(frames):
            img = np.zeros((height, width, 3), np.uint8)
            img[..., 0] = (np.arange(width) * 255 // max(width, 1))[None, :]
            img[..., 1] = (i * 7) % 256
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def audio_only(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = (np.sin(np.arange(16000) / 10.0) * 0.3).astype(np.float32)[None, :]
        for start in range(0, 16000, 1024):
            frame = av.AudioFrame.from_ndarray(samples[:, start : start + 1024], format="fltp", layout="mono")
            frame.sample_rate = 16000
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
