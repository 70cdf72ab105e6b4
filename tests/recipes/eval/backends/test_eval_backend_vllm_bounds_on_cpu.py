"""vLLM's context and memory bounds, on CPU: a recording stand-in for ``vllm`` takes the engine's place.

``max_model_len`` is derived from the token record that ``recipes.videossr.token_counts`` writes
beside the parquet (viubench) or from a worst-case bound of the prompts (downstream); an explicit
``--max-model-len`` wins; a missing or stale record is a clear error; ``--gpu-memory-utilization``
reaches ``vllm.LLM``.
"""

from __future__ import annotations

import json
import shutil
import sys
import types

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recipes.videossr.eval.backends.base import model_len_for
from recipes.videossr.eval.cli import main
from recipes.videossr.token_counts import record_token_counts, tokens_path


class _Output:
    def __init__(self, text):
        self.outputs = [types.SimpleNamespace(text=text)]


@pytest.fixture
def fake_vllm(monkeypatch):
    """A ``vllm`` module whose ``LLM`` / ``SamplingParams`` record how they were built and asked."""
    calls = types.SimpleNamespace(llm=[], sampling=[], requests=[])

    class LLM:
        def __init__(self, **kwargs):
            calls.llm.append(kwargs)

        def generate(self, requests, sampling, use_tqdm=True):
            calls.requests += list(requests)
            return [_Output("1,2,3") for _ in requests]

    class SamplingParams:
        def __init__(self, **kwargs):
            calls.sampling.append(kwargs)

    module = types.ModuleType("vllm")
    module.LLM, module.SamplingParams = LLM, SamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    return calls


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, viubench_parquet, tiny_qwen3vl_dir):
    """A copy of the session VIUBench folder (its source_frames link kept) + its qwen3_vl token record."""
    data = shutil.copytree(viubench_parquet.parent, tmp_path_factory.mktemp("recorded") / "data", symlinks=True)
    parquet = data / "viubench.parquet"
    record_token_counts(parquet, tiny_qwen3vl_dir)
    return parquet


def _viubench(model, data, out, *extra):
    return ["viubench", "--model", str(model), "--data", str(data), "--out", str(out), "--backend", "vllm",
            "--max-new-tokens", "4", "--quiet", *extra]


def _recorded_max(parquet, family, sources=None):
    counts = json.loads(tokens_path(parquet).read_text())["models"][family]["data_sources"]
    return max(c["max"] for s, c in counts.items() if sources is None or s in sources)


def _prompt_tokens(processor, request):
    from verl.utils.tokenizer import build_multimodal_processor_inputs

    videos = (request.get("multi_modal_data") or {}).get("video")
    from recipes.videossr.eval.backends.vllm import transformers_prompt

    # the request text as transformers tokenizes it (vLLM's Qwen3-VL prompt doubles the outer vision pair)
    text = transformers_prompt(processor, request["prompt"])
    inputs = build_multimodal_processor_inputs(processor, text=[text], videos=videos)
    return int(inputs["input_ids"].shape[1])


def test_auto_max_model_len_from_the_token_record(fake_vllm, recorded, tiny_qwen3vl_dir, tmp_path):
    from transformers import AutoProcessor

    assert main(_viubench(tiny_qwen3vl_dir, recorded.parent, tmp_path / "run", "--gpu-memory-utilization", "0.55")) == 0
    (kwargs,) = fake_vllm.llm
    longest = _recorded_max(recorded, "qwen3_vl")
    assert kwargs["max_model_len"] == model_len_for(longest, 4)
    assert kwargs["max_model_len"] % 256 == 0 and kwargs["max_model_len"] >= longest + 4 + 64
    assert kwargs["gpu_memory_utilization"] == 0.55
    assert fake_vllm.sampling[0]["max_tokens"] == 4
    # what vLLM is asked fits: every prompt it received is at most the recorded maximum of its data_source
    processor = AutoProcessor.from_pretrained(tiny_qwen3vl_dir)
    lengths = [_prompt_tokens(processor, r) for r in fake_vllm.requests]
    assert len(lengths) == 9 and max(lengths) == longest


def test_limit_sizes_for_the_evaluated_data_sources_only(fake_vllm, recorded, tiny_qwen3vl_dir, tmp_path):
    first = pq.read_table(recorded).to_pylist()[0]["data_source"]
    assert main(_viubench(tiny_qwen3vl_dir, recorded, tmp_path / "run", "--limit", "1")) == 0
    assert fake_vllm.llm[0]["max_model_len"] == model_len_for(_recorded_max(recorded, "qwen3_vl", {first}), 4)
    assert fake_vllm.llm[0]["gpu_memory_utilization"] == 0.8  # the default


