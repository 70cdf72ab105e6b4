"""The in-tree vLLM eval backend's requests, through vLLM 0.24's own ``LLM.generate`` preprocessing,
give the model what the HF backend gives it (issue 16): the same prompt ids, pixels and patch grids
for both families and 1/6/8 clips, Qwen2.5-VL's frame timing kept (its vLLM parser drops the frame
metadata), and the decoding the checkpoint's generation_config asks for.

Run: ``make test-vllm``. The three-harness check with lmms-eval: ``make eval-agree``.
"""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("vllm", reason="needs vLLM 0.24 in this environment (CPU is enough): make vllm-venv")

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


@pytest.fixture(scope="module")
def rows(videossr_data_dir):
    from recipes.videossr.eval import agree

    return agree.agree_rows(str(videossr_data_dir / "viubench.parquet"))


def _hf_record(model_dir, row):
    from transformers import AutoProcessor
    from verl.utils.tokenizer import build_multimodal_processor_inputs

    from recipes.videossr.eval import agree
    from recipes.videossr.eval.backends.base import decode_videos, patch_size_of
    from recipes.videossr.eval.viubench import to_sample

    processor = AutoProcessor.from_pretrained(model_dir)
    messages = to_sample(row, {}).messages
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    inputs = build_multimodal_processor_inputs(processor, text=[text], videos=decode_videos(messages, patch_size_of(processor)))
    return agree.input_record(inputs["input_ids"][0].tolist(), inputs["pixel_values_videos"], inputs["video_grid_thw"],
                              inputs.get("second_per_grid_ts"))


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl"])
def test_vllm_builds_the_hf_inputs(family, rows, tiny_qwen25vl_dir, tiny_qwen3vl_dir):
    from recipes.videossr.eval import agree

    model = str({"qwen2_5_vl": tiny_qwen25vl_dir, "qwen3_vl": tiny_qwen3vl_dir}[family])
    got = agree.vllm_inputs({"max_new_tokens": 4}, rows, model)["inputs"]
    clips = set()
    for row in rows:
        hf, vllm = _hf_record(model, row), got[row["_id"]]
        clips.add(len(vllm["grid_thw"]))
        assert vllm["ids"] == hf["ids"], (family, row["_id"], vllm["tokens"], hf["tokens"])
        assert vllm["pixels"]["shape"] == hf["pixels"]["shape"] and vllm["grid_thw"] == hf["grid_thw"]
        assert vllm["pixels"]["sha256_bf16"] == hf["pixels"]["sha256_bf16"]  # vLLM casts to the model dtype
        if family == "qwen2_5_vl":  # the clip's own rate, not transformers' 24 fps default (2/24)
            assert vllm["second_per_grid_ts"] == pytest.approx(hf["second_per_grid_ts"], rel=1e-2)
            assert vllm["second_per_grid_ts"] == pytest.approx([2 / float(v["sample_fps"]) for v in row["videos"]], rel=1e-2)
    assert clips == {1, 6, 8}


def test_decoding_follows_the_generation_config(tiny_qwen25vl_dir, tmp_path):
    from vllm.config import ModelConfig

    from recipes.videossr.eval.backends.base import GenerationSettings
    from recipes.videossr.eval.backends.vllm import model_kwargs, sampling_kwargs

    model = shutil.copytree(tiny_qwen25vl_dir, tmp_path / "model")
    config = json.loads((model / "generation_config.json").read_text())
    (model / "generation_config.json").write_text(json.dumps({**config, "repetition_penalty": 1.05, "top_k": 1}))
    settings = GenerationSettings(max_new_tokens=7, max_model_len=8192)
    kwargs = sampling_kwargs(ModelConfig(**model_kwargs(str(model), settings)), 7)
    # greedy like the HF backend, with the repetition penalty transformers' generate takes from the file
    assert kwargs == {"temperature": 0.0, "max_tokens": 7, "seed": 0, "repetition_penalty": 1.05}
    plain = sampling_kwargs(ModelConfig(**model_kwargs(str(tiny_qwen25vl_dir), settings)), 7)
    assert "repetition_penalty" not in plain
