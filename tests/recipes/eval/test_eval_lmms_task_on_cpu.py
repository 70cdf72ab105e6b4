"""The lmms-eval VIUBench task: its YAML loads as lmms-eval loads it, its messages are the in-tree
conversation with pixel-exact clips, and its result processing gives the same numbers as the
in-tree runner for the same model outputs (a partial run: missing columns are None, never NaN).

lmms-eval itself is not installed here: the YAML is read with a loader that resolves
``!function utils.name`` from the task folder (what lmms-eval's loader does), and the data is
loaded with ``datasets.load_dataset(dataset_path, **dataset_kwargs)`` as lmms-eval does. The same
task under real lmms-eval: ``tests/lmms`` (``make eval-agree``).
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import av
import numpy as np
import pytest
import yaml

from recipes.videossr.eval.columns import table_headers
from recipes.videossr.eval.lmms_task import write_lmms_task
from recipes.videossr.eval.runner import EvalSample, run_samples
from recipes.videossr.eval.samples import SampleStore
from recipes.videossr.eval.scoring import viubench_scorer
from recipes.videossr.eval.table import results_row

REQUIRED = ["task", "dataset_path", "test_split", "output_type", "doc_to_messages", "doc_to_visual", "doc_to_text",
            "doc_to_target", "process_docs", "process_results", "metric_list", "generation_kwargs"]


def load_task_yaml(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(f"viubench_task_utils_{abs(hash(str(path)))}", path.parent / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)

    class Loader(yaml.SafeLoader):
        pass

    def function(loader, node):
        module, name = loader.construct_scalar(node).split(".")
        assert module == "utils"
        return getattr(utils, name)

    Loader.add_constructor("!function", function)
    return yaml.load(path.read_text(), Loader=Loader)


@pytest.fixture(scope="module")
def task(viubench_parquet, tmp_path_factory):
    path = write_lmms_task(viubench_parquet, tmp_path_factory.mktemp("lmms") / "task")
    return {**load_task_yaml(path), "_dir": str(path.parent)}


@pytest.fixture(scope="module")
def docs(task, tmp_path_factory):
    import datasets

    kwargs = task["dataset_kwargs"]
    ds = datasets.load_dataset(task["dataset_path"], cache_dir=str(tmp_path_factory.mktemp("hf")), **kwargs)
    return list(ds[task["test_split"]])


def test_task_definition(task, docs, viubench_parquet):
    assert all(key in task for key in REQUIRED)
    assert task["task"] == "viubench" and task["output_type"] == "generate_until"
    assert task["dataset_kwargs"]["data_files"]["test"] == str(Path(viubench_parquet).resolve())
    gen = task["generation_kwargs"]
    assert gen["max_new_tokens"] == 128 and gen["do_sample"] is False and gen["temperature"] == 0
    for key in ("doc_to_messages", "doc_to_visual", "doc_to_text", "doc_to_target", "process_docs", "process_results"):
        assert callable(task[key])
    for metric in task["metric_list"]:
        assert callable(metric["aggregation"]) and metric["higher_is_better"] is True
    assert len(task["metric_list"]) == 13  # 9 subtypes, 3 task averages, Overall
    assert task["reasoning_tags"] == "none"  # lmms-eval would strip <think> blocks and whitespace first
    kwargs = task["lmms_eval_specific_kwargs"]
    assert kwargs["qwen3_vl"]["model_system_prompt"] is True and kwargs["qwen2_5_vl"]["model_system_prompt"] is False
    settings = json.loads((Path(task["_dir"]) / "viubench_task.json").read_text())
    assert settings["media_root"] == str(Path(viubench_parquet).parent.resolve()) and settings["questions"] == 9
    fps = max(float(v["sample_fps"]) for d in docs for v in d["videos"])
    assert settings["model_args"] == f"min_pixels=16384,max_pixels=262144,fps={math.ceil(fps)},max_num_frames=48"


def test_process_results_matches_in_tree_runner(task, docs, tmp_path):
    # outputs: right, wrong-but-parsable, and unparsable answers across all subtypes
    outputs = []
    for k, doc in enumerate(docs):
        truth = task["doc_to_target"](doc)
        outputs.append([truth, truth[::-1], "no idea"][k % 3])

    per_metric: dict[str, list] = {}
    for doc, out in zip(docs, outputs):
        for name, value in task["process_results"](doc, [out]).items():
            per_metric.setdefault(name, []).append(value)
    lmms = {m["metric"]: m["aggregation"](per_metric[m["metric"]]) for m in task["metric_list"]}

    class Sheet:
        def generate(self, conversations):
            return [c[0]["content"] for c in conversations]

    samples = [EvalSample(f"{k:03d}", d["data_source"], [{"role": "user", "content": o}], [],
                          task["doc_to_target"](d), "") for k, (d, o) in enumerate(zip(docs, outputs))]
    records = run_samples(samples, Sheet, SampleStore(tmp_path, {}), viubench_scorer(), progress=False)
    in_tree = results_row("x", records).values

    headers = {h.lower().replace("-", "_"): h for h in table_headers()}
    for name, value in lmms.items():
        assert value == pytest.approx(in_tree[headers[name]]), name
    assert any(0 < v < 100 for v in lmms.values())  # the mix of answers gives non-trivial numbers


def test_doc_to_text_and_visual_exact_clips(task, docs, viubench_parquet, tmp_path, monkeypatch):
    # Each clip becomes a video file whose decoded frames are the in-tree frames, bit for bit, at the
    # clip's exact sample_fps (what lmms-eval's decord reader hands the processor).
    from qwen_vl_utils import fetch_video

    from data_prep.media import resolve_videos

    monkeypatch.setenv("VIUBENCH_VIDEO_CACHE", str(tmp_path / "cache"))
    jigsaw = next(d for d in docs if d["data_source"] == "videossr/jigsaw/n6")
    text = task["doc_to_text"](jigsaw)
    assert "<video>" not in text and "six-digit" in text
    files = task["doc_to_visual"](jigsaw, {"image_patch_size": 14})
    assert len(files) == 6 and all(Path(f).parent == tmp_path / "cache" for f in files)
    clip = resolve_videos(jigsaw["videos"], Path(viubench_parquet).parent)[0]
    in_tree, metadata = fetch_video({"type": "video", **clip}, image_patch_size=14, return_video_metadata=True)
    with av.open(files[0]) as container:
        stream = container.streams.video[0]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
        rate = float(stream.average_rate)
    assert np.array_equal(frames, in_tree.to(dtype=__import__("torch").uint8).permute(0, 2, 3, 1).numpy())
    assert rate == float(clip["sample_fps"]) == metadata["fps"]
    assert task["doc_to_visual"](jigsaw, {"image_patch_size": 14}) == files  # cached: encoded once
    # Qwen3-VL's 32-pixel grid gives other frames (another file)
    assert task["doc_to_visual"](jigsaw, {"image_patch_size": 16})[0] != files[0]


def test_doc_to_messages_is_the_in_tree_conversation(task, docs, viubench_parquet, tmp_path, monkeypatch):
    from data_prep.media import resolve_videos
    from recipes.videossr.eval.conversation import build_conversation

    monkeypatch.setenv("VIUBENCH_VIDEO_CACHE", str(tmp_path / "cache"))
    jigsaw = next(d for d in docs if d["data_source"] == "videossr/jigsaw/n8")
    in_tree = build_conversation({**jigsaw, "videos": resolve_videos(jigsaw["videos"], Path(viubench_parquet).parent)})
    messages = task["doc_to_messages"](jigsaw, task["lmms_eval_specific_kwargs"]["qwen2_5_vl"])
    assert [m["role"] for m in messages] == [m["role"] for m in in_tree] == ["system", "user"]
    for ours, theirs in zip(messages, in_tree):
        parts = theirs["content"] if isinstance(theirs["content"], list) else [{"type": "text", "text": theirs["content"]}]
        assert [p["type"] for p in ours["content"]] == [p["type"] for p in parts]
        assert [p.get("text") for p in ours["content"]] == [p.get("text") for p in parts]
    urls = [p["url"] for p in messages[1]["content"] if p["type"] == "video"]
    assert len(urls) == 8 and all(u.endswith(".mp4") and Path(u).is_file() for u in urls)
    assert messages[0]["content"] == [{"type": "text", "text": "Based on this video, provide the answer directly."}]
    # the qwen3_vl class prepends its own system_prompt: the task leaves the turn out
    qwen3 = task["doc_to_messages"](jigsaw, task["lmms_eval_specific_kwargs"]["qwen3_vl"])
    assert [m["role"] for m in qwen3] == ["user"]


def test_partial_run_reports_missing_columns_not_nan(task, docs):
    # lmms-eval's --limit 2 reaches the first subtype only (rows are sorted by subtype)
    first = [d for d in docs if d["data_source"] == docs[0]["data_source"]]
    entries = [task["process_results"](d, [task["doc_to_target"](d)]) for d in first]
    values = {m["metric"]: m["aggregation"]([e[m["metric"]] for e in entries]) for m in task["metric_list"]}
    assert values["cnt_e"] == 100.0
    missing = [k for k, v in values.items() if v is None]
    assert set(missing) == set(values) - {"cnt_e"}  # Cnt-Avg and Overall need every subtype of theirs
    text = json.dumps(values, allow_nan=False)  # results.json: null, never NaN
    assert "NaN" not in text and not any(isinstance(v, float) and math.isnan(v) for v in values.values())


def test_per_subtype_selection(viubench_parquet, tmp_path):
    import datasets

    path = write_lmms_task(viubench_parquet, tmp_path / "task", per_subtype=1)
    task = load_task_yaml(path)
    settings = json.loads((path.parent / "viubench_task.json").read_text())
    assert settings["per_subtype"] == 1 and settings["questions"] == 9
    data = datasets.Dataset.from_dict({"data_source": ["a", "a", "b", "c", "b", "a"], "k": list(range(6))})
    assert task["process_docs"](data)["k"] == [0, 2, 3]
    full = load_task_yaml(write_lmms_task(viubench_parquet, tmp_path / "all"))
    assert full["process_docs"](data)["k"] == list(range(6))
    with pytest.raises(ValueError, match="per-subtype"):
        write_lmms_task(viubench_parquet, tmp_path / "bad", per_subtype=0)


def test_metric_list_equals_the_declared_columns(task):
    # metric_list is YAML and cannot be computed: it must name exactly the tasks' declared columns,
    # in table order, each aggregated by the utils function of the same name.
    from recipes.videossr.eval.columns import OVERALL, SUBTYPE_COLUMNS
    from recipes.videossr.eval.lmms_eval_task import utils

    assert list(utils.METRICS.values()) == table_headers()
    assert [c.label for c in SUBTYPE_COLUMNS] + [OVERALL] == [h for h in table_headers() if not h.endswith("-Avg")]
    assert [m["metric"] for m in task["metric_list"]] == list(utils.METRICS)
    for metric in task["metric_list"]:
        assert metric["aggregation"].__name__ == f"aggregate_{utils.METRICS[metric['metric']]}"
