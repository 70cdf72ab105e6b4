"""What every backend implements, and the shared conversion of conversations to model inputs.

vLLM's context bound: ``max_model_len`` = the longest prompt evaluated + ``max_new_tokens`` +
``MODEL_LEN_SLACK``, rounded up to a multiple of ``MODEL_LEN_MULTIPLE`` (``model_len_for``). Without
it vLLM sizes itself for the model's full context (262,144 tokens for Qwen3-VL).

>>> model_len_for(6030, 128)
6400
>>> parse_max_model_len("auto"), parse_max_model_len("8192")
('auto', 8192)
"""

from __future__ import annotations

import copy
import json
import math
import os
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Protocol

AUTO = "auto"
MODEL_LEN_SLACK = 64  # tokens on top of prompt + answer: chat-template / processor differences across versions
MODEL_LEN_MULTIPLE = 256  # vLLM allocates KV cache in blocks; a round number reads better in logs
LONG_VIDEO_SECONDS = 36000.0  # worst-case clip length for Qwen3-VL's text timestamps (digits cost tokens)


def model_len_for(prompt_tokens: int, max_new_tokens: int) -> int:
    """``max_model_len`` for prompts of at most ``prompt_tokens`` tokens and ``max_new_tokens`` answers."""
    need = int(prompt_tokens) + int(max_new_tokens) + MODEL_LEN_SLACK
    return MODEL_LEN_MULTIPLE * math.ceil(need / MODEL_LEN_MULTIPLE)


def parse_max_model_len(value: str | int) -> str | int:
    """``--max-model-len``: ``auto`` or a positive integer.

    >>> parse_max_model_len("0")
    Traceback (most recent call last):
    ...
    ValueError: --max-model-len must be 'auto' or a positive integer, got '0'
    """
    if str(value).strip().lower() == AUTO:
        return AUTO
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ValueError(f"--max-model-len must be 'auto' or a positive integer, got {value!r}")
    return number


def check_gpu_memory_utilization(value: float | str) -> float:
    """``--gpu-memory-utilization``: vLLM's share of the GPU memory, 0 < x <= 1.

    >>> check_gpu_memory_utilization("0.5")
    0.5
    >>> check_gpu_memory_utilization(1.5)
    Traceback (most recent call last):
    ...
    ValueError: --gpu-memory-utilization must be in (0, 1], got 1.5
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not 0.0 < number <= 1.0:  # NaN fails too
        raise ValueError(f"--gpu-memory-utilization must be in (0, 1], got {value!r}")
    return number


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings shared by all backends (the paper's: greedy, direct answers, 128 tokens)."""

    max_new_tokens: int = 128
    device: str | None = None  # hf: "cpu", "cuda", ...; None picks cuda when available
    dtype: str = "auto"  # hf: torch dtype name or "auto"
    tensor_parallel_size: int = 1  # vllm
    gpu_memory_utilization: float = 0.8  # vllm: its share of the GPU memory, 0 < x <= 1
    max_model_len: int | None = None  # vllm; the runners resolve it (None = the model's full context)

    @classmethod
    def of(cls, config: Any, max_model_len: int | None = None) -> "GenerationSettings":
        """The settings an eval config (``ViubenchConfig``, ``DownstreamConfig``) asks for."""
        return cls(max_new_tokens=config.max_new_tokens, device=config.device, dtype=config.dtype,
                   tensor_parallel_size=config.tensor_parallel_size,
                   gpu_memory_utilization=config.gpu_memory_utilization, max_model_len=max_model_len)

    def __post_init__(self) -> None:
        check_gpu_memory_utilization(self.gpu_memory_utilization)
        if self.max_model_len is not None and (not isinstance(self.max_model_len, int) or self.max_model_len <= 0):
            raise ValueError(f"max_model_len must be a positive integer or None, got {self.max_model_len!r}")


class Backend(Protocol):
    name: str

    def generate(self, conversations: list[list[dict[str, Any]]]) -> list[str]:
        """One greedy answer per conversation; raises if the batch cannot be generated."""
        ...


