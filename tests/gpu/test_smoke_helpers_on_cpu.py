"""CPU checks of the prepared GPU check's helpers (``smoke_lib.py``): everything that does not need a
GPU runs here, so ``tests/gpu/smoke.sh`` on a GPU machine only meets GPU problems.

Without vLLM (``make test``): the weight-less real-size folders, the four-row dataset at the paper's
settings, the results table. With vLLM 0.24 importable (CPU is enough, see
``recipes/videossr/agreement/README.md``): the request verl records goes through the same front-end
calls as ``vllm.LLM.generate`` and yields the actor's prompt ids; every ``vllm.LLM`` argument the
GPU test passes is one vLLM accepts; the actor step (verl's monkey patch, gradient checkpointing,
remove-padding inputs, forward + backward) runs on the trainer batch with a tiny config.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recipes.videossr.real_size import REAL_SIZES, model_class, num_parameters, write_model_folder

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("qwen3_vl", "qwen2_5_vl")
CLIPS = {"videossr/grounding/channel_swap": 1, "videossr/counting/easy": 1, "videossr/jigsaw/n6": 6,
         "videossr/jigsaw/n8": 8}


@pytest.fixture(scope="module")
def tiny_dirs(tiny_qwen25vl_dir, tiny_qwen3vl_dir):
    return {"qwen2_5_vl": tiny_qwen25vl_dir, "qwen3_vl": tiny_qwen3vl_dir}


@pytest.mark.parametrize("kind", FAMILIES)
def test_real_size_folder_is_the_published_architecture_without_weights(kind, tiny_dirs, tmp_path):
    import torch
    from transformers import AutoConfig, AutoProcessor

    folder = write_model_folder(kind, tmp_path / "real", tiny_dir=tiny_dirs[kind])
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.endswith((".safetensors", ".bin", ".index.json"))], names
    assert {"config.json", "tokenizer.json", "processor_config.json", "chat_template.jinja",
            "real_size_model.json"} <= set(names)
    config = AutoConfig.from_pretrained(folder)
    assert config.architectures == [model_class(kind).__name__] and config.model_type == kind
    spec = REAL_SIZES[kind]
    for key, value in spec["text"].items():
        if key != "rope_parameters":
            assert getattr(config.text_config, key) == value, key
    for key, value in spec["vision"].items():
        assert getattr(config.vision_config, key) == value, key
    tok = AutoProcessor.from_pretrained(folder).tokenizer
    assert config.video_token_id == tok.convert_tokens_to_ids("<|video_pad|>")
    assert config.vision_start_token_id == tok.convert_tokens_to_ids("<|vision_start|>")
    assert config.text_config.eos_token_id == tok.eos_token_id
    with torch.device("meta"):
        model = model_class(kind)._from_config(config)
    assert sum(p.numel() for p in model.parameters()) == num_parameters(kind)
    # the processor files are the tiny model's, byte for byte: token counts are the tiny processor's
    for name in ("tokenizer.json", "processor_config.json"):
        assert (folder / name).read_bytes() == (Path(tiny_dirs[kind]) / name).read_bytes()


def test_real_size_folder_refuses_a_tiny_model_of_the_other_family(tiny_dirs, tmp_path):
    with pytest.raises(ValueError, match="not 'qwen3_vl'"):
        write_model_folder("qwen3_vl", tmp_path / "real", tiny_dir=tiny_dirs["qwen2_5_vl"])


def test_inputs_are_one_row_per_task_at_the_paper_settings(cpu_smoke_inputs, smoke_lib):
    import pyarrow.parquet as pq
    from PIL import Image

    rows = pq.read_table(cpu_smoke_inputs.parquet).to_pylist()
    assert {r["data_source"]: len(r["videos"]) for r in rows} == CLIPS
    for row in rows:
        assert sum(len(v["video"]) for v in row["videos"]) == 48, row["data_source"]
        assert {v["max_pixels"] for v in row["videos"]} == {256 * 256}
        frame = Image.open(cpu_smoke_inputs.parquet.parent / row["videos"][0]["video"][0])  # relative to its folder
        assert frame.size == (341, 192)  # what the train tier stores for a 1280x720 video
    assert cpu_smoke_inputs.rows == {r["data_source"]: i for i, r in enumerate(rows)}
    # idempotent: a second prepare reuses the folder
    marker = cpu_smoke_inputs.parquet.parents[1] / smoke_lib.INPUTS_FILE
    before = marker.stat().st_mtime_ns
    again = smoke_lib.prepare(marker.parent)
    assert again.as_dict() == cpu_smoke_inputs.as_dict() and marker.stat().st_mtime_ns == before


def _fake_results():
    entries = [{"part": "vllm_engine", "family": "qwen3_vl", "data_source": None, "startup_s": 41.0,
                "weights_gib": 16.3, "resident_gib": 80.0, "kv_cache_gib": 63.0, "kv_cache_tokens": 450000,
                "gpu_memory_utilization": 0.6, "enforce_eager": True, "vllm": "0.24.0"},
               {"part": "device", "family": "-", "data_source": None, "gpu": "NVIDIA H200",
                "gpu_memory_gib": 139.8, "torch": "2.11.0", "transformers": "5.9.0", "vllm": "0.24.0",
                "verl": "0.9.1", "flash_attn": "2.8.3"}]
    for source in CLIPS:
        entries.append({"part": "vllm", "family": "qwen3_vl", "data_source": source, "prompt_tokens": 2018,
                        "ids_equal": True, "positions_equal": source != "videossr/jigsaw/n8", "peak_gib": 81.5,
                        "activation_gib": 1.5, "prefill_s": 0.4, "decode_ms_per_token": 14.2,
                        "est_s_per_2048": 29.5})
        entries.append({"part": "actor", "family": "qwen3_vl", "data_source": source, "prompt_tokens": 2018,
                        "response_tokens": 2048, "peak_gib": 40.2, "seconds": 1.9})
    return {"entries": entries}


def test_results_table_has_one_row_per_family_and_task(smoke_lib, tmp_path):
    for entry in _fake_results()["entries"]:
        smoke_lib.record(tmp_path, entry)
    data = json.loads((tmp_path / smoke_lib.RESULTS_FILE).read_text())
    assert len(data["entries"]) == 10
    smoke_lib.record(tmp_path, {**data["entries"][-1], "seconds": 2.5})  # same key: replaced, not added
    assert len(json.loads((tmp_path / smoke_lib.RESULTS_FILE).read_text())["entries"]) == 10
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "gpu" / "smoke_lib.py"), "table", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    rows = [line for line in out.splitlines() if line.startswith("| Qwen3-VL-8B-Instruct")]
    assert len(rows) == 4 and "| jigsaw n8 (8 clips) |" in rows[3] and "**NO**" in rows[3]
    assert "| 2,018 + 2,048 |" in rows[0] and "| 40.2 | 1.90 |" in rows[0]
    assert "| 81.5 = 16.3 + 63.7 + 1.5 |" in rows[0]
    assert "NVIDIA H200" in out and "start-up 41 s" in out


# --- with vLLM 0.24 (CPU) -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def harnesses(cpu_smoke_inputs, smoke_lib):
    pytest.importorskip("vllm", reason="needs vLLM 0.24 in this environment (CPU is enough)")
    cache = {}

    def get(kind):
        if kind not in cache:
            cache[kind] = smoke_lib.harness(cpu_smoke_inputs.real_size[kind], cpu_smoke_inputs.parquet)
        return cache[kind]

    return get


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.parametrize("kind", FAMILIES)
def test_every_llm_argument_is_one_vllm_accepts(kind, harnesses, smoke_lib):
    import dataclasses

    import vllm
    from vllm.engine.arg_utils import EngineArgs

    kwargs = smoke_lib.vllm_engine_kwargs(harnesses(kind))
    assert kwargs["load_format"] == "dummy" and kwargs["enforce_eager"] is True
    assert kwargs["limit_mm_per_prompt"] == {"image": 0, "video": 8} and kwargs["max_model_len"] == 10240
    named = set(inspect.signature(vllm.LLM.__init__).parameters)
    fields = {f.name for f in dataclasses.fields(EngineArgs)}
    assert not [k for k in kwargs if k not in named and k not in fields]  # LLM passes **kwargs to EngineArgs
    # vLLM reads the weight-less folder: architecture, real-size text config, multimodal limits
    model_config = EngineArgs(**kwargs).create_model_config()
    assert model_config.architectures == [model_class(kind).__name__]
    assert model_config.hf_text_config.num_hidden_layers == REAL_SIZES[kind]["text"]["num_hidden_layers"]
    assert model_config.multimodal_config.get_limit_per_prompt("video") == 8
    assert model_config.max_model_len == 10240 and str(model_config.dtype) == "torch.bfloat16"


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.parametrize("kind", FAMILIES)
def test_llm_generate_front_end_builds_the_prompt_the_actor_scores(kind, harnesses, cpu_smoke_inputs, smoke_lib):
    import copy

    from recipes.videossr.agreement.vllm_side import process_request

    h = harnesses(kind)
    kwargs = smoke_lib.vllm_engine_kwargs(h)
    for source, index in cpu_smoke_inputs.rows.items():
        side = h.run_row(index, validate=False)
        prompt = side.request["prompt"]
        ids, features = smoke_lib.frontend_prompt_ids(kwargs, copy.deepcopy(prompt))
        assert features == CLIPS[source] == side.num_videos
        assert ids == side.prompt_ids, (
            f"{kind} {source}: LLM.generate would see {len(ids)} ids, the actor {len(side.prompt_ids)}")
        vllm = process_request(cpu_smoke_inputs.real_size[kind], prompt, max_model_len=kwargs["max_model_len"],
                               limit_video=8, dtype=kwargs["dtype"])
        assert vllm.prompt_ids == ids
        assert np.array_equal(vllm.position_ids, side.position_ids), f"{kind} {source}: positions differ"
        # the recorded prompt is reusable: the GPU test sends copies of it several times
        assert smoke_lib.frontend_prompt_ids(kwargs, copy.deepcopy(prompt))[0] == ids
        sp = smoke_lib.sampling_params(side.request["sampling_params"], 16)
        assert sp.max_tokens == 16 and sp.ignore_eos
        assert sp.temperature == side.request["sampling_params"].temperature


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.parametrize("kind", FAMILIES)
def test_actor_step_runs_on_the_trainer_batch(kind, harnesses, cpu_smoke_inputs, smoke_lib):
    """The GPU test's actor step on CPU, with the tiny config (same processor, so the same batch)."""
    import importlib

    import torch
    from transformers import AutoConfig

    h = harnesses(kind)
    response = smoke_lib.response_ids(h.worker.tokenizer)
    assert len(response) == smoke_lib.RESPONSE_TOKENS
    source = "videossr/jigsaw/n8"
    sample = smoke_lib.trainer_batch(h, cpu_smoke_inputs.rows[source], response)
    side = h.run_row(cpu_smoke_inputs.rows[source], validate=False)
    assert sample.input_ids[: sample.prompt_len].tolist() == side.prompt_ids
    assert sample.input_ids[sample.prompt_len:].tolist() == response
    assert np_equal(sample.position_ids[1:, : sample.prompt_len], side.position_ids)
    assert torch.equal(sample.position_ids[0], torch.arange(sample.position_ids.shape[1]))
    # the response continues every M-RoPE row by one per token
    tail = sample.position_ids[1:, sample.prompt_len:]
    assert torch.equal(tail, tail[:, :1] + torch.arange(tail.shape[1]))

    model = smoke_lib.actor_model(kind, AutoConfig.from_pretrained(cpu_smoke_inputs.tiny[kind]), "cpu")
    assert model.is_gradient_checkpointing and next(model.parameters()).dtype == torch.bfloat16
    modeling = importlib.import_module(f"transformers.models.{kind}.modeling_{kind}")
    generation_cls = getattr(modeling, type(model).__name__)
    original = generation_cls.__dict__["forward"]
    # CPU: sdpa, so verl's flash-attn attention patch (remove padding, Qwen2.5-VL) stays off
    with smoke_lib.verl_actor_patch(model, use_remove_padding=False):
        assert generation_cls.__dict__["forward"] is not original  # verl's forward is in place
        result = smoke_lib.actor_step(model, sample, "cpu")
    assert generation_cls.__dict__["forward"] is original  # and undone
    assert result["response_tokens"] == smoke_lib.RESPONSE_TOKENS
    assert result["grads_finite"] == {"vision": True, "text": True}
    vocab = model.config.text_config.vocab_size
    assert abs(result["loss"] - float(np.log(vocab))) < 0.5  # random weights: ~uniform over the vocabulary


def np_equal(a, b) -> bool:
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))
