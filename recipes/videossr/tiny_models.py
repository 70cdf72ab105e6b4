"""Tiny, randomly initialised Qwen2.5-VL and Qwen3-VL checkpoints built offline (tests, demo, bench).

No hub access exists on CI machines, yet the rollout-side path (verl's dataset, processor, continuous
token builder, ``generate``, rewards) must run for real. This module writes a complete Hugging Face
folder -- ``config.json``, safetensors weights, ``tokenizer.json`` + chat template and the REAL
processor classes (``Qwen2_5_VLProcessor`` / ``Qwen3VLProcessor`` with their image and video
processors) -- whose only difference from the real checkpoints is size:

* text model: 2 layers, hidden 64, 2 heads of head_dim 32 (vLLM needs head_dim >= 32);
* vision tower: 1-2 blocks of hidden 32, the real patch (14 / 16), merge (2) and temporal (2) sizes;
* tokenizer: byte-level BPE trained here with the ``tokenizers`` library on the task prompts, plus
  every Qwen special token (``<|im_start|>``, ``<|vision_start|>``, ``<|video_pad|>``, ...) so the
  processor's placeholder expansion and verl's Qwen builders behave as with the real model;
* processor pixel budgets: the published checkpoints' values, so token counts are the real ones.

Deterministic: the same kind gives the same bytes (seeded init, fixed training corpus).

Example::

    >>> from recipes.videossr.tiny_models import build_tiny_model
    >>> path = build_tiny_model("qwen3_vl", "/tmp/tiny-qwen3vl")      # doctest: +SKIP
    >>> AutoProcessor.from_pretrained(path)                            # doctest: +SKIP

Command line: ``python -m recipes.videossr.tiny_models --kind qwen3_vl --out outputs/tiny-qwen3vl``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

KINDS = ("qwen2_5_vl", "qwen3_vl")

# Qwen's special tokens, in the order of the real vocabulary (ids follow the BPE vocabulary here).
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

# ChatML as the Qwen-VL models render it: one placeholder triple per image/video item; a default
# system turn when the conversation has none. Written for this repo (same rendered text).
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if loop.first and message['role'] != 'system' -%}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'text' -%}{{ item['text'] }}"
    "{%- elif item['type'] == 'image' or 'image' in item -%}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{%- elif item['type'] == 'video' or 'video' in item -%}{{ '<|vision_start|><|video_pad|><|vision_end|>' }}"
    "{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)

# Text the BPE merges are learned from: the task prompts and answer formats (so prompts tokenize to
# realistic lengths), digits and punctuation of every answer format.
_CORPUS = [
    "Based on this video, provide the answer directly.",
    "In a segment of this video, the colours of the frames are changed. Your task is to identify the "
    "precise time interval of this change. Please only provide the start and end times in seconds, "
    "formatted as <start_time>-<end_time> (e.g., '14.5-26.2').",
    "Count the number of circles, squares, and triangles that appear in this video. Be aware that the "
    "shapes can appear in any color and at any angle of rotation. They may be present on one or "
    "multiple frames, and any given frame can contain more than one shape. Provide the answer as three "
    "comma-separated numbers in the format: circles,squares,triangles. For example, if you see 3 "
    "circles, 1 square, and 4 triangles, your answer should be '3,1,4'.",
    "Clip 1: Clip 2: Clip 3: Clip 4: Clip 5: Clip 6: Clip 7: Clip 8: output a six-digit number that "
    "specifies the order in which to play the clips you are seeing (labeled 1 through 6 by their "
    "position). For example 341562 means play clip 3 first.",
    "You are a helpful assistant. system user assistant seconds mirror rotate zoom shuffle swap",
    "0 1 2 3 4 5 6 7 8 9 0.0 1.5 12.3-20.1 3,1,4 341562 56781234",
]
VOCAB_SIZE = 512  # BPE merges up to this size (the special tokens come on top)


def _train_tokenizer():
    """Byte-level BPE trained on ``_CORPUS``; returns a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte encodable, "\n" one token
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:],
        model_max_length=32768,
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _text_config(tokenizer) -> dict:
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 32,
        "max_position_embeddings": 32768,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "tie_word_embeddings": True,
    }


