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

Command line (what ``smoke.sh`` calls)::

    python tests/gpu/smoke_lib.py prepare WORK_DIR     # inputs, CPU only, idempotent
    python tests/gpu/smoke_lib.py table OUT_DIR        # print the table of OUT_DIR/gpu_smoke.json
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

# (data_source, label) of the four samples, in the order they run.
TASKS: list[tuple[str, str]] = [
    ("videossr/grounding/channel_swap", "grounding (1 clip)"),
    ("videossr/counting/easy", "counting (1 clip)"),
    ("videossr/jigsaw/n6", "jigsaw n6 (6 clips)"),
    ("videossr/jigsaw/n8", "jigsaw n8 (8 clips)"),
]
FAMILIES = ("qwen3_vl", "qwen2_5_vl")
RESPONSE_TOKENS = 2048  # the recipe's max_response_length
RESULTS_FILE = "gpu_smoke.json"
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


@dataclass
class ActorSample:
    """One row of the batch the FSDP actor scores (valid tokens only, verl's remove-padding layout)."""

    data_source: str
    input_ids: Any  # (L,) prompt + response
    position_ids: Any  # (4, L): row 0 text positions, rows 1..3 M-RoPE (t, h, w)
    prompt_len: int
    multi_modal_inputs: dict[str, Any]

    @property
    def response_len(self) -> int:
        return int(self.input_ids.shape[0]) - self.prompt_len


def trainer_batch(h, index: int, response: list[int]) -> ActorSample:
    """Row ``index`` through the harness's verl worker with ``response`` as vLLM's answer: the
    prompt + response ids, positions and multimodal inputs verl hands the actor (same calls as
    ``TrainerHarness.run_row``, which keeps only the prompt part)."""
    from verl.protocol import DataProto
    from verl.utils.dataset.rl_dataset import collate_fn

    row = h.dataset[index]
    batch = DataProto.from_single_dict(collate_fn([row]))
    batch.meta_info.update({"validate": False, "global_steps": 0})
    previous = h.engine.answer_ids
    h.engine.answer_ids = list(response)
    try:
        out = asyncio.run(h.worker.generate_sequences(batch))
    finally:
        h.engine.answer_ids = previous
    mask = out.batch["attention_mask"][0].bool()
    plen = int(out.batch["attention_mask"][0][: out.batch["prompts"].shape[-1]].sum())
    pos = out.batch["position_ids"][0]
    if pos.dim() != 2 or pos.shape[0] != 4:
        raise RuntimeError(f"expected verl's (4, L) Qwen-VL position ids, got {tuple(pos.shape)}")
    mm = out.non_tensor_batch["multi_modal_inputs"][0]
    return ActorSample(data_source=str(row["data_source"]), input_ids=out.batch["input_ids"][0][mask],
                       position_ids=pos[:, mask], prompt_len=plen, multi_modal_inputs=dict(mm))


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
    cuda = device.startswith("cuda")
    model.zero_grad(set_to_none=True)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    logits = model(**inputs, use_cache=False).logits  # (1, L, V)
    labels = torch.roll(inputs["input_ids"], shifts=-1, dims=-1)
    logp = logprobs_from_logits(logits.squeeze(0), labels.squeeze(0))  # (L,): log p(token t+1 | <= t)
    response_logp = logp[sample.prompt_len - 1: -1]
    loss = -response_logp.float().mean()
    loss.backward()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    grads = {"vision": None, "text": None}
    for name, param in model.named_parameters():
        part = "vision" if "visual" in name else "text"
        if grads[part] is None and param.grad is not None:
            grads[part] = bool(torch.isfinite(param.grad).all())
    return {
        "loss": float(loss.detach()),
        "seconds": seconds,
        "peak_bytes": torch.cuda.max_memory_allocated() if cuda else None,
        "response_tokens": int(response_logp.shape[0]),
        "grads_finite": grads,
    }


def param_bytes(model) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


# --- results --------------------------------------------------------------------------------------

GIB = 2**30


