"""Real-size Qwen3-VL-8B / Qwen2.5-VL-7B architectures (random weights) for memory and time checks.

The GPU check of the recipe (peak memory and time of forward + backward on one sample of each task
at the paper's settings) needs the real architectures but no weights: this module returns the
published checkpoints' architecture hyper-parameters, wired to the tiny tokenizer's special-token
ids so the tiny processor can feed them. ``num_parameters`` counts without allocating (meta device).

>>> round(num_parameters("qwen2_5_vl") / 1e9, 2)   # doctest: +SKIP
8.29
"""

from __future__ import annotations

from typing import Any

# Architecture of the published checkpoints (config.json of Qwen/Qwen3-VL-8B-Instruct and
# Qwen/Qwen2.5-VL-7B-Instruct).
REAL_SIZES: dict[str, dict[str, Any]] = {
    "qwen3_vl": {
        "name": "Qwen3-VL-8B-Instruct",
        "text": {"vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36,
                 "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
                 "max_position_embeddings": 262144, "tie_word_embeddings": False,
                 "rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [24, 20, 20],
                                     "mrope_interleaved": True}},
        "vision": {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16, "patch_size": 16,
                   "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 4096,
                   "num_position_embeddings": 2304, "deepstack_visual_indexes": [8, 16, 24]},
    },
    "qwen2_5_vl": {
        "name": "Qwen2.5-VL-7B-Instruct",
        "text": {"vocab_size": 152064, "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
                 "num_attention_heads": 28, "num_key_value_heads": 4, "max_position_embeddings": 128000,
                 "tie_word_embeddings": False,
                 "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]}},
        "vision": {"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16, "patch_size": 14,
                   "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 3584, "window_size": 112,
                   "fullatt_block_indexes": [7, 15, 23, 31], "tokens_per_second": 2},
    },
}


def real_size_config(kind: str, token_ids: dict[str, int] | None = None):
    """The ``transformers`` config of the real-size ``kind``; ``token_ids`` remaps the vision tokens."""
    import transformers as tf

    spec = REAL_SIZES[kind]
    config_cls = {"qwen3_vl": tf.Qwen3VLConfig, "qwen2_5_vl": tf.Qwen2_5_VLConfig}[kind]
    return config_cls(text_config=dict(spec["text"]), vision_config=dict(spec["vision"]),
                      tie_word_embeddings=False, **(token_ids or {}))


def model_class(kind: str):
    import transformers as tf

    return {"qwen3_vl": tf.Qwen3VLForConditionalGeneration, "qwen2_5_vl": tf.Qwen2_5_VLForConditionalGeneration}[kind]


def num_parameters(kind: str) -> int:
    """Parameter count of the real-size model, built on the meta device (no memory)."""
    import torch

    with torch.device("meta"):
        model = model_class(kind)(real_size_config(kind))
    return sum(p.numel() for p in model.parameters())
