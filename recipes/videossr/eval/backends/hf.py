"""Hugging Face transformers backend: batched greedy generation; runs on CPU (tiny test model) or GPU.

>>> # backend = HFBackend("path/to/Qwen3-VL-8B-Instruct", GenerationSettings())
>>> # backend.generate([conversation]) -> ["12.5-20.0"]
"""

from __future__ import annotations

from typing import Any

from recipes.videossr.eval.backends.base import GenerationSettings, decode_videos, patch_size_of


class HFBackend:
    name = "hf"

    def __init__(self, model_path: str, settings: GenerationSettings):
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.settings = settings
        self.device = settings.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.processor = AutoProcessor.from_pretrained(model_path)
        # Decoder-only batching: pad on the left so every answer starts right after its prompt.
        self.processor.tokenizer.padding_side = "left"
        dtype = settings.dtype if settings.dtype == "auto" else getattr(torch, settings.dtype)
        self.model = AutoModelForImageTextToText.from_pretrained(model_path, dtype=dtype).to(self.device).eval()
        self.patch_size = patch_size_of(self.processor)
        tok = self.processor.tokenizer
        self.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

    def generate(self, conversations: list[list[dict[str, Any]]]) -> list[str]:
        import torch
        from verl.utils.tokenizer import build_multimodal_processor_inputs

        texts = [
            self.processor.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
        ]
        videos = [v for c in conversations for v in decode_videos(c, self.patch_size)]
        inputs = build_multimodal_processor_inputs(
            self.processor, text=texts, videos=videos or None, mm_processor_kwargs={"padding": True}
        ).to(self.device)
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                do_sample=False,  # greedy, always (the reference grounding eval did not force it)
                temperature=None,
                top_p=None,
                top_k=None,
                max_new_tokens=self.settings.max_new_tokens,
                pad_token_id=self.pad_token_id,
            )
        new_tokens = out[:, inputs["input_ids"].shape[1] :]
        return self.processor.batch_decode(new_tokens, skip_special_tokens=True)