def record(out_dir: str | os.PathLike, entry: dict[str, Any]) -> None:
    """Merge ``entry`` (keys ``part``, ``family``, ``data_source``) into ``out_dir/gpu_smoke.json``."""
    path = Path(out_dir) / RESULTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {"entries": []}
    key = (entry["part"], entry["family"], entry.get("data_source"))
    data["entries"] = [e for e in data["entries"] if (e["part"], e["family"], e.get("data_source")) != key]
    data["entries"].append(entry)
    data["entries"].sort(key=lambda e: (e["family"], e["part"], e.get("data_source") or ""))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def device_info() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"torch": torch.__version__}
    for module in ("transformers", "vllm", "verl", "flash_attn"):
        try:
            info[module] = __import__(module).__version__
        except Exception:
            info[module] = None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / GIB, 1))
    return info


def markdown_table(results: dict[str, Any]) -> str:
    """The README hardware-table rows: one per family x task (vLLM and actor parts side by side)."""
    from recipes.videossr.real_size import REAL_SIZES

    entries = results.get("entries", [])
    by_key: dict[tuple[str, str], dict[str, dict]] = {}
    engines: dict[str, dict] = {}
    info: dict[str, Any] = {}
    for e in entries:
        if e["part"] == "vllm_engine":
            engines[e["family"]] = e
            continue
        if e["part"] == "device":
            info = e
            continue
        by_key.setdefault((e["family"], e["data_source"]), {})[e["part"]] = e
    labels = dict(TASKS)
    lines = [
        "| model (random bf16 weights) | sample (48 frames, 256*256) | prompt + response tokens "
        "| vLLM: ids / positions = actor | vLLM peak GiB = weights + KV pool + activations | vLLM prefill s "
        "| vLLM decode ms/token | vLLM s per 2,048-token sample (est.) | actor peak GiB (fwd+bwd, grad ckpt) "
        "| actor fwd+bwd s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {s: i for i, (s, _) in enumerate(TASKS)}
    for family, source in sorted(by_key, key=lambda k: (FAMILIES.index(k[0]) if k[0] in FAMILIES else 9,
                                                          order.get(k[1], 99))):
        parts = by_key[(family, source)]
        v, a = parts.get("vllm", {}), parts.get("actor", {})
        engine = engines.get(family, {})
        prompt = v.get("prompt_tokens") or a.get("prompt_tokens")
        response = a.get("response_tokens", RESPONSE_TOKENS)
        tokens = f"{prompt:,} + {response:,}" if prompt else "-"
        if v:
            agree = ("yes" if v.get("ids_equal") else "**NO** (ids)") + " / " + (
                "yes" if v.get("positions_equal") else "**NO**")
            weights = engine.get("weights_gib", float("nan"))
            resident = v.get("resident_gib", engine.get("resident_gib", float("nan")))
            peak = f"{v['peak_gib']:.1f} = {weights:.1f} + {resident - weights:.1f} + {v['activation_gib']:.1f}"
            vllm_cells = [agree, peak, f"{v['prefill_s']:.2f}", f"{v['decode_ms_per_token']:.1f}",
                          f"{v['est_s_per_2048']:.1f}"]
        else:
            vllm_cells = ["-"] * 5
        actor_cells = [f"{a['peak_gib']:.1f}", f"{a['seconds']:.2f}"] if a else ["-", "-"]
        name = REAL_SIZES.get(family, {}).get("name", family)
        cells = [name, labels.get(source, source), tokens, *vllm_cells, *actor_cells]
        lines.append("| " + " | ".join(cells) + " |")
    notes = []
    for family in FAMILIES:
        e = engines.get(family)
        if e:
            notes.append(f"{REAL_SIZES[family]['name']}: vLLM {e.get('vllm')} start-up {e['startup_s']:.0f} s, "
                         f"gpu_memory_utilization {e['gpu_memory_utilization']} "
                         f"(KV cache {e['kv_cache_gib']:.1f} GiB, "
                         f"{e.get('kv_cache_tokens') or '?'} tokens), enforce_eager={e['enforce_eager']}")
    if info:
        notes.append(f"{info.get('gpu')} ({info.get('gpu_memory_gib')} GiB), torch {info.get('torch')}, "
                     f"transformers {info.get('transformers')}, vllm {info.get('vllm')}, verl {info.get('verl')}, "
                     f"flash-attn {info.get('flash_attn')}")
    return "\n".join(lines + [""] + [f"- {n}" for n in notes])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2 or argv[0] not in ("prepare", "table"):
        print(__doc__.split("Command line")[1], file=sys.stderr)
        return 2
    command, folder = argv
    if command == "prepare":
        inputs = prepare(folder)
        print(json.dumps(inputs.as_dict(), indent=2))
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
