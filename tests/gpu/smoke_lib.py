"""The prepared GPU check (issue 13): helpers shared by ``test_smoke_on_gpu.py``, its CPU checks and
``smoke.sh``. Nothing here needs a GPU; the tests decide the device.

One sample of each task at the paper's settings (48 frames per prompt, ``train`` frame tier at
256*256 pixels, 2,048 response tokens), for the real-size Qwen3-VL-8B and Qwen2.5-VL-7B
architectures with random bf16 weights:

* ``prepare``: synthetic 16:9 videos -> frames -> a four-row training parquet (grounding, counting,
  jigsaw n6, jigsaw n8) with the repository's own data pipeline, plus one weight-less real-size
  model folder per family (``recipes.videossr.real_size.write_model_folder``: real config.json, the
  tiny model's tokenizer/processor);
* the trainer side of every row comes from ``recipes.videossr.agreement.trainer_side.TrainerHarness``
  (verl 0.9.1's agent-loop worker of the recipe config, recording the exact vLLM request);
  ``trainer_batch`` runs the same path with a 2,048-token answer, giving the batch the FSDP actor
  scores (ids, 4-row M-RoPE positions, multimodal inputs);
* ``vllm_engine_kwargs``: the ``vllm.LLM`` arguments verl's ``vLLMHttpServer`` would pass for that
  rollout config (``vllm_async_server.py``), with ``load_format="dummy"`` and eager mode;
* ``actor_model`` / ``actor_step``: the real-size transformers model with verl's own monkey patch
  (``verl.models.transformers.monkey_patch.apply_monkey_patch``, as the FSDP engine applies it),
  gradient checkpointing, and one forward + backward of the actor's token log-prob objective with
  the inputs laid out as verl's remove-padding path does (``(1, L)`` ids, ``(4, 1, L)`` positions,
  no attention mask);
* results are merged into ``<out>/gpu_smoke.json``; ``markdown_table`` formats them as the
  README's hardware-table rows.

* ``build_bundle`` (issue 23): for a GPU machine without vLLM, verl, Ray or flash-attn (torch +
  transformers only, files arrive as one bundle of at most 64 MiB): the exact actor inputs of every
  family x task, built here by verl's agent-loop worker of the recipe config (``actor_harness``:
  the worker ``TrainerHarness`` runs, with the LLM-server stand-in of the CPU agent-loop tests, so
  no vLLM is needed on this side either), the clips as their JPEG frames, the weight-less model
  folders and ``gpu_side.py`` (the runner, importing none of verl/ray/vllm); checked here by running
  the runner's own recomputation of the video inputs against the worker's; one deterministic
  ``.tar.gz``.

Command line (what ``smoke.sh`` calls)::

    python tests/gpu/smoke_lib.py prepare WORK_DIR              # inputs, CPU only, idempotent
    python tests/gpu/smoke_lib.py bundle OUT_DIR [--work DIR]   # OUT_DIR/gpu_smoke_bundle{,.tar.gz}, CPU only
    python tests/gpu/smoke_lib.py table OUT_DIR                 # print the table of OUT_DIR/gpu_smoke.json
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import gzip
import hashlib
import importlib.util
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator


def _load_gpu_side():
    """``gpu_side.py`` (next to this file; no package to import it from), loaded once by path."""
    name = "videossr_gpu_smoke_gpu_side"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("gpu_side.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


gpu_side = _load_gpu_side()
from recipes.videossr.agreement.trainer_side import ActorSample, actor_batch  # noqa: E402
# Shared with the bundle's runner (one definition, in gpu_side.py).
TASKS = gpu_side.TASKS  # (data_source, label) of the four samples, in the order they run
FAMILIES = gpu_side.FAMILIES
RESPONSE_TOKENS = gpu_side.RESPONSE_TOKENS  # the recipe's max_response_length
RESULTS_FILE = gpu_side.RESULTS_FILE
INPUTS_FILE = "inputs.json"

# 16:9 sources above the 256*256 budget: the train tier stores 341x192 frames, exactly what a
# 1280x720 video gives; 24 s at 8 fps -> 48 frames sampled at ~2.2 fps, like a real clip.
VIDEO_SPEC = {"width": 640, "height": 360, "fps": 8, "seconds": 24.0}
NUM_VIDEOS = 4
MIX = {
    "name": "gpu_smoke",
    "output": "gpu_smoke.parquet",
    "split": "train",  # the 256*256 "train" frame tier: the paper's training setting
    "videos": "per_entry",
    "uniform": False,
    "profile": "paper",
    "entries": [{"task": s.split("/")[1], "subtype": s.split("/")[2], "count": 1} for s, _ in TASKS],
}


# --- inputs ---------------------------------------------------------------------------------------


@dataclass
class Inputs:
    parquet: Path
    rows: dict[str, int]  # data_source -> row index
    real_size: dict[str, Path]  # family -> weight-less real-size folder
    tiny: dict[str, Path]  # family -> tiny checkpoint (tokenizer/processor source, CPU checks)

    def as_dict(self) -> dict[str, Any]:
        return {"parquet": str(self.parquet), "rows": self.rows,
                "real_size": {k: str(v) for k, v in self.real_size.items()},
                "tiny": {k: str(v) for k, v in self.tiny.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Inputs":
        return cls(parquet=Path(data["parquet"]), rows=dict(data["rows"]),
                   real_size={k: Path(v) for k, v in data["real_size"].items()},
                   tiny={k: Path(v) for k, v in data["tiny"].items()})


def task_rows(parquet: str | os.PathLike) -> dict[str, int]:
    """``data_source -> row index`` for the ``TASKS`` of ``parquet`` (first row of each)."""
    import pyarrow.parquet as pq

    sources = pq.read_table(parquet, columns=["data_source"]).column("data_source").to_pylist()
    rows = {}
    for source, _ in TASKS:
        if source not in sources:
            raise ValueError(f"{parquet} has no {source} row (has {sorted(set(sources))})")
        rows[source] = sources.index(source)
    return rows


def prepare(work_dir: str | os.PathLike) -> Inputs:
    """Build (once) the four-row dataset and the model folders under ``work_dir``; CPU only.

    Re-running on a finished folder only reads ``inputs.json``. Deterministic: seeded videos, the
    data pipeline's own determinism, ``tiny_models``' fixed tokenizer.
    """
    work = Path(work_dir).expanduser().resolve()
    marker = work / INPUTS_FILE
    if marker.exists():
        inputs = Inputs.from_dict(json.loads(marker.read_text()))
        if inputs.parquet.exists() and all((p / "config.json").exists() for p in inputs.real_size.values()):
            return inputs
    import yaml

    from data_prep.build import build_dataset
    from data_prep.frames import FrameOptions, extract_frames
    from data_prep.synthetic import SynthSpec, write_corpus
    from recipes.videossr.real_size import write_model_folder
    from recipes.videossr.tiny_models import build_tiny_model

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    write_corpus(work / "videos", NUM_VIDEOS, seed=13, spec=SynthSpec(**VIDEO_SPEC))
    # eval_fraction=0: every video is a training video, so the four rows use the train tier (the
    # only one stored).
    summary = extract_frames([str(work / "videos")], work / "frames", FrameOptions(eval_fraction=0.0),
                             progress=False)
    if summary.ok != NUM_VIDEOS:
        raise RuntimeError(f"frame extraction: {summary}")
    mix = work / "gpu_smoke_mix.yaml"
    mix.write_text(yaml.safe_dump(MIX, sort_keys=False))
    built = build_dataset(work / "frames", work / "data", str(mix), eval_fraction=0.0, progress=False)
    tiny = {kind: build_tiny_model(kind, work / "models" / f"tiny-{kind}") for kind in FAMILIES}
    real = {kind: write_model_folder(kind, work / "models" / f"real-{kind}", tiny_dir=tiny[kind])
            for kind in FAMILIES}
    inputs = Inputs(parquet=built.parquet, rows=task_rows(built.parquet), real_size=real, tiny=tiny)
    marker.write_text(json.dumps(inputs.as_dict(), indent=2) + "\n")
    return inputs


# --- trainer side ---------------------------------------------------------------------------------


def harness(model_dir: str | os.PathLike, parquet: str | os.PathLike, overrides: list[str] | None = None):
    """verl's agent-loop worker of the recipe config for ``model_dir`` (the recipe's worker class:
    ``TrainerHarness`` reads ``agent_loop_manager_class`` from the composed config)."""
    from recipes.videossr.agreement.trainer_side import TrainerHarness

    return TrainerHarness(model_dir, parquet, overrides)


def response_ids(tokenizer, n: int = RESPONSE_TOKENS, seed: int = 0) -> list[int]:
    """``n`` random ordinary token ids (no special or vision token: they would desync the model's
    placeholder count), seeded."""
    import torch

    special = set(tokenizer.all_special_ids)
    special |= {tokenizer.convert_tokens_to_ids(t) for t in
                ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>")}
    pool = [i for i in range(len(tokenizer)) if i not in special]
    gen = torch.Generator().manual_seed(seed)
    return [pool[j] for j in torch.randint(0, len(pool), (n,), generator=gen).tolist()]


def trainer_batch(h, index: int, response: list[int]) -> ActorSample:
    """Row ``index`` through the harness's verl worker with ``response`` as vLLM's answer: the
    prompt + response ids, positions and multimodal inputs verl hands the actor."""
    return actor_batch(h, index, response)[0]


class AnsweringClient:
    """Stands in for verl's ``LLMServerClient`` (as ``tests/recipes/videossr/test_agent_loop_on_cpu.py``
    does): records every request the agent loop sends and answers with ``answer_ids``."""

    def __init__(self, answer_ids: list[int] | None = None):
        self.answer_ids = list(answer_ids or [])
        self.requests: list[dict[str, Any]] = []

    async def generate(self, request_id, **kwargs):
        from verl.workers.rollout.replica import TokenOutput

        self.requests.append(kwargs)
        ids = list(self.answer_ids)
        return TokenOutput(token_ids=ids, log_probs=[0.0] * len(ids), num_preempted=0)


@dataclass
class ActorHarness:
    """The worker ``TrainerHarness`` builds (the recipe config for ``model_dir``, the worker class its
    ``agent_loop_manager_class`` names, the recipe's dataset class), talking to an ``AnsweringClient``
    instead of verl's vLLM server code, so it needs no vLLM. ``trainer_batch`` accepts it."""

    model_dir: Path
    config: Any
    worker: Any
    dataset: Any
    engine: AnsweringClient = field(default_factory=AnsweringClient)


def actor_harness(model_dir: str | os.PathLike, parquet: str | os.PathLike,
                  overrides: list[str] | None = None) -> ActorHarness:
    from recipes.videossr.agreement.trainer_side import compose_for_model, harness_worker_class

    config = compose_for_model(model_dir, parquet, overrides)
    client = AnsweringClient()
    worker = harness_worker_class(config)(config, llm_client=client)
    dataset = worker.dataset_cls(data_files=str(Path(parquet)), tokenizer=worker.tokenizer, config=config.data,
                                 processor=worker.processor)
    return ActorHarness(model_dir=Path(model_dir), config=config, worker=worker, dataset=dataset, engine=client)


# --- vLLM side ------------------------------------------------------------------------------------


def vllm_engine_kwargs(h, *, enforce_eager: bool = True,
                       gpu_memory_utilization: float | None = None) -> dict[str, Any]:
    """``vllm.LLM`` keyword arguments for the harness's rollout config, as verl's
    ``vLLMHttpServer.launch_server`` builds its engine args (``vllm_async_server.py``), except:
    ``load_format="dummy"`` (random weights, no file), ``enforce_eager`` (no compile / CUDA graphs:
    start-up in seconds; decode is slower than training's CUDA-graph mode), no sleep mode (its
    allocator hides memory from ``torch.cuda``), the in-process uni-process executor."""
    from omegaconf import DictConfig, OmegaConf

    rollout = h.worker.rollout_config

    def get(key, default=None):
        value = getattr(rollout, key, default)
        return default if value is None else value

    engine = get("engine_kwargs", {}) or {}
    engine = engine.get("vllm", {}) if hasattr(engine, "get") else getattr(engine, "vllm", {})
    if isinstance(engine, DictConfig):
        engine = OmegaConf.to_container(engine, resolve=True)
    engine = {k: v for k, v in dict(engine or {}).items() if v is not None}
    max_model_len = get("max_model_len") or int(get("prompt_length")) + int(get("response_length"))
    kwargs = {
        "model": str(h.model_dir),
        "tokenizer": str(h.model_dir),
        "load_format": "dummy",
        "dtype": str(get("dtype", "bfloat16")),
        "skip_tokenizer_init": False,
        "max_model_len": int(max_model_len),
        "max_num_seqs": int(get("max_num_seqs", 256)),
        "enable_chunked_prefill": bool(get("enable_chunked_prefill", True)),
        "max_num_batched_tokens": int(get("max_num_batched_tokens", 8192)),
        "enable_prefix_caching": bool(get("enable_prefix_caching", True)),
        "enforce_eager": bool(enforce_eager or get("enforce_eager", False)),
        "gpu_memory_utilization": float(gpu_memory_utilization or get("gpu_memory_utilization", 0.5)),
        "tensor_parallel_size": int(get("tensor_model_parallel_size", 1)),
        "seed": int(get("seed", 0)),
        "trust_remote_code": False,
        "disable_log_stats": True,
        **engine,
    }
    if get("logprobs_mode"):
        kwargs["logprobs_mode"] = str(get("logprobs_mode"))
    if kwargs["tensor_parallel_size"] != 1:
        raise ValueError("the GPU smoke check runs on one GPU: tensor_model_parallel_size must be 1")
    return kwargs


def sampling_params(recorded, max_tokens: int):
    """A fresh ``vllm.SamplingParams`` with the sampling settings verl recorded for the request,
    ``max_tokens`` tokens and ``ignore_eos`` (random weights: a fixed, known answer length)."""
    from vllm import SamplingParams

    fields = {k: getattr(recorded, k) for k in ("temperature", "top_p", "top_k", "min_p", "repetition_penalty",
                                                "logprobs") if getattr(recorded, k, None) is not None}
    return SamplingParams(max_tokens=int(max_tokens), ignore_eos=True, seed=0, **fields)


def frontend_prompt_ids(engine_kwargs: dict[str, Any], prompt: dict[str, Any]) -> tuple[list[int], int]:
    """CPU: the ``prompt_token_ids`` ``vllm.LLM.generate(prompt)`` would put on its RequestOutput,
    through the same calls (``LLM._preprocess_cmpl`` -> ``Renderer.render_cmpl`` ->
    ``InputProcessor.process_inputs``, whose EngineCoreRequest ids become the RequestOutput's), with
    a renderer built from the same engine args; returns (ids, number of multimodal features)."""
    import types

    from vllm import SamplingParams
    from vllm.config import DeviceConfig, VllmConfig
    from vllm.engine.arg_utils import EngineArgs
    from vllm.entrypoints.llm import LLM
    from vllm.renderers import renderer_from_config
    from vllm.v1.engine.input_processor import InputProcessor

    args = EngineArgs(**engine_kwargs)
    model_config = args.create_model_config()
    # create_engine_config needs a GPU for its DeviceConfig; the rest of the front end does not.
    config = VllmConfig(model_config=model_config, device_config=DeviceConfig(device="cpu"),
                        load_config=args.create_load_config())
    renderer = renderer_from_config(config)
    (engine_input,) = LLM._preprocess_cmpl(types.SimpleNamespace(renderer=renderer, model_config=model_config),
                                           [prompt])
    request = InputProcessor(config, renderer).process_inputs(
        "smoke", engine_input, SamplingParams(max_tokens=1), supported_tasks=("generate",))
    return [int(t) for t in request.prompt_token_ids], len(request.mm_features or [])


def kv_bytes_per_token(model_dir: str | os.PathLike) -> int:
    """bf16 K+V bytes per token of the text model (all layers)."""
    text = json.loads((Path(model_dir) / "config.json").read_text())["text_config"]
    head_dim = text.get("head_dim") or text["hidden_size"] // text["num_attention_heads"]
    return 2 * int(text["num_hidden_layers"]) * int(text["num_key_value_heads"]) * int(head_dim) * 2


def release_vllm(llm) -> None:
    """Free an in-process ``vllm.LLM``'s GPU memory: ``EngineCore.shutdown`` (model executor,
    scheduler, ``cleanup_dist_env_and_memory``: destroys the model-parallel groups and the
    distributed environment, empties the cache), then drop the references."""
    import torch

    try:
        llm.llm_engine.engine_core.shutdown()
    finally:
        del llm
        gc.collect()
        try:
            from vllm.distributed.parallel_state import cleanup_dist_env_and_memory

            cleanup_dist_env_and_memory()
        except Exception as err:  # already torn down by the shutdown above
            print(f"[gpu smoke] cleanup_dist_env_and_memory: {err!r}")
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


# --- actor side -----------------------------------------------------------------------------------


@contextlib.contextmanager
def verl_actor_patch(model, use_remove_padding: bool = True) -> Iterator[None]:
    """verl's ``apply_monkey_patch`` on ``model`` (what the FSDP engine applies at model build),
    undone on exit: it rebinds methods of transformers' Qwen-VL classes process-wide."""
    import importlib

    from verl.models.transformers.monkey_patch import apply_monkey_patch

    saved = []
    for name in ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe"):
        try:
            module = importlib.import_module(f"transformers.models.{name}.modeling_{name}")
        except ImportError:
            continue
        for obj in vars(module).values():
            if isinstance(obj, type) and obj.__module__ == module.__name__:
                saved.append((obj, dict(vars(obj))))
    try:
        apply_monkey_patch(model=model, use_remove_padding=use_remove_padding, ulysses_sp_size=1,
                           use_fused_kernels=False)
        yield
    finally:
        for cls, attrs in saved:
            for key in [k for k in vars(cls) if k not in attrs]:
                delattr(cls, key)
            for key, value in attrs.items():
                if vars(cls).get(key) is not value and key not in ("__dict__", "__weakref__"):
                    setattr(cls, key, value)


def attn_implementation(device: str) -> str:
    """verl's default (``flash_attention_2``, ``HFModelConfig``) when flash-attn is installed on a
    CUDA device (the GPU install has it), else ``sdpa``."""
    import importlib.util

    return "flash_attention_2" if device.startswith("cuda") and importlib.util.find_spec("flash_attn") else "sdpa"


def actor_model(kind: str, config, device: str, dtype=None, attn: str | None = None):
    """``model_class(kind)`` built from ``config`` on ``device`` with random weights (bf16 by
    default), gradient checkpointing as verl's FSDP engine enables it, training mode."""
    import torch

    from recipes.videossr.real_size import model_class

    dtype = dtype or torch.bfloat16
    with torch.device(device):
        model = model_class(kind)._from_config(config, dtype=dtype,
                                               attn_implementation=attn or attn_implementation(device))
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False
    model.train()
    return model


def actor_inputs(sample: ActorSample, device: str, dtype) -> dict[str, Any]:
    """The model kwargs of verl's remove-padding path (``fsdp/transformer_impl.py``
    ``prepare_model_inputs``): ``(1, L)`` ids, ``(4, 1, L)`` positions, no attention mask, then every
    key of the row's ``multi_modal_inputs`` (pixel values cast to the model dtype, as verl's patched
    ``_get_input_embeds`` does)."""
    import torch

    inputs = {"input_ids": sample.input_ids.unsqueeze(0).to(device),
              "attention_mask": None,
              "position_ids": sample.position_ids.unsqueeze(1).to(device)}
    for key, value in sample.multi_modal_inputs.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device)
            if key.startswith("pixel_values"):
                value = value.to(dtype)
        inputs[key] = value
    return inputs


