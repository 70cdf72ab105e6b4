"""What every backend implements, and the shared conversion of conversations to model inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings shared by all backends (the paper's: greedy, direct answers, 128 tokens)."""

    max_new_tokens: int = 128
    device: str | None = None  # hf: "cpu", "cuda", ...; None picks cuda when available
    dtype: str = "auto"  # hf: torch dtype name or "auto"
    tensor_parallel_size: int = 1  # vllm
    gpu_memory_utilization: float = 0.8  # vllm
    max_model_len: int | None = None  # vllm; None = the model's own


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
