"""Seeded synthetic videos: moving, occluding objects over a textured, panning background.

The objects are elongated ellipses and bars with a shaded (two-colour gradient) fill, so they can
never be mistaken for the flat-coloured circles, squares and triangles that Object Counting draws.

They add volume and controlled cases to the embedded real footage: motion is monotone (objects
travel in straight lines, the background pans steadily), so the temporal order of any two clips
is visible, which the Temporal Jigsaw task needs. Encoded with a real encoder (H.264 via PyAV),
so the frame stage decodes them exactly like user videos. Same seed, same bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class SynthSpec:
    width: int = 320
    height: int = 240
    fps: int = 24
    seconds: float = 4.0
    num_objects: int = 4
    codec: str = "libx264"
    crf: int = 23
    preset: str = "veryfast"


def _texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth coloured noise (low-res noise, bilinearly upsampled) plus a fine grain."""
    coarse = rng.integers(40, 215, size=(height // 16 + 2, width // 16 + 2, 3)).astype(np.float32)
    ys = np.linspace(0, coarse.shape[0] - 1.001, height)
    xs = np.linspace(0, coarse.shape[1] - 1.001, width)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = coarse[y0][:, x0] * (1 - fx) + coarse[y0][:, x0 + 1] * fx
    bottom = coarse[y0 + 1][:, x0] * (1 - fx) + coarse[y0 + 1][:, x0 + 1] * fx
    smooth = top * (1 - fy) + bottom * fy
    grain = rng.normal(0, 8, size=(height, width, 1)).astype(np.float32)
    return np.clip(smooth + grain, 0, 255).astype(np.uint8)


def render_frames(spec: SynthSpec, seed: int):
    """Yield ``spec.fps * spec.seconds`` RGB frames (H, W, 3 uint8), deterministically."""
    rng = np.random.default_rng(seed)
    n = int(round(spec.fps * spec.seconds))
    h, w = spec.height, spec.width
    pan = rng.uniform(0.5, 2.0, size=2) * rng.choice([-1, 1], size=2)  # pixels per frame
    margin_y, margin_x = int(abs(pan[0]) * n) + 1, int(abs(pan[1]) * n) + 1
    background = _texture(rng, h + margin_y, w + margin_x)
    oy0 = 0 if pan[0] > 0 else margin_y - 1
    ox0 = 0 if pan[1] > 0 else margin_x - 1
    size = min(h, w)
    objects = []
    for _ in range(spec.num_objects):
        long_axis = rng.uniform(0.10, 0.22) * size
        axes = np.array([long_axis, long_axis / rng.uniform(2.2, 3.5)])  # never round or square
        if rng.integers(0, 2):
            axes = axes[::-1]
        start = rng.uniform([0, 0], [h, w])
        velocity = rng.uniform(-1.0, 1.0, size=2) * size / max(n, 1) * 1.2
        colours = rng.integers(30, 256, size=(2, 3)).astype(np.float32)
        bar = bool(rng.integers(0, 2))
        objects.append((axes, start, velocity, colours, bar))
    yy, xx = np.mgrid[0:h, 0:w]
    for t in range(n):
        oy, ox = int(oy0 + pan[0] * t), int(ox0 + pan[1] * t)
        frame = background[oy : oy + h, ox : ox + w].copy()
        for (ay, ax), start, velocity, colours, bar in objects:  # later objects occlude earlier ones
            cy, cx = start + velocity * t
            y_lo, y_hi = max(0, int(cy - ay)), min(h, int(cy + ay) + 1)
            x_lo, x_hi = max(0, int(cx - ax)), min(w, int(cx + ax) + 1)
            if y_lo >= y_hi or x_lo >= x_hi:
                continue
            dy, dx = (yy[y_lo:y_hi, x_lo:x_hi] - cy) / ay, (xx[y_lo:y_hi, x_lo:x_hi] - cx) / ax
            mask = (np.maximum(abs(dy), abs(dx)) <= 1) if bar else (dy * dy + dx * dx <= 1)
            shade = np.clip((dy + dx + 2) / 4, 0, 1)[mask][:, None]  # diagonal gradient
            frame[y_lo:y_hi, x_lo:x_hi][mask] = (colours[0] * (1 - shade) + colours[1] * shade).astype(np.uint8)
        yield frame


def write_video(path: str | os.PathLike, spec: SynthSpec, seed: int) -> Path:
    """Render and encode one synthetic video to ``path`` (written atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    with av.open(str(tmp), mode="w") as container:
        stream = container.add_stream(spec.codec, rate=spec.fps)
        stream.width, stream.height = spec.width - spec.width % 2, spec.height - spec.height % 2
        stream.pix_fmt = "yuv420p"
        # Identical bytes for identical input: one thread, and no macroblock-tree rate control
        # (this libx264 build's mbtree gives run-to-run differences on small frames).
        stream.options = {"crf": str(spec.crf), "preset": spec.preset, "threads": "1", "x264-params": "mbtree=0"}
        for index, rgb in enumerate(render_frames(spec, seed)):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[: stream.height, : stream.width]), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, spec.fps)  # explicit clock: no guessed timestamps
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)
    return path


def write_corpus(out_dir: str | os.PathLike, count: int, seed: int = 0, spec: SynthSpec = SynthSpec()) -> list[Path]:
    """``count`` synthetic videos ``synth_000.mp4``... in ``out_dir``; existing ones are kept."""
    out = Path(out_dir)
    paths = []
    for i in range(count):
        path = out / f"synth_{i:03d}.mp4"
        if not path.exists():
            write_video(path, spec, seed=seed * 100_003 + i)
        paths.append(path)
    return paths