def actor_step(model, sample: ActorSample, device: str) -> dict[str, Any]:
    """One forward + backward of the actor's objective (mean token log-prob of the response, verl's
    ``logprobs_from_logits`` on the rolled ids); returns loss, seconds and (CUDA) peak memory."""
    import torch
    from verl.utils.torch_functional import logprobs_from_logits

    dtype = next(model.parameters()).dtype
    inputs = actor_inputs(sample, device, dtype)

    def objective(logits):  # (L, V) -> loss, response tokens
        labels = torch.roll(inputs["input_ids"], shifts=-1, dims=-1)
        logp = logprobs_from_logits(logits, labels.squeeze(0))  # (L,): log p(token t+1 | <= t)
        response_logp = logp[sample.prompt_len - 1: -1]
        return -response_logp.float().mean(), int(response_logp.shape[0])

    return gpu_side.timed_backward(model, inputs, objective, device)


def param_bytes(model) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


# --- results (defined in gpu_side.py, shared with the bundle's runner) ------------------------------

GIB = gpu_side.GIB
record = gpu_side.record
device_info = gpu_side.device_info


def markdown_table(results: dict[str, Any]) -> str:
    """The README hardware-table rows: one per family x task (vLLM and actor parts side by side)."""
    from recipes.videossr.real_size import REAL_SIZES

    return gpu_side.markdown_table(results, names={k: v["name"] for k, v in REAL_SIZES.items()})


