"""vLLM offline backend (GPU nodes): greedy, batched by vLLM's scheduler.

Videos are decoded by qwen-vl-utils exactly as in the HF backend and in training, and handed to
vLLM as ``(frames, metadata)`` with frame sampling switched off, so vLLM does not re-sample.
Install with the GPU extras (``pip install -e '.[gpu]'``); on CPU machines use ``--backend hf``.

Memory: ``gpu_memory_utilization`` (vLLM's share of the GPU) and ``max_model_len`` come from the
settings; the viubench / downstream runners always resolve ``max_model_len`` (``--max-model-len``,
``auto`` = from the prompts evaluated), because vLLM would otherwise size itself for the model's
full context (262,144 tokens for Qwen3-VL: ~38 GB of KV cache for one Qwen3-VL-8B sequence).

Decoding: greedy (temperature 0) with the checkpoint's ``repetition_penalty`` from its
generation_config.json (vLLM's own reading of it, ``ModelConfig.get_diff_sampling_param``), which is
what transformers' ``generate`` applies in the HF backend and in lmms-eval's Qwen-VL classes; stop
tokens come from the same file (``SamplingParams.update_from_generation_config``, as vLLM's engine
does). ``python -m recipes.videossr.eval agree`` compares these settings across harnesses.

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
            **model_kwargs(model_path, settings),
            tensor_parallel_size=settings.tensor_parallel_size,
            gpu_memory_utilization=settings.gpu_memory_utilization,
        )
        if not settings.max_model_len:
            print("[eval] warning: vllm without max_model_len sizes the KV cache for the model's full context",
                  file=sys.stderr)
        self.llm = LLM(**kwargs)
        self.sampling = SamplingParams(**sampling_kwargs(getattr(self.llm, "model_config", None), settings.max_new_tokens))

    def _request(self, conversation: list[dict[str, Any]]) -> dict[str, Any]:
        return build_request(self.processor, self.patch_size, conversation)

    def generate(self, conversations: list[list[dict[str, Any]]]) -> list[str]:
        requests = [self._request(c) for c in conversations]
        outputs = self.llm.generate(requests, self.sampling, use_tqdm=False)
        return [o.outputs[0].text for o in outputs]


def model_kwargs(model_path: str, settings: GenerationSettings) -> dict[str, Any]:
    """The engine arguments that shape the model's inputs (``vllm.config.ModelConfig`` fields)."""
    kwargs: dict[str, Any] = dict(
        model=model_path,
        limit_mm_per_prompt={"image": 0, "video": MAX_VIDEOS_PER_PROMPT},
        mm_processor_cache_gb=0,  # frames differ per question; caching only costs memory
        seed=0,
    )
    if settings.max_model_len:
        kwargs["max_model_len"] = settings.max_model_len
    return kwargs


def sampling_kwargs(model_config: Any, max_new_tokens: int) -> dict[str, Any]:
    """``SamplingParams`` arguments: greedy, ``max_new_tokens``, the checkpoint's repetition penalty."""
    defaults = model_config.get_diff_sampling_param() if model_config is not None else {}
    kwargs: dict[str, Any] = dict(temperature=0.0, max_tokens=max_new_tokens, seed=0)
    penalty = defaults.get("repetition_penalty")
    if penalty is not None and float(penalty) != 1.0:
        kwargs["repetition_penalty"] = float(penalty)
    return kwargs


# Processors whose vLLM 0.24 data parser drops the (frames, metadata) pair's metadata
# (``video_needs_metadata`` off): without it transformers assumes 24 fps, i.e. the wrong
# ``second_per_grid_ts`` (M-RoPE time positions). The metadata goes in as a processor argument instead.
METADATA_AS_KWARG = ("Qwen2VLProcessor", "Qwen2_5_VLProcessor")
# Processors that write a clip as "<t seconds><|vision_start|>frame<|vision_end|>..." *inside* the
# chat template's "<|vision_start|><|video_pad|><|vision_end|>" (transformers keeps the outer pair),
# while vLLM 0.24 replaces that whole triple: the outer pair is doubled so vLLM keeps one.
OUTER_PAIR_KEPT = ("Qwen3VLProcessor",)


def build_request(processor: Any, patch_size: int, conversation: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``LLM.generate`` prompt for one conversation: the chat-template text, the videos decoded
    as in training, vLLM's frame sampling off -- arranged so that vLLM 0.24 builds the prompt ids and
    video inputs transformers builds (``python -m recipes.videossr.eval agree`` checks it)."""
    prompt = processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    videos = decode_videos(conversation, patch_size)
    request: dict[str, Any] = {"prompt": prompt}
    if videos:
        kind = type(processor).__name__
        request["multi_modal_data"] = {"video": videos}
        request["mm_processor_kwargs"] = {"do_sample_frames": False}
        if kind in METADATA_AS_KWARG:
            request["mm_processor_kwargs"]["video_metadata"] = [dict(metadata) for _, metadata in videos]
        if kind in OUTER_PAIR_KEPT:
            start, pad, end = processor.vision_start_token, processor.video_token, processor.vision_end_token
            request["prompt"] = prompt.replace(start + pad + end, start + start + pad + end + end)
    return request


def transformers_prompt(processor: Any, prompt: str) -> str:
    """The text whose transformers processing gives the ids vLLM builds from ``prompt`` (a
    ``build_request`` prompt): the doubled outer pair collapsed again. For measuring a request's
    prompt length with the HF processor."""
    if type(processor).__name__ not in OUTER_PAIR_KEPT:
        return prompt
    start, pad, end = processor.vision_start_token, processor.video_token, processor.vision_end_token
    return prompt.replace(start + start + pad + end + end, start + pad + end)
