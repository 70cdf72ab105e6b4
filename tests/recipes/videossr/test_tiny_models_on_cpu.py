"""The tiny offline checkpoints: real Qwen-VL processor classes, Qwen special tokens, small, deterministic."""

from __future__ import annotations

import hashlib

import pytest
from transformers import AutoConfig, AutoProcessor

from recipes.videossr.tiny_models import SPECIAL_TOKENS, build_tiny_model

EXPECTED = {
    "qwen2_5_vl": ("Qwen2_5_VLProcessor", "Qwen2VLVideoProcessor", 14),
    "qwen3_vl": ("Qwen3VLProcessor", "Qwen3VLVideoProcessor", 16),
}


@pytest.fixture(params=sorted(EXPECTED))
def tiny(request, tiny_qwen25vl_dir, tiny_qwen3vl_dir):
    return request.param, {"qwen2_5_vl": tiny_qwen25vl_dir, "qwen3_vl": tiny_qwen3vl_dir}[request.param]


def test_real_processor_classes_and_qwen_tokens(tiny):
    kind, path = tiny
    processor_cls, video_cls, patch = EXPECTED[kind]
    processor = AutoProcessor.from_pretrained(path)
    config = AutoConfig.from_pretrained(path)
    assert type(processor).__name__ == processor_cls and type(processor.video_processor).__name__ == video_cls
    assert processor.video_processor.patch_size == processor.image_processor.patch_size == patch
    assert config.model_type == kind and config.vision_config.patch_size == patch
    assert config.text_config.hidden_size // config.text_config.num_attention_heads >= 32  # vLLM's minimum
    tok = processor.tokenizer
    for token in SPECIAL_TOKENS:
        assert len(tok.encode(token, add_special_tokens=False)) == 1, token
    assert config.video_token_id == tok.convert_tokens_to_ids("<|video_pad|>")
    assert config.vision_start_token_id == tok.convert_tokens_to_ids("<|vision_start|>")
    assert tok.eos_token == "<|im_end|>" and len(tok.encode("\n", add_special_tokens=False)) == 1
    assert config.text_config.vocab_size >= len(tok)


def test_chat_template_renders_qwen_chatml(tiny):
    processor = AutoProcessor.from_pretrained(tiny[1])
    messages = [{"role": "system", "content": "S"},
                {"role": "user", "content": [{"type": "text", "text": "Clip 1: "}, {"type": "video", "video": ["a.jpg"]}]}]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == ("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nClip 1: "
                    "<|vision_start|><|video_pad|><|vision_end|><|im_end|>\n<|im_start|>assistant\n")


def test_small_and_deterministic(tmp_path, tiny_qwen25vl_dir):
    assert sum(f.stat().st_size for f in tiny_qwen25vl_dir.iterdir()) < 1_000_000
    rebuilt = build_tiny_model("qwen2_5_vl", tmp_path / "again")
    for name in ("model.safetensors", "tokenizer.json", "config.json", "processor_config.json"):
        digest = [hashlib.sha256((d / name).read_bytes()).hexdigest() for d in (tiny_qwen25vl_dir, rebuilt)]
        assert digest[0] == digest[1], name


def test_qwen3_checkpoint_is_under_a_megabyte(tiny_qwen3vl_dir):
    assert sum(f.stat().st_size for f in tiny_qwen3vl_dir.iterdir()) < 1_000_000


def test_unknown_kind_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown tiny model kind 'llava'"):
        build_tiny_model("llava", tmp_path / "x")
