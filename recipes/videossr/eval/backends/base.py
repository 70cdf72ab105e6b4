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

import math
from dataclasses import dataclass
from typing import Any, Protocol

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


def decode_videos(conversation: list[dict[str, Any]], image_patch_size: int) -> list[Any]:
    """Decode the videos of one conversation exactly as verl's rollout does in training.

    Uses verl's ``RLHFDataset`` multimodal hook (qwen-vl-utils underneath), so evaluation sees
    the same frames, sizes and timestamps (``sample_fps``) as the training rollouts. Returns
    ``(frames tensor, metadata)`` tuples, one per video.
    """
    from verl.utils.dataset.rl_dataset import RLHFDataset

    _, videos, _ = RLHFDataset._process_multi_modal_info(
        conversation, image_patch_size=image_patch_size, config=None
    )
    return list(videos or [])


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
