"""Decode the planned frames of one video with PyAV and resize them to each storage tier.

One sequential pass: H.264/HEVC must decode every reference frame up to the last one needed
anyway, and sequential decoding beats per-frame seeking for the 48-of-a-few-hundred frames we
keep. What is not needed is not done:

* H.264 non-reference pictures (most B-frames) that are not planned are not decoded at all
  (FFmpeg's ``skip_frame``): no other picture is predicted from them, so the planned pictures come
  out bit-identical, and x264-style streams decode ~35% faster. (HEVC is left out: its
  "non-reference" pictures are so only within their temporal sub-layer.) This needs each packet's presentation
  index *before* it is decoded; it is the rank of its timestamp, which MP4/MOV and Matroska give
  for every packet. A stream that cannot prove it (no or repeated timestamps, discarded packets,
  a late packet that would reorder an index already used, a decode error, a planned frame that
  does not come out) is decoded again with every frame, which defines the index as before.
* Only the planned frames are converted to RGB, directly at the tier size (swscale does the colour
  conversion and the area downscale in one step), so 4K input costs no full-size RGB copies. Each
  tier keeps one swscale context for the whole video (a new one per frame costs more than the
  scaling of a small tier).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from data_prep.sampling import FramePlan, TooFewFrames, fit_within, plan_frames

MIN_SIDE = 16  # smaller frames carry nothing a 14/16-pixel ViT patch grid can use
SKIP_CODECS = frozenset({"h264"})  # nal_ref_idc == 0: no picture of any layer refers to it
SKIP_FORMATS = frozenset({"mov", "mp4", "matroska", "webm"})  # one packet per picture, each with its pts
LOOKAHEAD = 32  # packets demuxed before one is decoded: more than any H.264/HEVC reordering (16)


class SkipVideo(Exception):
    """The video cannot be used; the message is the human-readable reason kept in the manifest."""


class _Unprovable(Exception):
    """Skipping cannot be proven safe for this stream: decode every frame instead."""


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
    skip_unneeded: bool = True,
) -> dict[str, list[np.ndarray]]:
    """RGB frames at ``plan.indices``, one list per tier name in ``sizes`` ({tier: (w, h)}).

    ``threads``: FFmpeg frame threads (0: FFmpeg's choice). ``skip_unneeded=False`` decodes every
    frame up to the last planned one (the reference the skipping path is tested against).
    """
    if skip_unneeded:
        try:
            return _decode(path, plan, sizes, threads, skip=True)
        except _Unprovable:
            pass
    return _decode(path, plan, sizes, threads, skip=False)


def _decode(path, plan, sizes, threads, skip: bool) -> dict[str, list[np.ndarray]]:
    wanted = {index: k for k, index in enumerate(plan.indices)}
    last = plan.indices[-1]
    out: dict[str, list[np.ndarray | None]] = {tier: [None] * len(plan.indices) for tier in sizes}
    scalers = {tier: VideoReformatter() for tier in sizes}
    decoded = kept = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = threads
            if skip:
                frames = _skipping_decode(container, stream, wanted)
            else:
                frames = enumerate(container.decode(stream))
            for index, frame in frames:
                decoded = index + 1
                k = wanted.get(index)
                if k is not None:
                    kept += 1
                    for tier, (w, h) in sizes.items():
                        rgb = scalers[tier].reformat(frame, width=w, height=h, format="rgb24",
                                                     interpolation="AREA", threads=1)
                        out[tier][k] = rgb.to_ndarray()
                if index >= last:
                    break
    except av.error.FFmpegError as exc:
        if skip:
            raise _Unprovable from None
        if decoded <= last:
            raise SkipVideo(f"decoding failed after {decoded} frames: {_ffmpeg_reason(exc)}") from None
    if skip and (decoded <= last or kept < len(plan.indices)):
        raise _Unprovable
    if decoded <= last:
        raise SkipVideo(f"truncated: decoded {decoded} frames but the container announced more")
    return out  # type: ignore[return-value]


def _skipping_decode(container, stream, wanted: dict[int, int]) -> Iterator[tuple[int, av.VideoFrame]]:
    """(presentation index, frame) of the decoded frames; unplanned non-reference pictures are skipped.

    A packet's index is the number of timestamps below its own among the packets demuxed so far.
    It is final once no later packet can come before it: packets are sent to the decoder
    ``LOOKAHEAD`` packets late, and a later packet that would still change a used index (or a
    missing or repeated timestamp, or frames out of order) raises ``_Unprovable``.
    """
    codec = stream.codec_context
    if codec.name not in SKIP_CODECS or not SKIP_FORMATS & set(container.format.name.split(",")):
        raise _Unprovable
    seen: list[int] = []  # sorted timestamps of the packets demuxed so far
    index_of: dict[int, int] = {}  # timestamp -> index, of the packets sent and not yet decoded
    queue: deque = deque()
    highest_sent, previous = float("-inf"), -1

    def send(packet) -> Iterator[tuple[int, av.VideoFrame]]:
        nonlocal highest_sent, previous
        codec.skip_frame = "DEFAULT"  # the flush packet (size 0) returns what the decoder holds
        if packet.size:
            index = index_of[packet.pts] = bisect_left(seen, packet.pts)
            highest_sent = max(highest_sent, packet.pts)
            codec.skip_frame = "DEFAULT" if index in wanted else "NONREF"
        for frame in packet.decode():
            index = index_of.pop(frame.pts, None)
            if index is None or index <= previous:
                raise _Unprovable
            previous = index
            yield index, frame

    for packet in container.demux(stream):
        if not packet.size:  # end of the stream
            while queue:
                yield from send(queue.popleft())
            yield from send(packet)
            return
        pts = packet.pts
        at = bisect_left(seen, pts) if pts is not None else 0
        if pts is None or packet.is_discard or pts < highest_sent or (at < len(seen) and seen[at] == pts):
            raise _Unprovable
        seen.insert(at, pts)
        queue.append(packet)
        if len(queue) > LOOKAHEAD:
            yield from send(queue.popleft())


def plan_for(info: VideoInfo, num_frames: int, span: tuple[float, float], fps_mode: str) -> FramePlan:
    try:
        return plan_frames(info.total_frames, info.fps, num_frames, span, fps_mode)
    except TooFewFrames as exc:
        raise SkipVideo(f"too short: {exc} (video has {info.total_frames} frames)") from None


def tier_sizes(info: VideoInfo, tiers: dict[str, int]) -> dict[str, tuple[int, int]]:
    """(width, height) per tier; ``SkipVideo`` when a tier would shrink a side below ``MIN_SIDE``
    (an extreme aspect ratio: such frames carry nothing a patch grid can use)."""
    sizes = {name: fit_within(info.width, info.height, max_pixels) for name, max_pixels in tiers.items()}
    for name, (w, h) in sizes.items():
        if min(w, h) < MIN_SIDE:
            raise SkipVideo(f"at tier {name} ({tiers[name]} pixels) a {info.width}x{info.height} frame becomes "
                            f"{w}x{h}, under {MIN_SIDE} px on a side")
    return sizes