class DecodeMemo:
    """A small LRU of decoded video files: each file video is decoded at most once per settings.

    Several questions often share a video (Video-MME: 3 per video, LVBench: many) and the runner
    puts them next to each other, so a few entries suffice. The key is the video part itself
    (path, ``fps``, ``max_frames``, pixel bounds...; ``json.dumps`` with sorted keys), the patch
    size, and the file's size and modification time. ``hits``/``misses`` count look-ups.

    >>> memo = DecodeMemo(maxsize=1)
    >>> memo.get("a", lambda: 1), memo.get("a", lambda: 2), memo.get("b", lambda: 3), memo.get("a", lambda: 4)
    (1, 1, 3, 4)
    >>> memo.stats()
    {'hits': 1, 'misses': 3, 'size': 1, 'maxsize': 1}
    """

    def __init__(self, maxsize: int = 4):
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, decode: Callable[[], Any]) -> Any:
        """The value stored under ``key``, else ``decode()`` (stored; the least recent one evicted)."""
        with self._lock:
            if key in self._items:
                self.hits += 1
                self._items.move_to_end(key)
                return self._items[key]
            self.misses += 1
        value = decode()  # outside the lock: decoding takes seconds
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every entry and reset the counters."""
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "size": len(self._items), "maxsize": self.maxsize}


# Entries hold float32 frames: at the paper's largest setting (64 frames, 512 x 512) about 200 MB each.
DECODE_MEMO = DecodeMemo(maxsize=4)
# qwen-vl-utils' file readers that seek (to the keyframe before each sampled frame) instead of
# decoding the whole stream: decord's get_batch, torchcodec's get_frames_at. Its third reader,
# torchvision's read_video, decodes every frame (and is gone from torchvision 0.28).
SEEKING_READERS = ("decord", "torchcodec")
_warned_readers: set[str] = set()


def decode_memo_stats() -> dict[str, int]:
    """Hits and misses of ``decode_videos``' memo of decoded video files (a miss is one decode)."""
    return DECODE_MEMO.stats()


def clear_decode_memo() -> None:
    DECODE_MEMO.clear()


def decode_videos(conversation: list[dict[str, Any]], image_patch_size: int) -> list[Any]:
    """Decode the videos of one conversation exactly as verl's rollout does in training.

    Uses verl's ``RLHFDataset`` multimodal hook (qwen-vl-utils underneath), so evaluation sees
    the same frames, sizes and timestamps (``sample_fps``) as the training rollouts. Returns
    ``(frames tensor, metadata)`` tuples, one per video.

    Conversations whose videos are all frame lists (VIUBench, training) take exactly verl's path.
    Otherwise each video goes through the same hook on its own -- qwen-vl-utils decodes every
    video part independently, so the frames are the same -- and a video file is decoded once per
    settings (``DECODE_MEMO``): questions on the same video share its frames tensor (the
    processors do not modify their inputs), each gets its own copy of the metadata. Image parts
    are not decoded on that path (their images were never returned).

    File videos are read with qwen-vl-utils' reader (``FORCE_QWENVL_VIDEO_READER``, else
    torchcodec, else decord): decord and torchcodec seek to the keyframe before each sampled
    frame, so an hour-long video at 64 frames decodes a small part of its stream. A reader that
    decodes the whole stream (torchvision) is warned about once.
    """
    from verl.utils.dataset.rl_dataset import RLHFDataset

    parts = _video_parts(conversation)
    if parts is None or not any(isinstance(part["video"], str) for part in parts):
        _, videos, _ = RLHFDataset._process_multi_modal_info(
            conversation, image_patch_size=image_patch_size, config=None
        )
        return list(videos or [])
    return [_decode_part(part, image_patch_size) for part in parts]