def test_explicit_max_model_len_wins_and_needs_no_record(fake_vllm, viubench_parquet, tiny_qwen25vl_dir, tmp_path):
    assert not tokens_path(viubench_parquet).exists()
    assert main(_viubench(tiny_qwen25vl_dir, viubench_parquet, tmp_path / "run", "--max-model-len", "3000")) == 0
    assert fake_vllm.llm[0]["max_model_len"] == 3000


def test_missing_record_is_a_clear_error(fake_vllm, viubench_parquet, tiny_qwen3vl_dir, tmp_path, capsys):
    assert main(_viubench(tiny_qwen3vl_dir, viubench_parquet, tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert f"no {tokens_path(viubench_parquet)}" in err
    assert f"python -m recipes.videossr.token_counts --data {viubench_parquet} --model {tiny_qwen3vl_dir}" in err
    assert "--max-model-len N" in err
    assert fake_vllm.llm == []  # vLLM never started with the model's full context


def test_record_of_another_family_is_not_used(fake_vllm, recorded, tiny_qwen25vl_dir, tmp_path, capsys):
    assert main(_viubench(tiny_qwen25vl_dir, recorded, tmp_path / "run")) == 2
    assert "has no record for model family 'qwen2_5_vl'" in capsys.readouterr().err
    assert fake_vllm.llm == []


def test_stale_record_after_the_parquet_changed(fake_vllm, recorded, tiny_qwen3vl_dir, tmp_path, capsys):
    data = shutil.copytree(recorded.parent, tmp_path / "data", symlinks=True)  # parquet, frames, token record
    parquet = data / "viubench.parquet"
    rows = pq.read_table(parquet).to_pylist()
    pq.write_table(pa.Table.from_pylist(rows[:-1] + [rows[0]]), parquet)  # rebuilt: same row count, other rows
    assert main(_viubench(tiny_qwen3vl_dir, parquet, tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert "record is stale (the parquet changed since it was recorded" in err and "token_counts --data" in err
    assert fake_vllm.llm == []
    record_token_counts(parquet, tiny_qwen3vl_dir)  # recording again makes it fresh
    assert main(_viubench(tiny_qwen3vl_dir, parquet, tmp_path / "run")) == 0
    assert fake_vllm.llm[0]["max_model_len"] == model_len_for(_recorded_max(parquet, "qwen3_vl"), 4)


def test_stale_record_for_other_processor_settings(fake_vllm, recorded, tiny_qwen3vl_dir, tmp_path, capsys):
    model = tmp_path / "qwen3_vl_bigger_frames"
    shutil.copytree(tiny_qwen3vl_dir, model)
    path = model / "processor_config.json"
    config = json.loads(path.read_text())
    size = config["video_processor"]["size"]
    config["video_processor"]["size"] = {**size, "longest_edge": size["longest_edge"] * 2}
    path.write_text(json.dumps(config))
    assert main(_viubench(model, recorded, tmp_path / "run")) == 2
    assert "the processor settings differ" in capsys.readouterr().err
    assert fake_vllm.llm == []


def test_max_pixels_above_the_rows_needs_the_flag(fake_vllm, recorded, tiny_qwen3vl_dir, tmp_path, capsys):
    assert main(_viubench(tiny_qwen3vl_dir, recorded, tmp_path / "run", "--max-pixels", str(1024 * 1024))) == 2
    assert "does not bound these prompts: pass --max-model-len N" in capsys.readouterr().err
    assert main(_viubench(tiny_qwen3vl_dir, recorded, tmp_path / "run2", "--max-pixels", str(128 * 128))) == 0
    assert fake_vllm.llm[0]["max_model_len"] == model_len_for(_recorded_max(recorded, "qwen3_vl"), 4)


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2", "nan", "lots"])
def test_gpu_memory_utilization_is_validated(value, viubench_parquet, tiny_qwen3vl_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(_viubench(tiny_qwen3vl_dir, viubench_parquet, tmp_path / "run", "--gpu-memory-utilization", value))
    assert exc.value.code == 2 and "must be in (0, 1]" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-5", "big"])
def test_max_model_len_is_validated(value, viubench_parquet, tiny_qwen3vl_dir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(_viubench(tiny_qwen3vl_dir, viubench_parquet, tmp_path / "run", "--max-model-len", value))
    assert "'auto' or a positive integer" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["tiny_qwen25vl_dir", "tiny_qwen3vl_dir"])
def test_downstream_auto_bounds_every_prompt(kind, request, fake_vllm, synthetic_videos, tmp_path):
    from transformers import AutoProcessor

    model = request.getfixturevalue(kind)
    videos = sorted(p.stem for p in synthetic_videos.glob("*.mp4"))[:2]
    items = [{"video": videos[0], "question": "Which colour?\nA. red\nB. blue", "answer": "B"},
             {"video": videos[1], "question": "Which shape moves first?\nA. a circle\nB. a square\nC. a triangle\n"
                                              "D. none of them, the frames are still", "answer": "A"}]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(items))
    argv = ["downstream", "--model", str(model), "--items", str(path), "--videos", str(synthetic_videos),
            "--out", str(tmp_path / "out"), "--max-frames", "4", "8", "--max-pixels", "19200",
            "--max-new-tokens", "5", "--backend", "vllm", "--gpu-memory-utilization", "0.3", "--quiet"]
    assert main(argv) == 0
    (kwargs,) = fake_vllm.llm  # one engine for both frame budgets
    assert kwargs["gpu_memory_utilization"] == 0.3
    processor = AutoProcessor.from_pretrained(model)
    lengths = [_prompt_tokens(processor, r) for r in fake_vllm.requests]
    assert len(lengths) == 4
    assert max(lengths) + 5 + 64 <= kwargs["max_model_len"] < max(lengths) + 5 + 64 + 256 + 2 * 8 * 16
    assert main(argv[:-1] + ["--max-model-len", "777", "--retry-errors", "--out", str(tmp_path / "out2"),
                             "--quiet"]) == 0
    assert fake_vllm.llm[-1]["max_model_len"] == 777


def test_generation_settings_validate_the_vllm_bounds():
    from recipes.videossr.eval.backends import GenerationSettings

    assert GenerationSettings().gpu_memory_utilization == 0.8
    for bad in ({"gpu_memory_utilization": 0.0}, {"gpu_memory_utilization": 1.01}, {"max_model_len": 0}):
        with pytest.raises(ValueError):
            GenerationSettings(**bad)


def test_vllm_backend_passes_the_settings_through(fake_vllm, tiny_qwen25vl_dir):
    from recipes.videossr.eval.backends import GenerationSettings, load_backend

    settings = GenerationSettings(max_new_tokens=7, gpu_memory_utilization=0.42, max_model_len=2048,
                                  tensor_parallel_size=2)
    load_backend("vllm", str(tiny_qwen25vl_dir), settings)
    (kwargs,) = fake_vllm.llm
    assert (kwargs["max_model_len"], kwargs["gpu_memory_utilization"], kwargs["tensor_parallel_size"]) == (2048, 0.42, 2)
    assert fake_vllm.sampling[0]["max_tokens"] == 7


def test_bench_auto_bounds_the_sweeps_worst_prompt_with_several_videos(fake_vllm, tiny_qwen3vl_dir, tmp_path):
    """``bench --backend vllm``: one engine for the whole sweep, its context from the largest budget and the
    item with the most videos (CVBench: 2 and 3 videos per question), bounding every real request."""
    from transformers import AutoProcessor

    from data_prep.synthetic import SynthSpec, write_video

    root = tmp_path / "cvbench"
    spec = SynthSpec(width=96, height=64, fps=4, seconds=6.0, num_objects=1)
    items = [{"id": 1, "task_type": "t", "video_1": "1/a.mp4", "video_2": "1/b.mp4", "video_3": None, "video_4": None,
              "question": "Which video is brighter?", "options": ["A. Video 1.", "B. Video 2."], "answer": "A"},
             {"id": 2, "task_type": "t", "video_1": "2/a.mp4", "video_2": "2/b.mp4", "video_3": "2/c.mp4",
              "video_4": None, "question": "Same number of objects?", "options": ["Yes.", "No."], "answer": "Yes"}]
    (root / "CVBench").mkdir(parents=True)
    (root / "CVBench.json").write_text(json.dumps(items))
    for k, item in enumerate(items):
        for field in ("video_1", "video_2", "video_3"):
            if item[field]:
                write_video(root / "CVBench" / item[field], spec, k)
    argv = ["bench", "cvbench", "--root", str(root), "--model", str(tiny_qwen3vl_dir), "--out", str(tmp_path / "out"),
            "--max-frames", "4", "8", "--max-pixels", "19200", "--max-new-tokens", "5", "--backend", "vllm", "--quiet"]
    assert main(argv) == 0
    (kwargs,) = fake_vllm.llm  # one engine for both budgets
    processor = AutoProcessor.from_pretrained(tiny_qwen3vl_dir)
    lengths = [_prompt_tokens(processor, r) for r in fake_vllm.requests]
    assert len(lengths) == 4 and [len(r["multi_modal_data"]["video"]) for r in fake_vllm.requests[:2]] == [2, 3]
    assert max(lengths) + 5 + 64 <= kwargs["max_model_len"]
    assert main(argv + ["--max-model-len", "999", "--out", str(tmp_path / "out2")]) == 0
    assert fake_vllm.llm[-1]["max_model_len"] == 999
