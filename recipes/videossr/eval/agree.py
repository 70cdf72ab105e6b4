"""``python -m recipes.videossr.eval agree``: one VIUBench, the same inputs and numbers in every harness.

For the same rows and the same model this runs each harness in its own environment (a subprocess:
the harnesses pin different libraries) and compares what they produce:

    hf     the in-tree HF backend (``backends/hf.py``), this environment (``.venv``)
    lmms   lmms-eval 0.7.3 on the task ``lmms-task`` writes, through its real CLI entry point and
           model classes (``--model qwen2_5_vl`` / ``qwen3_vl``); ``.venv-lmms`` (``make lmms-venv``)
    vllm   the in-tree vLLM backend's request (``backends/vllm.py``) through vLLM 0.24's own
           ``LLM.generate`` preprocessing (the renderer and multimodal processor; no engine, so no
           GPU); ``.venv-vllm`` (``make vllm-venv``), skipped where not installed

Phase 1 (``inputs``), per harness and model: the prompt token ids, the vision inputs
(``pixel_values_videos`` shape and sha256, ``video_grid_thw``, ``second_per_grid_ts``) and the
decoding settings the model is handed, recorded where the harness hands them over
(``transformers``' ``generate`` for hf and lmms, vLLM's engine input for vllm); hf and lmms also
generate, and their answers are logged. Phase 2 (``score``): every harness scores every response
list -- an answer sheet built from the ground truths (exact, partially right, wrong, malformed and
decorated answers, so no column is trivially 0) and each harness's logged answers -- with its own
scorer: the in-tree runner's (``runner.run_samples`` + ``scoring`` + ``table``) for hf and vllm,
lmms-eval's evaluator (``--model from_log`` on a log of the responses: the task's
``process_results`` and aggregations) for lmms. The report (``report.md`` / ``report.json`` in
``--out``) is one table harness x column for the answer sheet, the cross-scoring of every list, and
the input comparison; exit status 0 only when everything agrees bit for bit.

Example (``make eval-agree`` runs it on the VIUBench ``make demo`` builds)::

    python -m recipes.videossr.eval agree --data outputs/demo/data \\
        --model outputs/demo/models/tiny-qwen2_5_vl --model outputs/demo/models/tiny-qwen3_vl \\
        --out outputs/agree --lmms-python .venv-lmms/bin/python --vllm-python .venv-vllm/bin/python

>>> answer_variant("videossr/counting/easy", "3,1,3", "partial")
'4,1,3'
>>> answer_variant("videossr/grounding/mirror", "1.0-2.0", "partial")
'1.5-2.5'
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parents[3]
HARNESSES = ("hf", "lmms", "vllm")
HARNESS_LABELS = {"hf": "in-tree HF backend", "lmms": "lmms-eval 0.7.3", "vllm": "vLLM 0.24 backend"}
DEFAULT_PYTHONS = {"lmms": ".venv-lmms/bin/python", "vllm": ".venv-vllm/bin/python"}
INSTALL_HINTS = {"lmms": "make lmms-venv", "vllm": "make vllm-venv"}
LMMS_MODELS = {"qwen2_5_vl": "qwen2_5_vl", "qwen3_vl": "qwen3_vl"}  # model_type -> lmms-eval --model
SHEET = "answer sheet"
VARIANTS = ("exact", "partial", "wrong", "malformed", "decorated")
# What the comparison reads from an input record, in report order.
INPUT_FIELDS = ("ids", "pixel_shape", "pixel_sha256", "grid_thw", "second_per_grid_ts", "positions")
# The bar, and what the verdict gates on: prompt ids, pixel shapes and checksums, patch
# grids, decoding settings (and every score). second_per_grid_ts and M-RoPE positions are reported
# beside them: they differ between transformers and vLLM for reasons outside this repository.
GATED = ("ids", "pixel_shape", "pixel_sha256", "pixel_sha256_f32", "grid_thw", "settings")
KNOWN_CAUSES = {
    ("qwen2_5_vl", "vllm", "second_per_grid_ts"):
        "vLLM 0.24 casts every float processor output to the model dtype (bfloat16 here: 2/12 -> 0.16699), "
        "second_per_grid_ts included (vllm/multimodal/processing/context.py, _postprocess_output)",
    ("qwen2_5_vl", "vllm", "positions"):
        "transformers 5.10.4's Qwen2.5-VL get_rope_index truncates second_per_grid_ts with int() "
        "(time_interval = tokens_per_second * int(second_per_grid_t)): below 1 s per temporal patch every frame "
        "of a clip gets the same temporal position in the HF backend, lmms-eval (and training); vLLM uses the "
        "float (floor(k * second_per_grid_t * tokens_per_second))",
}
VLLM_MAX_MODEL_LEN = 32768  # only bounds the prompt check of vLLM's renderer here


@dataclass(frozen=True)
class AgreeConfig:
    data: str
    models: tuple[str, ...]
    out: str
    harnesses: tuple[str, ...] = HARNESSES
    hf_python: str | None = None  # default: this interpreter
    lmms_python: str | None = None  # default: .venv-lmms/bin/python
    vllm_python: str | None = None  # default: .venv-vllm/bin/python
    per_subtype: int | None = None
    max_new_tokens: int = 128
    dtype: str = "bfloat16"  # lmms-eval's Qwen-VL classes always load bfloat16; the in-tree backend matches
    media_root: str | None = None


# ------------------------------------------------------------------------------------------ rows


def agree_rows(data: str, media_root: str | None = None, per_subtype: int | None = None) -> list[dict[str, Any]]:
    """The VIUBench rows of the check (``viubench.load_rows``), optionally the first k per subtype --
    the same selection the lmms-eval task's ``process_docs`` makes (``lmms_task.select_per_subtype``)."""
    from recipes.videossr.eval.lmms_task import select_per_subtype
    from recipes.videossr.eval.viubench import load_rows

    rows = load_rows(data, media_root)
    return [rows[i] for i in select_per_subtype([r["data_source"] for r in rows], per_subtype)]