# --- the bundle for a GPU machine without vLLM/verl/Ray (issue 23) ---------------------------------

BUNDLE_NAME = "gpu_smoke_bundle"
BUNDLE_MAX_BYTES = 64 * 2**20  # what one transfer to the GPU machine may carry
# Copied into the bundle: the runner and the entry script (smoke.sh runs either mode).
BUNDLE_CODE = ("gpu_side.py", "smoke.sh")
BUNDLE_RUN_SH = """#!/usr/bin/env bash
# The GPU check's bundle: actor forward + backward at real size, peak memory and time per sample.
#   bash run.sh              # on the GPU machine (one H100/H200, torch + transformers)
#   bash run.sh --dry-run    # the same code on a CPU, tiny configs
# Results: $GPU_SMOKE_OUT (or $OUT, or <bundle>/out)/gpu_smoke.json; README hardware-table rows on stdout.
exec bash "$(dirname "$0")/smoke.sh" --bundle "$(dirname "$0")" "$@"
"""


@dataclass
class Bundle:
    folder: Path  # OUT_DIR/gpu_smoke_bundle
    archive: Path  # OUT_DIR/gpu_smoke_bundle.tar.gz
    archive_bytes: int
    folder_bytes: int
    manifest: dict[str, Any]


def _slug(data_source: str) -> str:
    return data_source.replace("videossr/", "").replace("/", "-")


