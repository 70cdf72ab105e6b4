"""The lmms-eval VIUBench task: its YAML loads as lmms-eval loads it, and its result processing
gives the same numbers as the in-tree runner for the same model outputs.

lmms-eval itself is not installed here: the YAML is read with a loader that resolves
``!function utils.name`` from the task folder (what lmms-eval's loader does), and the data is
loaded with ``datasets.load_dataset(dataset_path, **dataset_kwargs)`` as lmms-eval does.
"""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

import av
import pytest
import yaml

from recipes.videossr.eval.columns import table_headers
from recipes.videossr.eval.lmms_task import write_lmms_task
from recipes.videossr.eval.runner import EvalSample, run_samples
from recipes.videossr.eval.samples import SampleStore
from recipes.videossr.eval.scoring import viubench_scorer
from recipes.videossr.eval.table import results_row

REQUIRED = ["task", "dataset_path", "test_split", "output_type", "doc_to_visual", "doc_to_text", "doc_to_target",
            "process_results", "metric_list", "generation_kwargs"]


def load_task_yaml(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location("viubench_task_utils", path.parent / "utils.py")
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
    return load_task_yaml(path)


@pytest.fixture(scope="module")
def docs(task, tmp_path_factory):
    import datasets

    kwargs = task["dataset_kwargs"]
    ds = datasets.load_dataset(task["dataset_path"], cache_dir=str(tmp_path_factory.mktemp("hf")), **kwargs)
    return list(ds[task["test_split"]])


def test_task_definition(task, viubench_parquet):
    assert all(key in task for key in REQUIRED)
    assert task["task"] == "viubench" and task["output_type"] == "generate_until"
    assert task["dataset_kwargs"]["data_files"]["test"] == str(Path(viubench_parquet).resolve())
    gen = task["generation_kwargs"]
    assert gen["max_new_tokens"] == 128 and gen["do_sample"] is False and gen["temperature"] == 0
    for key in ("doc_to_visual", "doc_to_text", "doc_to_target", "process_results"):
        assert callable(task[key])
    for metric in task["metric_list"]:
        assert callable(metric["aggregation"]) and metric["higher_is_better"] is True
    assert len(task["metric_list"]) == 10  # 9 subtypes + Overall


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


def test_doc_to_text_and_visual(task, docs, tmp_path, monkeypatch):
    monkeypatch.setenv("VIUBENCH_VIDEO_CACHE", str(tmp_path / "cache"))
    jigsaw = next(d for d in docs if d["data_source"] == "videossr/jigsaw/n6")
    text = task["doc_to_text"](jigsaw)
    assert "<video>" not in text and "six-digit" in text
    files = task["doc_to_visual"](jigsaw)
    assert len(files) == 6 and all(Path(f).parent == tmp_path / "cache" for f in files)
    clip = jigsaw["videos"][0]
    with av.open(files[0]) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        rate = stream.average_rate
    assert frames == len(clip["video"])  # every frame kept, none duplicated
    assert float(rate) == pytest.approx(float(Fraction(clip["sample_fps"]).limit_denominator(1000)), rel=1e-3)
    assert task["doc_to_visual"](jigsaw) == files  # cached: encoded once


def test_metric_list_equals_the_declared_columns(task):
    # metric_list is YAML and cannot be computed: it must name exactly the tasks' declared columns,
    # in table order, each aggregated by the utils function of the same name.
    from recipes.videossr.eval.columns import OVERALL, SUBTYPE_COLUMNS
    from recipes.videossr.eval.lmms_eval_task import utils

    assert list(utils.METRICS.values()) == [c.label for c in SUBTYPE_COLUMNS] + [OVERALL]
    assert [m["metric"] for m in task["metric_list"]] == list(utils.METRICS)
    for metric in task["metric_list"]:
        assert metric["aggregation"].__name__ == f"aggregate_{utils.METRICS[metric['metric']]}"
