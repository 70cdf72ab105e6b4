"""GPU check: real-size Qwen3-VL-8B / Qwen2.5-VL-7B (random weights, bf16), forward + backward on one
sample of each task at the paper's settings (48 frames at 256*256, response 2048 tokens, gradient
checkpointing as in the configs). Prints peak memory and time: the README's hardware table.

Needs only torch + transformers on the GPU machine (no verl / vLLM): frames are synthetic tensors
at the sizes qwen-vl-utils produces for a 1280x720 video (measured on CPU, see the README).
"""

from __future__ import annotations

import time

import pytest
import torch
from transformers import AutoProcessor

from recipes.videossr.real_size import REAL_SIZES, model_class, real_size_config

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

FRAME_SIZE = {"qwen3_vl": (192, 320), "qwen2_5_vl": (168, 336)}  # 256*256 budget, 16:9 video
TASKS = {"grounding/counting (1 clip)": 1, "jigsaw n6 (6 clips)": 6, "jigsaw n8 (8 clips)": 8}
RESPONSE_TOKENS = 2048


def sample(processor, kind: str, clips: int):
    h, w = FRAME_SIZE[kind]
    gen = torch.Generator().manual_seed(clips)
    videos = [torch.randint(0, 256, (48 // clips, 3, h, w), generator=gen).float() for _ in range(clips)]
    content = []
    for k in range(clips):
        content += [{"type": "text", "text": f"Clip {k + 1}: "}, {"type": "video", "video": ["frame.jpg"]}]
    messages = [{"role": "system", "content": "Based on this video, provide the answer directly."},
                {"role": "user", "content": content + [{"type": "text", "text": "Answer."}]}]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    metadata = [{"fps": 2.0, "frames_indices": list(range(len(v))), "total_num_frames": len(v)} for v in videos]
    return processor(text=[text], videos=videos, video_metadata=metadata, do_sample_frames=False,
                     do_resize=False, return_tensors="pt")


@pytest.mark.parametrize("kind", sorted(REAL_SIZES))
def test_forward_backward_memory_and_time(kind, tiny_qwen25vl_dir, tiny_qwen3vl_dir):
    processor = AutoProcessor.from_pretrained({"qwen3_vl": tiny_qwen3vl_dir, "qwen2_5_vl": tiny_qwen25vl_dir}[kind])
    tok = processor.tokenizer
    ids = {"image_token_id": tok.convert_tokens_to_ids("<|image_pad|>"),
           "video_token_id": tok.convert_tokens_to_ids("<|video_pad|>"),
           "vision_start_token_id": tok.convert_tokens_to_ids("<|vision_start|>"),
           "vision_end_token_id": tok.convert_tokens_to_ids("<|vision_end|>")}
    with torch.device("cuda"):
        model = model_class(kind)._from_config(real_size_config(kind, ids), dtype=torch.bfloat16)
    model.gradient_checkpointing_enable()
    model.config.use_cache = False
    model.train()
    vision_param = next(p for n, p in model.named_parameters() if "visual" in n)
    for task, clips in TASKS.items():
        inputs = sample(processor, kind, clips).to("cuda")
        prompt = inputs.pop("input_ids")
        response = torch.randint(0, len(tok), (1, RESPONSE_TOKENS), device="cuda")
        input_ids = torch.cat([prompt, response], dim=1)
        inputs.pop("attention_mask")
        if "mm_token_type_ids" in inputs:
            inputs["mm_token_type_ids"] = torch.cat(
                [inputs["mm_token_type_ids"], torch.zeros_like(response)], dim=1)
        if "pixel_values_videos" in inputs:
            inputs["pixel_values_videos"] = inputs["pixel_values_videos"].to(torch.bfloat16)
        model.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        logits = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **inputs).logits
        logp = torch.log_softmax(logits[:, prompt.shape[1] - 1:-1].float(), dim=-1)
        loss = -logp.gather(-1, response.unsqueeze(-1)).mean()  # the actor's token log-prob objective
        loss.backward()
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f"{REAL_SIZES[kind]['name']} {task}: {input_ids.shape[1]} tokens "
              f"({prompt.shape[1]} prompt), peak {peak:.1f} GiB, forward+backward {seconds:.2f} s")
        assert torch.isfinite(loss)
        assert vision_param.grad is not None and torch.isfinite(vision_param.grad).all()  # video path trained
        assert peak * 2**30 < torch.cuda.get_device_properties(0).total_memory