def _video_items(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The row's video items (qwen-vl-utils dicts with the frame paths), in prompt order."""
    return [item for message in row.get("raw_prompt") or [] if isinstance(message.get("content"), list)
            for item in message["content"] if isinstance(item, dict) and item.get("type") == "video"]


def _jsonable(value: Any) -> Any:
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")


def _tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def write_archive(folder: str | os.PathLike, archive: str | os.PathLike) -> int:
    """``folder`` as a ``.tar.gz`` whose bytes depend only on the files' names, modes and contents
    (sorted members, mtime 0, no owner, gzip header without name or time); returns its size."""
    folder, archive = Path(folder), Path(archive)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in files:
            info = tarfile.TarInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}")
            info.size = path.stat().st_size
            info.mtime = 0
            info.mode = 0o755 if path.suffix == ".sh" else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    tmp = archive.with_name(archive.name + ".tmp")
    with tmp.open("wb") as out, gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    os.replace(tmp, archive)
    return archive.stat().st_size


def check_bundle_size(archive_bytes: int, folder_bytes: int, max_bytes: int = BUNDLE_MAX_BYTES) -> None:
    """Raise unless both the archive and the unpacked folder fit one transfer (``max_bytes``)."""
    if archive_bytes >= max_bytes or folder_bytes >= max_bytes:
        raise RuntimeError(f"the bundle is too large for one transfer to the GPU machine: archive "
                           f"{archive_bytes:,} bytes, folder {folder_bytes:,} bytes, limit {max_bytes:,} bytes "
                           f"({max_bytes / 2**20:g} MiB); nothing was written")