def answer_variant(data_source: str, truth: str, variant: str) -> str:
    """One answer of the sheet: ``exact``, ``partial`` (counting: one count off; grounding: the
    interval shifted by half its length), ``wrong`` (parsable, scores 0), ``malformed`` (unparsable)
    or ``decorated`` (the truth inside a sentence: parse-mode dependent)."""
    task = data_source.split("/")[1] if data_source.count("/") >= 2 else ""
    if variant == "exact":
        return truth
    if variant == "malformed":
        return "I cannot tell from this video."
    if variant == "decorated":
        return f"The answer is {truth}."
    if task == "counting":
        counts = [int(c) for c in truth.split(",")]
        if variant == "partial":
            counts[0] += 1
        else:
            counts = [c + 1 for c in counts]
        return ",".join(str(c) for c in counts)
    if task == "grounding":
        start, end = (float(x) for x in truth.split("-"))
        length = max(end - start, 0.2)
        if variant == "partial":
            start, end = start + length / 2, end + length / 2
        else:
            start, end = end + length, end + 2 * length
        return f"{start:.1f}-{end:.1f}"
    return truth[::-1] if truth[::-1] != truth else truth + "0"  # jigsaw and others: a wrong order


def answer_sheet(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Row id -> answer, the variants cycling within each data_source (offset per source), so every
    column mixes right, partial, wrong and malformed answers."""
    sources = sorted({r["data_source"] for r in rows})
    seen: dict[str, int] = {}
    sheet = {}
    for row in rows:
        source = row["data_source"]
        k = seen.get(source, 0)
        seen[source] = k + 1
        variant = VARIANTS[(k + sources.index(source)) % len(VARIANTS)]
        sheet[row["_id"]] = answer_variant(source, str(row["reward_model"]["ground_truth"]), variant)
    return sheet


# ------------------------------------------------------------------------------ input records


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tensor_digest(tensor: Any) -> dict[str, Any]:
    """Shape, dtype and sha256 of a tensor's bytes: as it is (float32 processor output) and as
    bfloat16 (what a bf16 model's vision tower computes on; vLLM casts to the model dtype up front)."""
    import torch

    t = tensor.detach().cpu().contiguous()
    out = {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")}
    out["sha256"] = _sha256(t.numpy().tobytes()) if t.dtype != torch.bfloat16 else None
    out["sha256_bf16"] = _sha256(t.to(torch.bfloat16).view(torch.int16).numpy().tobytes())
    return out


def positions_digest(positions: Any) -> dict[str, Any] | None:
    """Shape and sha256 of a (3, tokens) M-RoPE position array (int64)."""
    import numpy as np

    if positions is None:
        return None
    array = np.ascontiguousarray(np.asarray(positions, dtype=np.int64))
    return {"shape": list(array.shape), "sha256": _sha256(array.tobytes())}


def input_record(ids: Iterable[int], pixels: Any = None, grid: Any = None, spg: Any = None,
                 settings: dict[str, Any] | None = None, positions: Any = None, **extra: Any) -> dict[str, Any]:
    """What one harness hands the model for one question (JSON-ready)."""
    ids = [int(i) for i in ids]
    record: dict[str, Any] = {"tokens": len(ids), "ids": ids, "positions": positions_digest(positions),
                              "pixels": tensor_digest(pixels) if pixels is not None else None,
                              "grid_thw": [[int(x) for x in row] for row in grid.tolist()] if grid is not None else None,
                              "second_per_grid_ts": [float(x) for x in spg] if spg is not None else None,
                              "settings": settings or {}}
    record.update(extra)
    return record


def hf_generation_settings(model: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The decoding transformers' ``generate`` applies: the call's arguments over the model's
    generation_config (max new tokens, greedy or not, repetition penalty, stop token ids)."""
    config = model.generation_config

    def pick(name: str, default: Any = None) -> Any:
        value = kwargs.get(name)
        return value if value is not None else getattr(config, name, default)

    eos = pick("eos_token_id")
    eos = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
    beams = int(pick("num_beams", 1) or 1)
    return {"max_new_tokens": int(pick("max_new_tokens")), "greedy": (not bool(pick("do_sample", False))) and beams == 1,
            "repetition_penalty": float(pick("repetition_penalty", 1.0) or 1.0),
            "stop_token_ids": sorted({int(e) for e in eos})}


class GenerateRecorder:
    """While active, every ``transformers`` ``generate`` call records what the model receives (one
    question per call), then generates as usual. ``key_of(frame)`` names the question from the
    caller's frame (lmms-eval: the ``doc_id`` of its batch); default: the call's number."""

    def __init__(self, key_of: Callable[[Any], Any] | None = None):
        self.key_of = key_of
        self.records: dict[Any, dict[str, Any]] = {}
        self._original = None

    def __enter__(self) -> "GenerateRecorder":
        from transformers.generation.utils import GenerationMixin

        original = GenerationMixin.generate
        recorder = self

        @functools.wraps(original)
        def generate(model, *args, **kwargs):
            recorder._record(model, kwargs, sys._getframe(1))
            return original(model, *args, **kwargs)

        self._original = original
        GenerationMixin.generate = generate
        return self

    def __exit__(self, *exc) -> None:
        from transformers.generation.utils import GenerationMixin

        GenerationMixin.generate = self._original

    def _record(self, model: Any, kwargs: dict[str, Any], frame: Any) -> None:
        ids = kwargs["input_ids"]
        if ids.shape[0] != 1:
            raise ValueError(f"the agreement check asks one question per generate call, got a batch of {ids.shape[0]}")
        mask = kwargs.get("attention_mask")
        kept = ids[0][mask[0].bool()] if mask is not None else ids[0]  # padding is no input
        key = self.key_of(frame) if self.key_of else len(self.records)
        keep = mask[0].bool() if mask is not None else None
        self.records[key] = input_record(kept.tolist(), kwargs.get("pixel_values_videos"), kwargs.get("video_grid_thw"),
                                         kwargs.get("second_per_grid_ts"), hf_generation_settings(model, kwargs),
                                         positions=hf_positions(model, kwargs, keep))


def hf_positions(model: Any, kwargs: dict[str, Any], keep: Any = None) -> Any:
    """The M-RoPE positions transformers' ``generate`` computes for these inputs (the model's own
    ``get_rope_index``, with the arguments ``generate`` passes it), (3, tokens); None if it has none."""
    import inspect

    import torch

    rope = getattr(getattr(model, "model", None), "get_rope_index", None)
    if rope is None:
        return None
    params = inspect.signature(rope).parameters
    args = {k: kwargs[k] for k in ("mm_token_type_ids", "image_grid_thw", "video_grid_thw", "second_per_grid_ts",
                                   "attention_mask") if k in params and kwargs.get(k) is not None}
    with torch.no_grad():
        positions, _ = rope(kwargs["input_ids"], **args)
    positions = positions[:, 0, :]
    return (positions[:, keep] if keep is not None else positions).cpu().numpy()


def lmms_doc_id(frame: Any) -> int:
    """The doc id of the lmms-eval ``generate_until`` batch that called ``generate`` (batch size 1)."""
    while frame is not None:
        ids = frame.f_locals.get("doc_id")
        if isinstance(ids, (tuple, list)) and len(ids) == 1:
            return int(ids[0])
        frame = frame.f_back
    raise RuntimeError("generate was not called from an lmms-eval generate_until batch of one doc")


# -------------------------------------------------------------------------------- harness: hf


def hf_inputs(plan: dict[str, Any], rows: list[dict[str, Any]], model: str) -> dict[str, Any]:
    """The in-tree HF backend on every row: inputs as ``generate`` receives them, and its answers."""
    from recipes.videossr.eval.backends.base import GenerationSettings
    from recipes.videossr.eval.backends.hf import HFBackend
    from recipes.videossr.eval.viubench import to_sample

    backend = HFBackend(model, GenerationSettings(max_new_tokens=plan["max_new_tokens"], device="cpu", dtype=plan["dtype"]))
    inputs, responses = {}, {}
    with GenerateRecorder() as recorder:
        for row in rows:
            responses[row["_id"]] = backend.generate([to_sample(row, {}).messages])[0]
            inputs[row["_id"]] = recorder.records.pop(0)
            recorder.records.clear()
    return {"inputs": inputs, "responses": responses}


# ------------------------------------------------------------------------------ harness: vllm


def vllm_inputs(plan: dict[str, Any], rows: list[dict[str, Any]], model: str) -> dict[str, Any]:
    """The in-tree vLLM backend's requests through vLLM 0.24's ``LLM.generate`` preprocessing
    (``OfflineInferenceMixin._preprocess_cmpl_one``: parse, tokenize, multimodal processor) on a
    renderer built from the backend's engine arguments; sampling settings as the engine resolves them."""
    import torch
    from transformers import AutoProcessor
    from vllm import SamplingParams
    from vllm.config import DeviceConfig, ModelConfig, VllmConfig
    from vllm.entrypoints.offline_utils import OfflineInferenceMixin
    from vllm.renderers.registry import renderer_from_config

    from recipes.videossr.agreement.vllm_side import _feature_specs, vllm_positions
    from recipes.videossr.eval.backends.base import GenerationSettings, patch_size_of
    from recipes.videossr.eval.backends.vllm import build_request, model_kwargs, sampling_kwargs
    from recipes.videossr.eval.viubench import to_sample

    settings = GenerationSettings(max_new_tokens=plan["max_new_tokens"], max_model_len=VLLM_MAX_MODEL_LEN)
    model_config = ModelConfig(**model_kwargs(model, settings))
    # A CUDA build of vLLM cannot infer a device on a CPU machine; the renderer does not use it.
    config = VllmConfig(model_config=model_config, device_config=DeviceConfig(device="cpu"))
    llm = OfflineInferenceMixin()  # LLM.generate's preprocessing, without the engine behind it
    llm.renderer, llm.model_config = renderer_from_config(config), model_config
    sampling = SamplingParams(**sampling_kwargs(model_config, settings.max_new_tokens))
    sampling.update_from_generation_config(model_config.try_get_generation_config(), llm.renderer.get_eos_token_id())
    decoding = {"max_new_tokens": int(sampling.max_tokens), "greedy": sampling.temperature == 0.0,
                "repetition_penalty": float(sampling.repetition_penalty),
                "stop_token_ids": sorted({int(t) for t in sampling.all_stop_token_ids})}
    processor = AutoProcessor.from_pretrained(model)
    patch = patch_size_of(processor)
    inputs = {}
    for row in rows:
        engine_input = llm._preprocess_cmpl_one(build_request(processor, patch, to_sample(row, {}).messages))
        items = list(engine_input.get("mm_kwargs", {}).get("video") or [])
        pixels = torch.cat([item["pixel_values_videos"].data for item in items]) if items else None
        grid = torch.stack([item["video_grid_thw"].data for item in items]) if items else None
        spg = [float(item["second_per_grid_ts"].data) for item in items] if items and "second_per_grid_ts" in items[0] else None
        ids = [int(t) for t in engine_input["prompt_token_ids"]]
        # the engine's M-RoPE positions: the model class's get_mrope_input_positions on these features
        positions = vllm_positions(model_config, ids, _feature_specs(engine_input)) if items else None
        inputs[row["_id"]] = input_record(ids, pixels, grid, spg, decoding, positions=positions,
                                          model_dtype=str(model_config.dtype).replace("torch.", ""))
    return {"inputs": inputs, "responses": None}


# ------------------------------------------------------------------------------ harness: lmms


def lmms_task_dir(plan: dict[str, Any]) -> Path:
    """The task ``lmms-task`` writes for the plan's data (once per run, in the lmms work folder)."""
    from recipes.videossr.eval.lmms_task import write_lmms_task

    folder = Path(plan["work"]) / "lmms" / "task"
    if not (folder / "viubench.yaml").is_file():
        write_lmms_task(plan["data"], folder, media_root=plan.get("media_root"), per_subtype=plan.get("per_subtype"))
    return folder


def run_lmms_cli(argv: list[str], output: Path) -> dict[str, Any]:
    """``python -m lmms_eval ARGV`` in this process (its ``cli_evaluate`` entry point); the run's
    results.json and logged samples."""
    from lmms_eval.__main__ import cli_evaluate

    saved = sys.argv
    sys.argv = ["lmms_eval", *argv, "--output_path", str(output)]
    try:
        cli_evaluate()
    finally:
        sys.argv = saved
    results = sorted(output.rglob("*_results.json"))
    if not results:
        raise RuntimeError(f"lmms-eval wrote no results under {output} (its error is in the log above)")
    samples = sorted(output.rglob("*_samples_viubench.jsonl"))
    logged = [json.loads(line) for line in samples[-1].read_text().splitlines()] if samples else []
    return {"results": json.loads(results[-1].read_text()), "samples": logged}


def _first_text(value: Any) -> str:
    while isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def lmms_inputs(plan: dict[str, Any], rows: list[dict[str, Any]], model: str) -> dict[str, Any]:
    """lmms-eval's CLI with its own model class for the model's family on the written task: the
    inputs its class hands ``generate``, and its logged answers."""
    from recipes.videossr.eval.lmms_task import read_task_settings
    from recipes.videossr.token_counts import model_type_of

    family = model_type_of(model)
    if family not in LMMS_MODELS:
        raise ValueError(f"no lmms-eval model class known for {family} (known: {', '.join(LMMS_MODELS)})")
    task = lmms_task_dir(plan)
    settings = read_task_settings(task)
    model_args = f"pretrained={Path(model).resolve()},device=cpu,device_map=cpu,{settings['model_args']}"
    argv = ["--model", LMMS_MODELS[family], "--model_args", model_args, "--tasks", "viubench", "--include_path",
            str(task), "--batch_size", "1", "--log_samples", "--gen_kwargs", f"max_new_tokens={plan['max_new_tokens']}",
            "--verbosity", "WARNING"]
    output = Path(plan["work"]) / "lmms" / f"run-{family}"
    with GenerateRecorder(key_of=lmms_doc_id) as recorder:
        run = run_lmms_cli(argv, output)
    inputs, responses = {}, {}
    for doc_id, record in recorder.records.items():
        inputs[rows[doc_id]["_id"]] = record
    for sample in run["samples"]:
        row = rows[int(sample["doc_id"])]
        if str(sample.get("target")) != str(row["reward_model"]["ground_truth"]):
            raise RuntimeError(f"lmms-eval doc {sample['doc_id']} is not row {row['_id']} (targets differ)")
        # "resps" is logged only where a filter changed the answer; the task's filter keeps it raw
        responses[row["_id"]] = _first_text(sample["resps"] if "resps" in sample else sample.get("filtered_resps"))
    return {"inputs": inputs, "responses": responses, "model_args": model_args}


def lmms_scores(plan: dict[str, Any], rows: list[dict[str, Any]], name: str, responses: dict[str, str | None]) -> dict:
    """lmms-eval's scores for a response list: a log of it replayed by lmms-eval's ``from_log``
    model through the CLI, so the task's ``process_results`` and aggregations score it."""
    from recipes.videossr.eval.lmms_eval_task.utils import METRICS

    task = lmms_task_dir(plan)
    slug = hashlib.sha256(name.encode()).hexdigest()[:12]
    folder = Path(plan["work"]) / "lmms" / f"score-{slug}"
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = {"args": {"model": "agree", "model_args": "", "limit": None}, "model_configs": {"task": "viubench"},
           "time": "0101_0000",
           "logs": [{"doc_id": k, "resps": [[responses.get(row["_id"]) or ""]]} for k, row in enumerate(rows)]}
    (logs / "viubench.json").write_text(json.dumps(log))
    argv = ["--model", "from_log", "--model_args", f"logs={logs}", "--tasks", "viubench", "--include_path", str(task),
            "--batch_size", "1", "--verbosity", "WARNING"]
    values = run_lmms_cli(argv, folder / "out")["results"]["results"]["viubench"]
    return {header: values.get(f"{metric},none") for metric, header in METRICS.items()}


# ----------------------------------------------------------------------------------- scoring


class ReplayBackend:
    """Hands the in-tree runner logged answers (by conversation) instead of generating them."""

    name = "replay"

    def __init__(self, answers: dict[int, str | None]):
        self.answers = answers

    def generate(self, conversations: list[list[dict[str, Any]]]) -> list[str]:
        outputs = [self.answers.get(id(c)) for c in conversations]
        if any(o is None for o in outputs):
            raise RuntimeError("no logged answer for this question")
        return outputs


def in_tree_scores(rows: list[dict[str, Any]], responses: dict[str, str | None]) -> dict[str, float | None]:
    """The in-tree runner's Table 1 values for a response list (the loop, statuses and scorer of
    ``python -m recipes.videossr.eval viubench``)."""
    from recipes.videossr.eval.runner import run_samples
    from recipes.videossr.eval.samples import SampleStore
    from recipes.videossr.eval.scoring import viubench_scorer
    from recipes.videossr.eval.table import results_row
    from recipes.videossr.eval.viubench import to_sample

    samples = [to_sample(r, {}) for r in rows]
    backend = ReplayBackend({id(s.messages): responses.get(s.id) for s in samples})
    with tempfile.TemporaryDirectory() as tmp:
        records = run_samples(samples, lambda: backend, SampleStore(Path(tmp), {}), viubench_scorer(),
                              batch_size=max(1, len(samples)), progress=False)
    return results_row("replay", records).values


# ----------------------------------------------------------------------------------- workers

INPUT_STEPS = {"hf": hf_inputs, "lmms": lmms_inputs, "vllm": vllm_inputs}


def run_worker(harness: str, phase: str, plan: dict[str, Any]) -> dict[str, Any]:
    """One harness, one phase, in this environment (``python -m recipes.videossr.eval.agree worker``)."""
    import importlib.metadata as md

    rows = agree_rows(plan["data"], plan.get("media_root"), plan.get("per_subtype"))
    versions = {}
    for package in ("transformers", "torch", "qwen-vl-utils", "lmms-eval", "vllm"):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            pass
    result: dict[str, Any] = {"harness": harness, "phase": phase, "versions": versions, "rows": [r["_id"] for r in rows]}
    if phase == "inputs":
        result["models"] = {}
        for model in plan["models"]:
            started = time.time()
            result["models"][model] = {**INPUT_STEPS[harness](plan, rows, model), "seconds": round(time.time() - started, 1)}
    else:
        lists = json.loads(Path(plan["responses"]).read_text())
        scorer = (lambda name, answers: lmms_scores(plan, rows, name, answers)) if harness == "lmms" else \
            (lambda name, answers: in_tree_scores(rows, answers))
        result["scores"] = {name: scorer(name, answers) for name, answers in lists.items()}
    return result


# ------------------------------------------------------------------------------- orchestration


def harness_python(config: AgreeConfig, harness: str) -> str | None:
    """The interpreter of a harness's environment, or None when it is not installed."""
    given = {"hf": config.hf_python, "lmms": config.lmms_python, "vllm": config.vllm_python}[harness]
    if harness == "hf" and not given:
        return sys.executable
    path = Path(given or (ROOT / DEFAULT_PYTHONS[harness]))
    return str(path) if path.exists() else None


def _call_worker(python: str, harness: str, phase: str, plan_path: Path, out: Path, log: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    cmd = [python, "-m", "recipes.videossr.eval.agree", "worker", "--harness", harness, "--phase", phase,
           "--plan", str(plan_path), "--out", str(out)]
    with open(log, "w") as handle:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    if proc.returncode != 0 or not out.is_file():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"{harness} {phase} failed (exit {proc.returncode}; log {log}):\n{tail}")
    return json.loads(out.read_text())


@dataclass
class Report:
    rows: list[str]
    harnesses: list[str]
    skipped: dict[str, str]
    inputs: list[dict[str, Any]] = field(default_factory=list)  # one per (model, harness) vs the reference
    scores: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)  # list -> harness -> column
    responses_equal: dict[str, bool] = field(default_factory=dict)  # model -> hf and lmms answers identical
    seconds: dict[str, float] = field(default_factory=dict)
    versions: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def inputs_agree(self) -> bool:
        return all(entry["agree"] for entry in self.inputs)

    @property
    def scores_agree(self) -> bool:
        return all(_lists_equal(by_harness) for by_harness in self.scores.values())

    @property
    def ok(self) -> bool:
        return bool(self.inputs) and self.inputs_agree and self.scores_agree and len(self.harnesses) > 1


def _lists_equal(by_harness: dict[str, dict[str, Any]]) -> bool:
    values = list(by_harness.values())
    return all(v == values[0] for v in values[1:])


def _field(record: dict[str, Any], name: str) -> Any:
    pixels = record.get("pixels") or {}
    if name == "pixel_shape":
        return pixels.get("shape")
    if name == "pixel_sha256":
        return pixels.get("sha256_bf16")  # every harness has it; float32 is compared too where both have it
    if name == "positions":
        return (record.get("positions") or {}).get("sha256")
    return record.get(name)


def compare_inputs(reference: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Per field, on how many rows ``other`` equals ``reference``; the first differing row of each."""
    equal = {name: 0 for name in (*INPUT_FIELDS, "pixel_sha256_f32", "settings")}
    first: dict[str, str] = {}
    rows = sorted(set(reference) & set(other))
    comparable = 0
    for row in rows:
        a, b = reference[row], other[row]
        checks = {name: _field(a, name) == _field(b, name) for name in INPUT_FIELDS}
        fa, fb = (a.get("pixels") or {}).get("sha256"), (b.get("pixels") or {}).get("sha256")
        checks["pixel_sha256_f32"] = fa == fb if fa is not None and fb is not None else None
        comparable += checks["pixel_sha256_f32"] is not None
        checks["settings"] = a.get("settings") == b.get("settings")
        for name, same in checks.items():
            if same or same is None:
                equal[name] += 1
            else:
                first.setdefault(name, row)
    missing = sorted(set(reference) ^ set(other))
    return {"rows": len(rows), "equal": equal, "first_difference": first, "missing_rows": missing,
            "comparable_f32": comparable, "agree": not missing and not any(k in first for k in GATED)}


def _first_id_mismatch(a: list[int], b: list[int]) -> int | None:
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return k
    return None if len(a) == len(b) else min(len(a), len(b))


def run_agree(config: AgreeConfig, progress: bool = True) -> Report:
    """Run every requested harness (both phases), compare, and write ``report.json`` / ``report.md``."""
    from recipes.videossr.token_counts import model_type_of

    out = Path(config.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows = agree_rows(config.data, config.media_root, config.per_subtype)
    if not rows:
        raise ValueError(f"{config.data}: no rows to compare")
    plan = {"data": str(Path(config.data).resolve()), "media_root": config.media_root, "per_subtype": config.per_subtype,
            "models": [str(Path(m).resolve()) if Path(m).exists() else m for m in config.models],
            "max_new_tokens": config.max_new_tokens, "dtype": config.dtype, "work": str(out / "work")}
    Path(plan["work"]).mkdir(exist_ok=True)
    plan_path = out / "plan.json"
    plan_path.write_text(json.dumps(plan, indent=2))
    pythons, skipped = {}, {}
    for harness in config.harnesses:
        python = harness_python(config, harness)
        if python is None:
            skipped[harness] = f"not installed ({INSTALL_HINTS.get(harness, '')})"
        else:
            pythons[harness] = python
    report = Report(rows=[r["_id"] for r in rows], harnesses=list(pythons), skipped=skipped)

    def log(message: str) -> None:
        if progress:
            print(f"[agree] {message}", file=sys.stderr, flush=True)

    phase1 = {}
    for harness, python in pythons.items():
        started = time.time()
        log(f"{harness}: inputs{' and answers' if harness != 'vllm' else ''} ({len(rows)} rows x {len(plan['models'])} models)")
        phase1[harness] = _call_worker(python, harness, "inputs", plan_path, out / f"{harness}.inputs.json",
                                       out / f"{harness}.inputs.log")
        report.seconds[f"{harness} inputs"] = round(time.time() - started, 1)
        report.versions[harness] = phase1[harness]["versions"]

    families = {m: model_type_of(m) for m in plan["models"]}
    lists: dict[str, dict[str, str | None]] = {SHEET: answer_sheet(rows)}
    for harness, result in phase1.items():
        for model, entry in result["models"].items():
            if entry.get("responses") is not None:
                lists[f"{harness} answers, {families[model]}"] = entry["responses"]
    responses_path = out / "responses.json"
    responses_path.write_text(json.dumps(lists, indent=1))
    plan["responses"] = str(responses_path)
    plan_path.write_text(json.dumps(plan, indent=2))
    for model in plan["models"]:
        answers = [phase1[h]["models"][model]["responses"] for h in ("hf", "lmms") if h in phase1]
        if len(answers) == 2:
            report.responses_equal[families[model]] = answers[0] == answers[1]

    for harness, python in pythons.items():
        started = time.time()
        log(f"{harness}: scoring {len(lists)} response lists")
        scored = _call_worker(python, harness, "score", plan_path, out / f"{harness}.scores.json", out / f"{harness}.scores.log")
        report.seconds[f"{harness} score"] = round(time.time() - started, 1)
        for name, values in scored["scores"].items():
            report.scores.setdefault(name, {})[harness] = values

    reference = "hf" if "hf" in phase1 else next(iter(phase1), None)
    for model in plan["models"]:
        for harness in phase1:
            if harness == reference:
                continue
            ref, other = phase1[reference]["models"][model]["inputs"], phase1[harness]["models"][model]["inputs"]
            entry = {"model": families[model], "harness": harness, "reference": reference, **compare_inputs(ref, other)}
            row = entry["first_difference"].get("ids")
            if row:
                entry["first_id_mismatch"] = {"row": row, "token": _first_id_mismatch(ref[row]["ids"], other[row]["ids"]),
                                              "tokens": [ref[row]["tokens"], other[row]["tokens"]]}
            for name in ("settings", "second_per_grid_ts"):
                row = entry["first_difference"].get(name)
                if row:
                    entry[f"{name}_example"] = {reference: ref[row].get(name), harness: other[row].get(name)}
            report.inputs.append(entry)
    (out / "report.json").write_text(json.dumps(asdict(report), indent=2, sort_keys=True) + "\n")
    (out / "report.md").write_text(format_report(report))
    return report


# ------------------------------------------------------------------------------------- report


def _cell(value: float | None) -> str:
    return "missing" if value is None else repr(round(value, 10))


def scores_table(by_harness: dict[str, dict[str, float | None]]) -> str:
    """Markdown: one row per harness, one column per Table 1 header, full precision."""
    from recipes.videossr.eval.columns import table_headers

    headers = table_headers()
    lines = ["| harness | " + " | ".join(headers) + " |", "|---" * (len(headers) + 1) + "|"]
    for harness, values in by_harness.items():
        lines.append(f"| {HARNESS_LABELS.get(harness, harness)} | " + " | ".join(_cell(values.get(h)) for h in headers) + " |")
    return "\n".join(lines)


def format_report(report: Report) -> str:
    lines = ["# VIUBench harness agreement (python -m recipes.videossr.eval agree)", "",
             f"{len(report.rows)} questions; harnesses: "
             + ", ".join(HARNESS_LABELS.get(h, h) for h in report.harnesses)
             + "".join(f"; {HARNESS_LABELS.get(h, h)} skipped: {why}" for h, why in report.skipped.items()), ""]
    if SHEET in report.scores:
        same = _lists_equal(report.scores[SHEET])
        lines += [f"## Scores of the answer sheet (exact, partial, wrong, malformed, decorated answers): "
                  f"{'identical on every harness' if same else 'HARNESSES DISAGREE'}", "",
                  scores_table(report.scores[SHEET]), ""]
    lines += ["## Every response list scored by every harness", "",
              "| responses | " + " | ".join(HARNESS_LABELS.get(h, h) for h in report.harnesses) + " | identical |",
              "|---" * (len(report.harnesses) + 2) + "|"]
    for name, by_harness in report.scores.items():
        overall = [_cell(by_harness.get(h, {}).get("Overall")) for h in report.harnesses]
        lines.append(f"| {name} | " + " | ".join(f"Overall {v}" for v in overall)
                     + f" | {'yes, all columns' if _lists_equal(by_harness) else 'NO'} |")
    lines += ["", "## Inputs the model receives, per question, against the in-tree HF backend", "",
              "Gated (the verdict): prompt ids, pixel shape and sha256, grid_thw, decoding; reported beside them: "
              "second_per_grid_ts and the M-RoPE positions the model computes from them.", "",
              "| model | harness | questions | prompt ids | pixel shape | pixels sha256 (bf16) | pixels sha256 (fp32) "
              "| grid_thw | second_per_grid_ts | M-RoPE positions | decoding | agree |", "|---" * 12 + "|"]
    for e in report.inputs:
        n, eq = e["rows"], e["equal"]
        cells = [f"{eq[k]}/{n}" for k in ("ids", "pixel_shape", "pixel_sha256") if k in eq]
        f32 = e.get("comparable_f32", n)
        cells.append(f"{eq['pixel_sha256_f32']}/{n}" if f32 else "n/a (bf16 only)")
        cells += [f"{eq[k]}/{n}" for k in ("grid_thw", "second_per_grid_ts", "positions", "settings")]
        lines.append(f"| {e['model']} | {HARNESS_LABELS.get(e['harness'], e['harness'])} | {n} | " + " | ".join(cells)
                     + f" | {'yes' if e['agree'] else 'NO'} |")
    notes = []
    for e in report.inputs:
        if "first_id_mismatch" in e:
            m = e["first_id_mismatch"]
            notes.append(f"{e['model']} {e['harness']}: prompt ids differ first on {m['row']} at token {m['token']} "
                         f"({m['tokens'][0]} vs {m['tokens'][1]} tokens)")
        for name in ("settings", "second_per_grid_ts"):
            if f"{name}_example" in e:
                notes.append(f"{e['model']} {e['harness']}: {name} {json.dumps(e[f'{name}_example'])}")
        for name in e["first_difference"]:
            cause = KNOWN_CAUSES.get((e["model"], e["harness"], name))
            if cause:
                notes.append(f"{e['model']} {e['harness']}: {name} differ{'s' if name.endswith('ts') else ''} "
                             f"(not gated): {cause}")
        if e["missing_rows"]:
            notes.append(f"{e['model']} {e['harness']}: no record for {', '.join(e['missing_rows'][:5])}")
    for family, same in report.responses_equal.items():
        notes.append(f"{family}: the in-tree HF backend and lmms-eval generated "
                     f"{'identical' if same else 'different'} answers")
    lines += [""] + [f"- {n}" for n in notes]
    lines += ["", "Wall time (s): " + ", ".join(f"{k} {v}" for k, v in report.seconds.items()),
              "", f"Verdict: {'AGREE' if report.ok else 'DISAGREE'}", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``python -m recipes.videossr.eval.agree worker ...``: one harness's phase (the subprocess side)."""
    parser = argparse.ArgumentParser(prog="python -m recipes.videossr.eval.agree", allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("worker", allow_abbrev=False, help="run one harness phase in this environment")
    w.add_argument("--harness", required=True, choices=HARNESSES)
    w.add_argument("--phase", required=True, choices=["inputs", "score"])
    w.add_argument("--plan", required=True)
    w.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    plan = json.loads(Path(args.plan).read_text())
    result = run_worker(args.harness, args.phase, plan)
    Path(args.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