def _video_parts(conversation: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The parts qwen-vl-utils decodes as videos, in order; None where verl's whole-conversation
    call must decide (nothing visual, or a part that is neither image nor video: it raises)."""
    from qwen_vl_utils.vision_process import extract_vision_info

    has_visual = any(  # verl's test in RLHFDataset._process_multi_modal_info
        isinstance(message.get("content"), list)
        and any(isinstance(item, dict) and item.get("type") in {"image", "video"} for item in message["content"])
        for message in conversation
    )
    if not has_visual:
        return None
    parts = []
    for info in extract_vision_info(conversation):  # qwen-vl-utils' process_vision_info order
        if "image" in info or "image_url" in info:
            continue
        if "video" not in info:
            return None
        parts.append(info)
    return parts


def _decode_one(part: dict[str, Any], image_patch_size: int) -> Any:
    from verl.utils.dataset.rl_dataset import RLHFDataset

    # alone in a conversation, a part needs verl's "type" to count as visual (fetch_video ignores it)
    alone = part if part.get("type") == "video" else {**part, "type": "video"}
    _, videos, _ = RLHFDataset._process_multi_modal_info(
        [{"role": "user", "content": [alone]}], image_patch_size=image_patch_size, config=None
    )
    (video,) = videos
    return video


def _memo_key(part: dict[str, Any], image_patch_size: int) -> str | None:
    path = part["video"]
    local = path[len("file://"):] if path.startswith("file://") else path
    try:
        stat = os.stat(local)
        stamp: list[int] | None = [stat.st_size, stat.st_mtime_ns]
    except OSError:  # a URL, or missing (the decode raises)
        stamp = None
    try:
        return json.dumps({"part": part, "image_patch_size": image_patch_size, "file": stamp}, sort_keys=True)
    except (TypeError, ValueError):  # settings json cannot write: not memoised
        return None


def _decode_part(part: dict[str, Any], image_patch_size: int) -> Any:
    if not isinstance(part["video"], str):  # frame lists: never memoised
        return _decode_one(part, image_patch_size)
    key = _memo_key(part, image_patch_size)
    decode = lambda: _decode_one(part, image_patch_size)  # noqa: E731
    video = decode() if key is None else DECODE_MEMO.get(key, decode)
    if not isinstance(video, tuple):
        return video
    frames, metadata = video
    reader = metadata.get("video_backend") if isinstance(metadata, dict) else None
    if reader is not None and reader not in SEEKING_READERS and reader not in _warned_readers:
        _warned_readers.add(reader)
        warnings.warn(
            f"qwen-vl-utils read {part['video']} with {reader}, which decodes every frame of the stream; "
            f"install decord (or torchcodec), or see why it failed in the log above", RuntimeWarning, stacklevel=3,
        )
    return frames, copy.deepcopy(metadata)


def patch_size_of(processor: Any) -> int:
    """The vision patch size the processor was built with (14 Qwen2.5-VL, 16 Qwen3-VL)."""
    return int(getattr(getattr(processor, "image_processor", None), "patch_size", 14))


def _largest_grid(max_pixels: int, factor: int) -> tuple[int, int]:
    """Patch-grid rows x cols with the most cells whose frame fits ``max_pixels`` (qwen-vl-utils' cap).

    qwen-vl-utils resizes every frame to multiples of ``factor`` with ``h * w <= max_pixels``, so no
    frame has more than ``max_pixels // factor**2`` cells; this grid reaches that (most square first).

    >>> _largest_grid(512 * 512, 28), _largest_grid(512 * 512, 32)
    ((2, 167), (16, 16))
    """
    cells = max(1, max_pixels // (factor * factor))
    best = (1, 1)
    for rows in range(1, math.isqrt(cells) + 1):
        cols = cells // rows
        if rows * cols > best[0] * best[1] or (rows * cols == best[0] * best[1] and cols - rows < best[1] - best[0]):
            best = (rows, cols)
    return best


def worst_case_prompt_tokens(processor: Any, conversation: list[dict[str, Any]], max_frames: int, max_pixels: int) -> int:
    """Prompt tokens of ``conversation`` if each of its videos were as large as its settings allow.

    Each video becomes ``max_frames`` (rounded down to the temporal patch) frames of the largest
    patch grid under ``max_pixels``, spread over ``LONG_VIDEO_SECONDS`` (Qwen3-VL writes timestamps
    as text), and goes through the processor with resizing off -- the model's own expansion, no
    video decoded. qwen-vl-utils never hands the processor more frames or pixels, and the processor
    only shrinks such frames, so this bounds every real prompt with the same text.
    """
    import torch
    from verl.utils.tokenizer import build_multimodal_processor_inputs

    sub = getattr(processor, "video_processor", None) or processor.image_processor
    factor = int(sub.patch_size) * int(getattr(sub, "merge_size", 2))
    temporal = int(getattr(sub, "temporal_patch_size", 2))
    frames = max(temporal, max_frames // temporal * temporal)
    rows, cols = _largest_grid(max_pixels, factor)
    clip = torch.zeros(frames, 3, rows * factor, cols * factor, dtype=torch.uint8)
    metadata = {"fps": frames / LONG_VIDEO_SECONDS, "frames_indices": list(range(frames)),
                "total_num_frames": frames}
    count = sum(1 for m in conversation if isinstance(m["content"], list)
                for part in m["content"] if part.get("type") == "video")
    text = processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    inputs = build_multimodal_processor_inputs(
        processor, text=[text], videos=[(clip, dict(metadata)) for _ in range(count)] or None,
        mm_processor_kwargs={"do_resize": False} if count else None,
    )
    return int(inputs["input_ids"].shape[1])
