"""vLLM offline backend (GPU nodes): greedy, batched by vLLM's scheduler.

Videos are decoded by qwen-vl-utils exactly as in the HF backend and in training, and handed to
vLLM as ``(frames, metadata)`` with frame sampling switched off, so vLLM does not re-sample.
Install with the GPU extras (``pip install -e '.[gpu]'``); on CPU machines use ``--backend hf``.

Memory: ``gpu_memory_utilization`` (vLLM's share of the GPU) and ``max_model_len`` come from the
settings; the viubench / downstream runners always resolve ``max_model_len`` (``--max-model-len``,
``auto`` = from the prompts evaluated), because vLLM would otherwise size itself for the model's
full context (262,144 tokens for Qwen3-VL: ~38 GB of KV cache for one Qwen3-VL-8B sequence).

>>> # backend = VLLMBackend("path/to/VideoSSR-8B", GenerationSettings(tensor_parallel_size=1))
"""

from __future__ import annotations

import sys
from typing import Any

from recipes.videossr.eval.backends.base import GenerationSettings, decode_videos, patch_size_of

# Jigsaw questions carry one clip per piece (8 for the hard subtype).
MAX_VIDEOS_PER_PROMPT = 8


class VLLMBackend:
    name = "vllm"

    def __init__(self, model_path: str, settings: GenerationSettings):
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:  # the CPU install has no vLLM
            raise RuntimeError(
                "the vllm backend needs vLLM (GPU install: pip install -e '.[gpu]'); use --backend hf on CPU"
            ) from exc
        from transformers import AutoProcessor

        self.processor = AutoProcessor.from_pretrained(model_path)
        self.patch_size = patch_size_of(self.processor)
        kwargs: dict[str, Any] = dict(
            model=model_path,
            tensor_parallel_size=settings.tensor_parallel_size,
            gpu_memory_utilization=settings.gpu_memory_utilization,
            limit_mm_per_prompt={"image": 0, "video": MAX_VIDEOS_PER_PROMPT},
            mm_processor_cache_gb=0,  # frames differ per question; caching only costs memory
            seed=0,
        )
        if settings.max_model_len:
            kwargs["max_model_len"] = settings.max_model_len
        else:
            print("[eval] warning: vllm without max_model_len sizes the KV cache for the model's full context",
                  file=sys.stderr)
        self.llm = LLM(**kwargs)
        self.sampling = SamplingParams(temperature=0.0, max_tokens=settings.max_new_tokens, seed=0)

    def _request(self, conversation: list[dict[str, Any]]) -> dict[str, Any]:
        prompt = self.processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        videos = decode_videos(conversation, self.patch_size)
        request: dict[str, Any] = {"prompt": prompt}
        if videos:
            request["multi_modal_data"] = {"video": videos}
            request["mm_processor_kwargs"] = {"do_sample_frames": False}
        return request

    def generate(self, conversations: list[list[dict[str, Any]]]) -> list[str]:
        requests = [self._request(c) for c in conversations]
        outputs = self.llm.generate(requests, self.sampling, use_tqdm=False)
        return [o.outputs[0].text for o in outputs]
