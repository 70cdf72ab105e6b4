"""``bench --backend vllm`` on video FILES (the downstream path; VIUBench uses frame lists): vLLM 0.24's own
``LLM.generate`` preprocessing builds from the backend's request the prompt ids, pixels and patch grids the HF
backend builds -- for a clip cut with ``video_start``/``video_end`` (MVBench) and for several videos in one
question (CVBench), both families.

Run: ``make test-vllm``.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("vllm", reason="needs vLLM 0.24 in this environment (CPU is enough): make vllm-venv")

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


@pytest.fixture(scope="module")
def conversations(tmp_path_factory):
    """Two bench questions as the runner builds them: a bounded clip, and a three-video question."""
    from data_prep.synthetic import SynthSpec, write_video
    from recipes.videossr.eval.bench.runner import BenchConfig, conversation
    from recipes.videossr.eval.bench.spec import Item

    root = tmp_path_factory.mktemp("bench_vllm")
    spec = SynthSpec(width=96, height=64, fps=8, seconds=6.0, num_objects=1)
    videos = [str(write_video(root / f"v{k}.mp4", spec, k)) for k in range(3)]
    config = BenchConfig(benchmark="cvbench", root=str(root), model="m", out=str(root / "out"), max_pixels=19200)
    bounded = Item("mv", (videos[0],), "Q?\nA. x\nB. y", "A", clip={"video_start": 1.0, "video_end": 4.5})
    several = Item("cv", tuple(videos), "Q?\nYes.\nNo.", "Y")
    return {item.id: conversation(item, "Answer with the option letter directly.", config, 8)
            for item in (bounded, several)}


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl"])
def test_vllm_builds_the_hf_inputs_for_video_files(family, conversations, tiny_qwen25vl_dir, tiny_qwen3vl_dir):
    import torch
    from transformers import AutoProcessor
    from verl.utils.tokenizer import build_multimodal_processor_inputs
    from vllm.config import DeviceConfig, ModelConfig, VllmConfig
    from vllm.entrypoints.offline_utils import OfflineInferenceMixin
    from vllm.renderers.registry import renderer_from_config

    from recipes.videossr.eval.agree import VLLM_MAX_MODEL_LEN, tensor_digest
    from recipes.videossr.eval.backends.base import GenerationSettings, decode_videos, patch_size_of
    from recipes.videossr.eval.backends.vllm import build_request, model_kwargs

    model = str({"qwen2_5_vl": tiny_qwen25vl_dir, "qwen3_vl": tiny_qwen3vl_dir}[family])
    model_config = ModelConfig(**model_kwargs(model, GenerationSettings(max_model_len=VLLM_MAX_MODEL_LEN)))
    llm = OfflineInferenceMixin()  # LLM.generate's preprocessing, without an engine
    llm.renderer = renderer_from_config(VllmConfig(model_config=model_config, device_config=DeviceConfig(device="cpu")))
    llm.model_config = model_config
    processor = AutoProcessor.from_pretrained(model)
    patch = patch_size_of(processor)
    for name, messages in conversations.items():
        text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        hf = build_multimodal_processor_inputs(processor, text=[text], videos=decode_videos(messages, patch))
        engine = llm._preprocess_cmpl_one(build_request(processor, patch, messages))
        items = list(engine["mm_kwargs"]["video"])
        assert len(items) == len(messages[0]["content"]) - 1, name
        assert [int(t) for t in engine["prompt_token_ids"]] == hf["input_ids"][0].tolist(), name
        pixels = torch.cat([item["pixel_values_videos"].data for item in items])
        # vLLM casts the pixels to the model dtype up front (bf16): compared at that dtype, bit for bit
        assert tensor_digest(pixels)["sha256_bf16"] == tensor_digest(hf["pixel_values_videos"])["sha256_bf16"], name
        assert tensor_digest(pixels)["shape"] == tensor_digest(hf["pixel_values_videos"])["shape"], name
        grid = torch.stack([item["video_grid_thw"].data for item in items])
        assert json.dumps(grid.tolist()) == json.dumps(hf["video_grid_thw"].tolist()), name
