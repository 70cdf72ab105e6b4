"""Real-size Qwen3-VL-8B / Qwen2.5-VL-7B architectures (random weights) for memory and time checks.

The GPU check of the recipe (peak memory and time of forward + backward on one sample of each task
at the paper's settings) needs the real architectures but no weights: this module returns the
published checkpoints' architecture hyper-parameters, wired to the tiny tokenizer's special-token
ids so the tiny processor can feed them. ``num_parameters`` counts without allocating (meta device).

>>> round(num_parameters("qwen2_5_vl") / 1e9, 2)   # doctest: +SKIP
8.29

``write_model_folder`` writes a weight-less Hugging Face folder of the real-size architecture: the
real-size ``config.json`` plus the tiny model's tokenizer, processor and chat template. vLLM starts
from it with ``load_format="dummy"`` (random weights, nothing read from disk), verl's dataset and
agent loop read its processor, and transformers builds the model with ``model_class(kind)._from_config``.
Command line: ``python -m recipes.videossr.real_size --kind qwen3_vl --out outputs/real-qwen3vl``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
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


# Written into every folder of ``write_model_folder``: what it is and why it has no weights.
FOLDER_MARKER = "real_size_model.json"
# Files of a tiny checkpoint that are NOT copied: its weights, its (tiny) config and its marker.
_NOT_COPIED = ("config.json", "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
               "tiny_model.json")


def vision_token_ids(tokenizer) -> dict[str, int]:
    """``real_size_config``'s ``token_ids`` for ``tokenizer`` (the tiny tokenizer's special tokens)."""
    return {"image_token_id": tokenizer.convert_tokens_to_ids("<|image_pad|>"),
            "video_token_id": tokenizer.convert_tokens_to_ids("<|video_pad|>"),
            "vision_start_token_id": tokenizer.convert_tokens_to_ids("<|vision_start|>"),
            "vision_end_token_id": tokenizer.convert_tokens_to_ids("<|vision_end|>")}


def write_model_folder(kind: str, out_dir: str | os.PathLike,
                       tiny_dir: str | os.PathLike | None = None) -> Path:
    """Write a weight-less real-size ``kind`` folder to ``out_dir`` (replaced if it exists).

    ``config.json`` is the published architecture (``real_size_config``, bf16) wired to the tiny
    tokenizer's special-token ids (vision tokens, bos/eos/pad); every other file (tokenizer,
    processor and chat template, generation config) is copied from ``tiny_dir``, a
    ``tiny_models.build_tiny_model`` folder of the same kind (built in a temporary folder when
    None). Token counts are therefore the real processor's: the tiny processor carries the
    published pixel budgets. There is no weights file: load with vLLM ``load_format="dummy"`` or
    ``model_class(kind)._from_config(config)``; ``from_pretrained`` fails on purpose.

    >>> path = write_model_folder("qwen3_vl", tmp / "real-qwen3vl")           # doctest: +SKIP
    >>> json.loads((path / "config.json").read_text())["text_config"]["num_hidden_layers"]  # doctest: +SKIP
    36
    """
    if kind not in REAL_SIZES:
        raise ValueError(f"unknown real-size kind {kind!r}; choose one of {sorted(REAL_SIZES)}")
    from transformers import AutoTokenizer

    out = Path(out_dir).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if tiny_dir is None:
            from recipes.videossr.tiny_models import build_tiny_model

            tiny = build_tiny_model(kind, work / "tiny")
        else:
            tiny = Path(tiny_dir).expanduser().resolve()
        tiny_config = json.loads((tiny / "config.json").read_text())
        if tiny_config.get("model_type") != kind:
            raise ValueError(f"{tiny} is a {tiny_config.get('model_type')!r} checkpoint, not {kind!r}")
        folder = work / "model"
        folder.mkdir()
        for path in sorted(tiny.iterdir()):
            if path.is_file() and path.name not in _NOT_COPIED:
                shutil.copy2(path, folder / path.name)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        config = real_size_config(kind, vision_token_ids(tokenizer))
        text = tiny_config.get("text_config") or {}
        for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
            if key in text:
                setattr(config.text_config, key, text[key])
        config.architectures = [model_class(kind).__name__]
        config.dtype = "bfloat16"  # the published checkpoints' dtype; vLLM's dtype="auto" reads it
        config.save_pretrained(folder)
        (folder / FOLDER_MARKER).write_text(json.dumps(
            {"kind": kind, "architecture": REAL_SIZES[kind]["name"], "weights": None,
             "load": "vLLM load_format='dummy' or transformers _from_config (random weights)",
             "tokenizer_from": "recipes.videossr.tiny_models"}, sort_keys=True) + "\n")
        folder.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        os.replace(folder, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a weight-less real-size Qwen-VL folder (config + tiny tokenizer/processor) "
                    "for vLLM load_format=dummy.", allow_abbrev=False)
    parser.add_argument("--kind", choices=sorted(REAL_SIZES), required=True)
    parser.add_argument("--out", required=True, help="output folder (replaced if it exists)")
    parser.add_argument("--tiny", help="a tiny_models folder of the same kind (tokenizer/processor source); "
                                       "default: build one")
    args = parser.parse_args(argv)
    path = write_model_folder(args.kind, args.out, tiny_dir=args.tiny)
    print(f"{REAL_SIZES[args.kind]['name']} (no weights): {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
