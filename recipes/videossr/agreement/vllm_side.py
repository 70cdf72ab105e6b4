"""Side (b): what vLLM 0.24 builds from the request verl sent -- through vLLM's own code.

For a ``TokensPrompt`` with ``multi_modal_data`` vLLM 0.24 runs (``AsyncLLM.add_request`` ->
``InputProcessor.process_inputs`` -> ``InputPreprocessor._process_tokens`` ->
``Renderer._process_multimodal``, ``vllm/renderers/base.py:682-720``)::

    mm_processor = MULTIMODAL_REGISTRY.create_processor(model_config, tokenizer=..., cache=...)
    items = mm_processor.info.parse_mm_data(prompt["multi_modal_data"])
    mm_inputs = mm_processor.apply(ProcessorInputs(prompt_ids, items, uuids,
                                                   hf_processor_mm_kwargs=prompt["mm_processor_kwargs"]), ...)

then turns ``mm_inputs`` into ``MultiModalFeatureSpec`` s sorted by position
(``vllm/v1/engine/input_processor.py:332-368``), and the GPU model runner computes the mrope
positions with the model class's ``get_mrope_input_positions(prompt_token_ids, mm_features)``
(``vllm/v1/worker/gpu_model_runner.py:1590-1620``; Qwen2.5-VL ``model_executor/models/qwen2_5_vl.py:1311``,
Qwen3-VL ``model_executor/models/qwen3_vl.py:2571``). This module calls those same functions; only
the engine around them (scheduler, GPU) is absent. The renderer's uuid override for
``mm_processor_cache_gb=0`` without prefix caching only changes hashes, not tokens.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class VllmSide:
    prompt_ids: list[int]  # vLLM's prompt token ids after its prompt update
    position_ids: np.ndarray  # (3, len(prompt_ids)) mrope positions vLLM uses
    mm_features: list[Any]  # vLLM MultiModalFeatureSpec list
    sent_ids: list[int]  # the ids verl sent (after its pad collapse)
    second_per_grid_ts: list[float] | None  # vLLM's per-video value (Qwen2.5-VL), None if absent


@functools.lru_cache(maxsize=8)
def _processor_for(model_dir: str, max_model_len: int, limit_video: int, cache_gb: float, dtype: str):
    from vllm.config import ModelConfig
    from vllm.multimodal import MULTIMODAL_REGISTRY

    model_config = ModelConfig(
        model=model_dir,
        tokenizer=model_dir,
        max_model_len=max_model_len,
        limit_mm_per_prompt={"image": 0, "video": limit_video},
        mm_processor_cache_gb=cache_gb,
        # verl passes rollout.dtype (vllm_async_server.py:330); vLLM casts float processor outputs to it
        # (vllm/multimodal/processing/context.py:226-236), second_per_grid_ts included.
        dtype=dtype,
    )
    # Renderer: create_processor(model_config, tokenizer=self.tokenizer, cache=...); the cache only
    # skips recomputation, so none here.
    processor = MULTIMODAL_REGISTRY.create_processor(model_config)
    return model_config, processor


def _model_class(model_config):
    from vllm.model_executor.model_loader.utils import get_model_architecture

    cls, _ = get_model_architecture(model_config)
    return cls


def vllm_positions(model_config, prompt_ids: list[int], mm_features: list[Any]) -> np.ndarray:
    """The model class's own ``get_mrope_input_positions`` on a weight-less instance (it reads only
    ``self.config`` and, for Qwen2.5-VL, ``self.iter_mm_grid_thw``)."""
    cls = _model_class(model_config)
    shell = object.__new__(cls)  # no __init__: no weights, no torch.nn state
    object.__setattr__(shell, "config", model_config.hf_config)
    positions, _delta = cls.get_mrope_input_positions(shell, list(prompt_ids), mm_features)
    return np.asarray(positions)


def _feature_specs(mm_inputs) -> list[Any]:
    """``InputProcessor.process_inputs``'s MultiModalFeatureSpec list (input_processor.py:332-368)."""
    from vllm.multimodal.inputs import MultiModalFeatureSpec
    from vllm.multimodal.utils import argsort_mm_positions

    kwargs, placeholders, hashes = mm_inputs["mm_kwargs"], mm_inputs["mm_placeholders"], mm_inputs["mm_hashes"]
    features = []
    for modality, idx in argsort_mm_positions(placeholders):
        features.append(
            MultiModalFeatureSpec(
                data=kwargs[modality][idx], modality=modality, identifier=hashes[modality][idx],
                mm_position=placeholders[modality][idx], mm_hash=hashes[modality][idx],
            )
        )
    return features


def process_request(model_dir: str | Path, prompt: dict[str, Any], *, max_model_len: int = 32768,
                    limit_video: int = 8, mm_processor_cache_gb: float = 0, dtype: str = "bfloat16") -> VllmSide:
    """Run the recorded ``prompt`` (verl's TokensPrompt dict) through vLLM's processor and mrope code."""
    from vllm.multimodal.parse import parse_mm_uuids
    from vllm.multimodal.processing import ProcessorInputs, TimingContext

    model_config, processor = _processor_for(str(Path(model_dir).resolve()), int(max_model_len), int(limit_video),
                                             float(mm_processor_cache_gb), str(dtype))
    sent = [int(t) for t in prompt["prompt_token_ids"]]
    items = processor.info.parse_mm_data(prompt["multi_modal_data"])
    uuids = parse_mm_uuids(prompt.get("multi_modal_uuids"))
    inputs = ProcessorInputs(sent, items, uuids, hf_processor_mm_kwargs=prompt.get("mm_processor_kwargs") or {},
                             tokenization_kwargs={})
    mm_inputs = processor.apply(inputs, TimingContext(enabled=False))
    ids = [int(t) for t in mm_inputs["prompt_token_ids"]]
    features = _feature_specs(mm_inputs)
    positions = vllm_positions(model_config, ids, features)
    spg = None
    videos = mm_inputs["mm_kwargs"].get("video") or []
    if videos and all("second_per_grid_ts" in v for v in videos):
        spg = [float(v["second_per_grid_ts"].data.item()) for v in videos]
    return VllmSide(prompt_ids=ids, position_ids=positions, mm_features=features, sent_ids=sent,
                    second_per_grid_ts=spg)