def build_bundle(out_dir: str | os.PathLike, work_dir: str | os.PathLike | None = None,
                 families: tuple[str, ...] = FAMILIES, max_bytes: int = BUNDLE_MAX_BYTES) -> Bundle:
    """Build ``OUT_DIR/gpu_smoke_bundle/`` and ``OUT_DIR/gpu_smoke_bundle.tar.gz`` on a CPU machine.

    Inputs from ``prepare(work_dir)`` (default ``OUT_DIR/inputs``); per family, verl's agent-loop
    worker of the recipe config (``actor_harness``) builds each task row's actor batch with a
    2,048-token answer. Every sample's video inputs are then recomputed by the bundle's own runner
    (``gpu_side.video_inputs``: the shipped JPEG frames, the model folder's processor) and must be
    byte-identical to the worker's (frames and pixel values, grids): the GPU machine reruns exactly
    that and compares with the fingerprints stored here. Raises if that fails or the archive (or the
    folder) is ``max_bytes`` or more. Same inputs, same bytes.
    """
    import torch

    from recipes.videossr.real_size import REAL_SIZES

    out = Path(out_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    inputs = prepare(work_dir if work_dir is not None else out / "inputs")
    here = Path(__file__).resolve().parent
    stage = Path(tempfile.mkdtemp(prefix=f".{BUNDLE_NAME}.", dir=out))
    folder = stage / BUNDLE_NAME
    try:
        folder.mkdir()
        manifest: dict[str, Any] = {
            "format": gpu_side.BUNDLE_FORMAT, "response_tokens": RESPONSE_TOKENS,
            "tasks": [list(t) for t in TASKS], "families": {}, "samples": [],
            "built_with": {m: __import__(m).__version__ for m in ("torch", "transformers", "verl")},
        }
        (folder / "frames").mkdir()

        def ship_frame(path: str) -> str:
            """The frame file under its content's name (the same frame ships once)."""
            data = Path(path).read_bytes()
            rel = f"frames/{hashlib.sha256(data).hexdigest()[:20]}{Path(path).suffix.lower()}"
            if not (folder / rel).exists():
                (folder / rel).write_bytes(data)
            return rel

        for family in families:
            real, tiny = inputs.real_size[family], inputs.tiny[family]
            model_rel = f"models/{family}"
            (folder / model_rel).mkdir(parents=True)
            for path in sorted(real.iterdir()):
                if path.is_file():
                    shutil.copyfile(path, folder / model_rel / path.name)
            shutil.copyfile(tiny / "config.json", folder / model_rel / "tiny_config.json")
            weights = [p.name for p in (folder / model_rel).iterdir()
                       if p.suffix in (".safetensors", ".bin", ".pt", ".pth")]
            if weights:
                raise RuntimeError(f"weights in the bundle's model folder: {weights}")
            manifest["families"][family] = {"folder": model_rel, "name": REAL_SIZES[family]["name"],
                                            "tiny_config": "tiny_config.json"}
            processor = gpu_side.load_processor(folder / model_rel)

            h = actor_harness(real, inputs.parquet)
            response = response_ids(h.worker.tokenizer)
            for source, index in inputs.rows.items():
                sample, row = actor_batch(h, index, response)
                request = h.engine.requests[-1]
                videos = request.get("video_data") or []
                items = _video_items(row)
                if len(items) != len(videos):
                    raise RuntimeError(f"{family} {source}: {len(items)} video items, {len(videos)} clips sent")
                clips = []
                for item, (frames, metadata) in zip(items, videos):
                    frames = torch.as_tensor(frames)
                    paths = list(item["video"])
                    clips.append({"frames": [ship_frame(p) for p in paths], "size": list(frames.shape[-2:]),
                                  "pad_frames": int(frames.shape[0]) - len(paths), "metadata": _jsonable(dict(metadata))})
                    if not torch.equal(gpu_side.load_clip(folder, clips[-1]), frames.float()):
                        raise RuntimeError(f"{family} {source}: the bundle's frames decode to other pixels than "
                                           "the rollout's decoder gave the processor")
                mm = sample.multi_modal_inputs
                extra = {k: {"dtype": str(v.dtype).replace("torch.", ""), "values": v.tolist()}
                         for k, v in mm.items() if isinstance(v, torch.Tensor)
                         and k not in ("pixel_values_videos", "video_grid_thw")}
                ids_rel = f"samples/{family}/{_slug(source)}.json"
                mask = sample.response_mask if sample.response_mask is not None else torch.ones(sample.response_len)
                _write_json(folder / ids_rel, {
                    "input_ids": sample.input_ids.tolist(), "position_ids": sample.position_ids.tolist(),
                    "prompt_len": sample.prompt_len, "response_mask": [int(v) for v in mask.tolist()]})
                entry = {"family": family, "data_source": source, "ids": ids_rel, "clips": clips,
                         "extra_inputs": extra, "prompt_len": sample.prompt_len,
                         "response_len": sample.response_len, "video_kwargs": {},
                         "expected": {"video_grid_thw": mm["video_grid_thw"].tolist(),
                                      "pixel_values_videos": gpu_side.fingerprint(mm["pixel_values_videos"])}}
                # the runner's own recomputation, here: it must be the worker's, byte for byte
                recomputed = gpu_side.video_inputs(processor, folder, entry)
                if not (torch.equal(recomputed["video_grid_thw"], mm["video_grid_thw"])
                        and torch.equal(recomputed["pixel_values_videos"], mm["pixel_values_videos"])):
                    raise RuntimeError(f"{family} {source}: gpu_side.video_inputs does not reproduce the worker's "
                                       "video inputs from the shipped frames")
                manifest["samples"].append(entry)

        for name in BUNDLE_CODE:
            shutil.copyfile(here / name, folder / name)
        (folder / "run.sh").write_text(BUNDLE_RUN_SH)
        # identity of the content (every file but the manifest itself), for the results
        digest = hashlib.sha256()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
        manifest["content_sha256"] = digest.hexdigest()
        (folder / gpu_side.MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")

        folder_bytes = _tree_bytes(folder)
        archive = out / f"{BUNDLE_NAME}.tar.gz"
        archive_bytes = write_archive(folder, stage / archive.name)
        check_bundle_size(archive_bytes, folder_bytes, max_bytes)
        if (out / BUNDLE_NAME).exists():
            shutil.rmtree(out / BUNDLE_NAME)
        os.replace(folder, out / BUNDLE_NAME)
        os.replace(stage / archive.name, archive)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return Bundle(folder=out / BUNDLE_NAME, archive=archive, archive_bytes=archive_bytes, folder_bytes=folder_bytes,
                  manifest=manifest)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    work = None
    if len(argv) == 4 and argv[0] == "bundle" and argv[2] == "--work":
        work, argv = argv[3], argv[:2]
    if len(argv) != 2 or argv[0] not in ("prepare", "table", "bundle"):
        print(__doc__.split("Command line")[1], file=sys.stderr)
        return 2
    command, folder = argv
    if command == "prepare":
        inputs = prepare(folder)
        print(json.dumps(inputs.as_dict(), indent=2))
        return 0
    if command == "bundle":
        start = time.perf_counter()
        try:
            bundle = build_bundle(folder, work)
        except RuntimeError as err:
            print(f"[gpu smoke] FAILED: bundle: {err}", file=sys.stderr)
            return 1
        samples = len(bundle.manifest["samples"])
        print(f"[gpu smoke] bundle: {bundle.archive} ({bundle.archive_bytes / 2**20:.1f} MiB; folder "
              f"{bundle.folder_bytes / 2**20:.1f} MiB, limit 64 MiB), {samples} samples verified, "
              f"content sha256 {bundle.manifest['content_sha256'][:16]}, built in {time.perf_counter() - start:.0f} s")
        print(f"[gpu smoke] on the GPU machine: tar xzf {bundle.archive.name} && bash {BUNDLE_NAME}/run.sh")
        return 0
    path = Path(folder) / RESULTS_FILE
    if not path.exists():
        print(f"no results at {path}", file=sys.stderr)
        return 1
    print(markdown_table(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    # Run as a script from the repository root: make the repository importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    raise SystemExit(main())