def _model_and_processor(kind: str, tokenizer):
    """(config, model class, processor) of ``kind`` with tiny sizes and real processor budgets."""
    import transformers as tf

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    token_ids = {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }
    text = _text_config(tokenizer)
    if kind == "qwen2_5_vl":
        # mrope_section (t, h, w) halves of head_dim 32 -> sums to 16.
        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [4, 6, 6]}
        vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 1, "patch_size": 14,
                  "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 64, "window_size": 112,
                  "fullatt_block_indexes": [1], "tokens_per_second": 2}
        config = tf.Qwen2_5_VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=True, **token_ids)
        # Qwen2.5-VL-7B-Instruct's preprocessor_config: 3136 .. 12845056 pixels, patch 14, CLIP mean/std.
        budget = {"shortest_edge": 3136, "longest_edge": 12845056}
        processor = tf.Qwen2_5_VLProcessor(
            image_processor=tf.Qwen2VLImageProcessor(size=budget, patch_size=14, merge_size=2, temporal_patch_size=2),
            video_processor=tf.Qwen2VLVideoProcessor(size=budget, patch_size=14, merge_size=2, temporal_patch_size=2),
            tokenizer=tokenizer,
            chat_template=CHAT_TEMPLATE,
        )
        return config, tf.Qwen2_5_VLForConditionalGeneration, processor
    if kind == "qwen3_vl":
        text["rope_parameters"] = {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [4, 6, 6],
                                   "mrope_interleaved": True}
        vision = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 1, "patch_size": 16,
                  "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 64,
                  "num_position_embeddings": 64, "deepstack_visual_indexes": [0]}
        config = tf.Qwen3VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=True, **token_ids)
        # Qwen3-VL-8B-Instruct's processor configs: images 65536 .. 16777216 pixels; the video budget
        # (4096 .. 25165824) counts the pixels of the WHOLE clip, not of one frame.
        mean_std = {"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}
        processor = tf.Qwen3VLProcessor(
            image_processor=tf.Qwen2VLImageProcessor(size={"shortest_edge": 65536, "longest_edge": 16777216},
                                                     patch_size=16, merge_size=2, temporal_patch_size=2, **mean_std),
            video_processor=tf.Qwen3VLVideoProcessor(size={"shortest_edge": 4096, "longest_edge": 25165824},
                                                     patch_size=16, merge_size=2, temporal_patch_size=2, fps=2,
                                                     **mean_std),
            tokenizer=tokenizer,
            chat_template=CHAT_TEMPLATE,
        )
        return config, tf.Qwen3VLForConditionalGeneration, processor
    raise ValueError(f"unknown tiny model kind {kind!r}; choose one of {KINDS}")


def build_tiny_model(kind: str, out_dir: str | os.PathLike, seed: int = 0) -> Path:
    """Write a tiny random ``kind`` checkpoint (model + tokenizer + processor) to ``out_dir``.

    ``kind`` is ``"qwen2_5_vl"`` or ``"qwen3_vl"``. The folder is written next to ``out_dir`` and
    renamed into place, so a reader never sees half a checkpoint; an existing folder is replaced.

    >>> p = build_tiny_model("qwen2_5_vl", tmp / "tiny25")                 # doctest: +SKIP
    >>> Qwen2_5_VLForConditionalGeneration.from_pretrained(p).num_parameters() < 250_000  # doctest: +SKIP
    True
    """
    if kind not in KINDS:
        raise ValueError(f"unknown tiny model kind {kind!r}; choose one of {KINDS}")
    import torch

    out = Path(out_dir).expanduser().resolve()
    tokenizer = _train_tokenizer()
    config, model_cls, processor = _model_and_processor(kind, tokenizer)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_cls(config).eval()
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = config.text_config.pad_token_id

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp's 0700 would hide the checkpoint from other users of a shared disk
    try:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        (tmp / "tiny_model.json").write_text(json.dumps({"kind": kind, "seed": seed}, sort_keys=True) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a tiny random Qwen-VL checkpoint offline.", allow_abbrev=False)
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--out", required=True, help="output folder (replaced if it exists)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = build_tiny_model(args.kind, args.out, seed=args.seed)
    size = sum(f.stat().st_size for f in path.iterdir())
    print(f"{args.kind}: {path} ({size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
