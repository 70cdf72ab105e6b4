"""Decode the planned frames of one video with PyAV and resize them to each storage tier.

One sequential pass: H.264/HEVC must decode every frame up to the last one needed anyway, and
sequential decoding beats per-frame seeking for the 48-of-a-few-hundred frames we keep.
Only the frames we keep are converted to RGB, directly at the tier size (swscale does the
colour conversion and the area downscale in one step), so 4K input costs no full-size RGB copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from data_prep.sampling import FramePlan, TooFewFrames, fit_within, plan_frames

MIN_SIDE = 16  # smaller frames carry nothing a 14/16-pixel ViT patch grid can use


class SkipVideo(Exception):
    """The video cannot be used; the message is the human-readable reason kept in the manifest."""


@dataclass(frozen=True)
class VideoInfo:
    total_frames: int
    fps: float
    width: int
    height: int

    @property
    def duration(self) -> float:
        return self.total_frames / self.fps


def _ffmpeg_reason(exc: Exception) -> str:
    # FFmpeg's message without the file path: the manifest must not depend on where inputs live.
    return getattr(exc, "strerror", None) or type(exc).__name__


def _count_packets(path: Path) -> int:
    # Containers such as WebM/MKV carry no frame count: demuxing (no decoding) counts them cheaply.
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size)


def probe(path: Path) -> VideoInfo:
    """Frame count, average fps and size of the first video stream, or ``SkipVideo``."""
    if path.stat().st_size == 0:
        raise SkipVideo("empty file (0 bytes)")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                kinds = sorted({s.type for s in container.streams}) or ["none"]
                raise SkipVideo(f"no video stream (streams: {', '.join(kinds)})")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            fps = float(rate) if rate else 0.0
            total = int(stream.frames or 0)
            width, height = stream.codec_context.width, stream.codec_context.height
    except av.error.FFmpegError as exc:
        raise SkipVideo(f"not a readable video: {_ffmpeg_reason(exc)}") from None
    if total <= 0:
        total = _count_packets(path)
    if fps <= 0:
        raise SkipVideo("unknown frame rate")
    if total <= 0:
        raise SkipVideo("no video frames")
    if min(width, height) < MIN_SIDE:
        raise SkipVideo(f"frame size {width}x{height} is too small (min side {MIN_SIDE} px)")
    return VideoInfo(total, fps, width, height)


def decode_planned_frames(
    path: Path,
    plan: FramePlan,
    sizes: dict[str, tuple[int, int]],
    threads: int = 0,
) -> dict[str, list[np.ndarray]]:
    """RGB frames at ``plan.indices``, one list per tier name in ``sizes`` ({tier: (w, h)})."""
    wanted = {index: k for k, index in enumerate(plan.indices)}
    last = plan.indices[-1]
    out: dict[str, list[np.ndarray | None]] = {tier: [None] * len(plan.indices) for tier in sizes}
    decoded = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = threads
            for index, frame in enumerate(container.decode(stream)):
                decoded = index + 1
                k = wanted.get(index)
                if k is not None:
                    for tier, (w, h) in sizes.items():
                        rgb = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA")
                        out[tier][k] = rgb.to_ndarray()
                if index >= last:
                    break
    except av.error.FFmpegError as exc:
        if decoded <= last:
            raise SkipVideo(f"decoding failed after {decoded} frames: {_ffmpeg_reason(exc)}") from None
    if decoded <= last:
        raise SkipVideo(f"truncated: decoded {decoded} frames but the container announced more")
    return out  # type: ignore[return-value]


def plan_for(info: VideoInfo, num_frames: int, span: tuple[float, float], fps_mode: str) -> FramePlan:
    try:
        return plan_frames(info.total_frames, info.fps, num_frames, span, fps_mode)
    except TooFewFrames as exc:
        raise SkipVideo(f"too short: {exc} (video has {info.total_frames} frames)") from None


def tier_sizes(info: VideoInfo, tiers: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {name: fit_within(info.width, info.height, max_pixels) for name, max_pixels in tiers.items()}
