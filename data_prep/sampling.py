"""Which frames of a source video become the task frames, and what frame rate they represent.

The paper's rule (reference scripts): ``start = int(0.05*T)``, ``end = int(0.95*T)``,
``step = (end - start) // N``, frames ``start + i*step`` for ``i < N``; a video with fewer than
``N`` frames inside the span is skipped.

Timestamps. Qwen-VL sees the N frames as evenly spaced at ``sample_fps``. Two choices:

* ``paper`` (default, reproduces the reference data): ``sample_fps = N / (T / fps)``, computed
  from the FULL duration although only the central 90% is covered. Timestamps are "virtual"
  (they stretch the covered span over the whole clip) but self-consistent, and every answer in
  seconds is derived from the same ``sample_fps``, so rewards are exact either way.
* ``span``: ``sample_fps = fps / step``, the true spacing of the chosen frames, so a timestamp
  is the real time elapsed since the first sampled frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from data_prep.schema import NUM_FRAMES

FPS_MODES = ("paper", "span")


@dataclass(frozen=True)
class FramePlan:
    indices: tuple[int, ...]
    step: int
    sample_fps: float


class TooFewFrames(ValueError):
    """The video has fewer than the requested frames inside the sampling span."""


def plan_frames(
    total_frames: int,
    fps: float,
    num_frames: int = NUM_FRAMES,
    span: tuple[float, float] = (0.05, 0.95),
    fps_mode: str = "paper",
) -> FramePlan:
    """Pick ``num_frames`` evenly spaced indices inside ``span`` of a ``total_frames`` video.

    >>> p = plan_frames(250, 25.0)
    >>> p.indices[:3], p.step, round(p.sample_fps, 3)
    ((12, 16, 20), 4, 4.8)
    """
    if fps_mode not in FPS_MODES:
        raise ValueError(f"fps_mode must be one of {FPS_MODES}, got {fps_mode!r}")
    lo, hi = span
    if not (0.0 <= lo < hi <= 1.0):
        raise ValueError(f"span must satisfy 0 <= start < end <= 1, got {span}")
    if num_frames < 1:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    start, end = int(lo * total_frames), int(hi * total_frames)
    step = (end - start) // num_frames
    if step < 1:
        raise TooFewFrames(
            f"{end - start} frames inside the {lo:.0%}..{hi:.0%} span, need at least {num_frames}"
        )
    indices = tuple(start + i * step for i in range(num_frames))
    if fps_mode == "paper":
        sample_fps = num_frames / (total_frames / fps)
    else:
        sample_fps = fps / step
    return FramePlan(indices=indices, step=step, sample_fps=sample_fps)


def fit_within(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """Largest size with the same aspect ratio and at most ``max_pixels`` (never upscales).

    >>> fit_within(1280, 720, 256 * 256)
    (341, 192)
    >>> fit_within(176, 144, 256 * 256)
    (176, 144)
    """
    if width * height <= max_pixels:
        return width, height
    scale = (max_pixels / (width * height)) ** 0.5
    w, h = max(1, int(width * scale)), max(1, int(height * scale))
    while w * h > max_pixels:  # guard against rounding up past the budget
        w, h = (w - 1, h) if w >= h else (w, h - 1)
    return w, h
