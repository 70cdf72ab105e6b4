"""The GPU side of the prepared GPU check (issue 23): what runs on a GPU machine WITHOUT vLLM, verl,
Ray or flash-attn, from a bundle built on a CPU machine (``python tests/gpu/smoke_lib.py bundle OUT``).

Needs only torch, transformers (with the torchvision its Qwen-VL video processors use), numpy and
Pillow; never imports verl, ray, vllm, flash_attn, qwen_vl_utils or this repository's packages
(``tests/gpu/test_gpu_bundle_on_cpu.py`` runs it with those made unimportable). The bundle holds,
per family (Qwen3-VL-8B, Qwen2.5-VL-7B architectures) and task (grounding, counting: 1 clip;
jigsaw: 6 and 8 clips; 48 frames at 256*256; 2,048 response tokens):

* the exact actor inputs verl 0.9.1's agent-loop worker of the recipe config built on the CPU
  machine: input ids (prompt + response), the 4-row position ids (text row + M-RoPE t/h/w), the
  prompt length and the response mask (``samples/<family>/<task>.json``);
* the clips as the JPEG frame files (``frames/<sha256>.jpg``, content-addressed) with, per clip,
  the size the rollout's decoder resized them to and the video metadata verl handed the processor;
  the pixel values are recomputed here by the real transformers video processor of the model
  folder, and checked against the CPU machine's grid (``video_grid_thw``, exactly) and pixel-value
  fingerprint (shape, sha256, sums, 256 probes; equal bytes, or within ``PIXEL_TOLERANCE``);
* the model folders (``models/<family>``): the published ``config.json`` (real size), the
  tokenizer/processor files, and ``tiny_config.json`` (the repository's tiny model of the same
  family, for the CPU dry run). No weights: the model is built from ``config.json`` with random
  bf16 weights.

``run`` builds the model on the device (random bf16 weights, sdpa attention since flash-attn is
absent, gradient checkpointing as verl's FSDP engine enables it), runs one forward + backward of
the actor's objective (mean log-prob of the response tokens) per sample, after one warm-up step,
and records peak GPU memory and time per sample in ``OUT/gpu_smoke.json``; ``table`` prints them
as the README's hardware-table rows. What differs from the full check (``tests/gpu/smoke.sh`` on a
GPU node with ``pip install -e '.[gpu]'``): no vLLM part (printed as ``VLLM_SKIPPED``), sdpa instead
of flash-attention, transformers' own forward instead of verl's monkey-patched one (no
remove-padding: one unpadded sequence either way), and the log-prob in float32 over the response
positions instead of flash-attn's fused cross-entropy.

Command line (``smoke.sh --bundle`` calls these; every line meant for the log starts ``[gpu smoke]``)::

    python gpu_side.py probe [--dry-run]                         # device line + the vLLM line
    python gpu_side.py verify BUNDLE [--family F]                # recompute + check video inputs only (CPU)
    python gpu_side.py run BUNDLE --out OUT [--family F] [--dry-run]
    python gpu_side.py check OUT --families "qwen3_vl qwen2_5_vl" # every sample measured and verified?
    python gpu_side.py table OUT                                 # README hardware-table rows

``--dry-run``: the same code on the CPU with each family's tiny config, in float32
(``DRY_RUN_DTYPE``), without the warm-up step, on one torch thread unless ``OMP_NUM_THREADS`` is set:
about 30 s for the 8 samples on 2 cores. Peak memory is not measured there (no CUDA).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

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
MANIFEST = "manifest.json"
BUNDLE_FORMAT = 1
GIB = 2**30
PROBES = 256  # pixel values sampled into the fingerprint
# The CPU dry run computes in float32: CPU kernels for bf16 are slow (the vision patch embedding's
# Conv3d backward alone takes ~30 s per sample in bf16 on a 2-core machine).
DRY_RUN_DTYPE = "float32"
PIXEL_TOLERANCE = 1e-4  # max |difference| of a probe / relative difference of the sums, when bytes differ
# Never imported here (the GPU machine has none of them); the CPU test blocks exactly these.
NOT_ON_THE_GPU_MACHINE = ("verl", "ray", "vllm", "flash_attn", "qwen_vl_utils", "recipes", "data_prep", "rewards")
VLLM_SKIPPED = ("vLLM part SKIPPED: vllm not importable on this machine (the full check runs on a GPU node "
                "with `pip install -e '.[gpu]'`)")


def say(message: str) -> None:
    print(f"[gpu smoke] {message}", flush=True)


# --- results (shared with smoke_lib.py, which re-exports them) -------------------------------------


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
    """torch/transformers versions, the GPU, and which of vLLM/verl/flash-attn import here."""
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


def _gib(value: Any) -> str:
    return "n/a (CPU)" if value is None else f"{value:.1f}"


def markdown_table(results: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """The README hardware-table rows: one per family x task (vLLM and actor parts side by side).

    ``names``: family -> model name; else each entry's ``model``, else the family."""
    entries = results.get("entries", [])
    by_key: dict[tuple[str, str], dict[str, dict]] = {}
    engines: dict[str, dict] = {}
    info: dict[str, Any] = {}
    runs: list[dict] = []
    for e in entries:
        if e["part"] == "vllm_engine":
            engines[e["family"]] = e
        elif e["part"] == "device":
            info = e
        elif e["part"] == "bundle_run":
            runs.append(e)
        elif e.get("data_source"):
            by_key.setdefault((e["family"], e["data_source"]), {})[e["part"]] = e
    labels = dict(TASKS)

    def name_of(family: str, parts: dict[str, dict] | None = None) -> str:
        if names and family in names:
            return names[family]
        for part in (parts or {}).values():
            if part.get("model"):
                return part["model"]
        return family

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
        elif runs:
            vllm_cells = ["skipped (no vLLM)"] + ["-"] * 4
        else:
            vllm_cells = ["-"] * 5
        actor_cells = [_gib(a.get("peak_gib")), f"{a['seconds']:.2f}"] if a else ["-", "-"]
        cells = [name_of(family, parts), labels.get(source, source), tokens, *vllm_cells, *actor_cells]
        lines.append("| " + " | ".join(cells) + " |")
    notes = []
    for family in FAMILIES:
        e = engines.get(family)
        if e:
            notes.append(f"{name_of(family)}: vLLM {e.get('vllm')} start-up {e['startup_s']:.0f} s, "
                         f"gpu_memory_utilization {e['gpu_memory_utilization']} "
                         f"(KV cache {e['kv_cache_gib']:.1f} GiB, "
                         f"{e.get('kv_cache_tokens') or '?'} tokens), enforce_eager={e['enforce_eager']}")
    for run in runs:
        notes.append(f"bundle run ({run.get('mode')}): actor only, {run.get('attn_implementation')} attention, "
                     f"transformers' own forward (no verl patch), float32 log-prob over the response; "
                     f"video inputs recomputed from the JPEG frames: {run.get('inputs')}; {run.get('vllm')}")
    if info:
        where = info.get("gpu") or "CPU (dry run)"
        memory = f" ({info.get('gpu_memory_gib')} GiB)" if info.get("gpu") else ""
        notes.append(f"{where}{memory}, torch {info.get('torch')}, "
                     f"transformers {info.get('transformers')}, vllm {info.get('vllm')}, verl {info.get('verl')}, "
                     f"flash-attn {info.get('flash_attn')}")
    return "\n".join(lines + [""] + [f"- {n}" for n in notes])


# --- the bundle's inputs ---------------------------------------------------------------------------


def read_manifest(bundle: str | os.PathLike) -> dict[str, Any]:
    path = Path(bundle) / MANIFEST
    manifest = json.loads(path.read_text())
    if manifest.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"{path}: bundle format {manifest.get('format')!r}, this runner reads {BUNDLE_FORMAT}")
    return manifest


def load_clip(bundle: str | os.PathLike, clip: dict[str, Any]):
    """One clip as the rollout's decoder hands it to the processor: each JPEG frame decoded to RGB and
    resized (bicubic) to ``clip["size"]`` = (height, width), the last frame repeated ``pad_frames``
    times, stacked to a float32 ``(T, 3, H, W)`` tensor of integer values."""
    import numpy as np
    import torch
    from PIL import Image

    height, width = (int(v) for v in clip["size"])
    frames = []
    for rel in clip["frames"]:
        with Image.open(Path(bundle) / rel) as image:
            rgb = image.convert("RGB")
            rgb = rgb.resize((width, height), resample=Image.Resampling.BICUBIC)
            frames.append(torch.from_numpy(np.asarray(rgb).transpose(2, 0, 1).copy()))
    frames += [frames[-1]] * int(clip.get("pad_frames", 0))
    return torch.stack(frames).float()


def load_processor(folder: str | os.PathLike):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(str(folder))


def video_inputs(processor, bundle: str | os.PathLike, sample: dict[str, Any]) -> dict[str, Any]:
    """``pixel_values_videos`` and ``video_grid_thw`` of a sample's clips, by the model folder's own
    video processor, called as verl's post-processing calls the processor (``video_metadata``,
    ``do_sample_frames=False``); plus the sample's small non-pixel inputs as shipped."""
    import torch

    clips = [load_clip(bundle, clip) for clip in sample["clips"]]
    metadata = [dict(clip["metadata"]) for clip in sample["clips"]]
    out = processor.video_processor(videos=clips, video_metadata=metadata, do_sample_frames=False,
                                    return_tensors="pt", **sample.get("video_kwargs", {}))
    inputs = {"pixel_values_videos": out["pixel_values_videos"], "video_grid_thw": out["video_grid_thw"]}
    for key, spec in sample.get("extra_inputs", {}).items():
        inputs[key] = torch.tensor(spec["values"], dtype=getattr(torch, spec["dtype"]))
    return inputs


def fingerprint(tensor) -> dict[str, Any]:
    """Shape, sha256 of the float32 bytes, float64 sums and ``PROBES`` evenly spaced values."""
    import torch

    t = tensor.detach().to("cpu", torch.float32).contiguous()
    flat = t.reshape(-1)
    n = int(flat.numel())
    index = [i * (n - 1) // (PROBES - 1) for i in range(PROBES)] if n else []
    return {"shape": list(t.shape), "dtype": "float32",
            "sha256": hashlib.sha256(t.numpy().tobytes()).hexdigest(),
            "sum": float(flat.double().sum()), "abs_sum": float(flat.double().abs().sum()),
            "probes": [float(flat[i]) for i in index]}


def compare_fingerprints(expected: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """``ok`` when shapes match and the bytes are equal, or every probe and both sums agree within
    ``PIXEL_TOLERANCE`` (another transformers/torch version may round differently)."""
    same_shape = expected["shape"] == got["shape"]
    identical = same_shape and expected["sha256"] == got["sha256"]
    probe = max((abs(a - b) for a, b in zip(expected["probes"], got["probes"])), default=0.0) if same_shape else None

    def rel(key: str) -> float:  # relative to the total magnitude (a sum of signed values may cancel)
        return abs(expected[key] - got[key]) / max(abs(expected["abs_sum"]), 1.0)

    sums = max(rel("sum"), rel("abs_sum")) if same_shape else None
    ok = bool(same_shape and (identical or (probe <= PIXEL_TOLERANCE and sums <= PIXEL_TOLERANCE)))
    return {"ok": ok, "identical": identical, "shape_equal": same_shape, "max_probe_diff": probe,
            "max_rel_sum_diff": sums}


def verify_sample(sample: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The recomputed video inputs against the CPU machine's: grid exactly, pixels by fingerprint."""
    grid = inputs["video_grid_thw"].tolist()
    pixels = compare_fingerprints(sample["expected"]["pixel_values_videos"], fingerprint(inputs["pixel_values_videos"]))
    grid_equal = grid == sample["expected"]["video_grid_thw"]
    return {"ok": bool(grid_equal and pixels["ok"]), "grid_equal": grid_equal, "grid": grid, **{
        f"pixels_{k}": v for k, v in pixels.items() if k != "ok"}, "pixels_ok": pixels["ok"]}


def load_ids(bundle: str | os.PathLike, sample: dict[str, Any]) -> dict[str, Any]:
    """input ids ``(L,)``, position ids ``(4, L)``, prompt length and response mask ``(L - prompt,)``."""
    import torch

    data = json.loads((Path(bundle) / sample["ids"]).read_text())
    ids = torch.tensor(data["input_ids"], dtype=torch.long)
    positions = torch.tensor(data["position_ids"], dtype=torch.long)
    mask = torch.tensor(data["response_mask"], dtype=torch.long)
    if positions.shape != (4, ids.shape[0]) or mask.shape[0] != ids.shape[0] - data["prompt_len"]:
        raise ValueError(f"{sample['ids']}: ids {tuple(ids.shape)}, positions {tuple(positions.shape)}, "
                         f"prompt {data['prompt_len']}, response mask {tuple(mask.shape)}")
    return {"input_ids": ids, "position_ids": positions, "prompt_len": int(data["prompt_len"]), "response_mask": mask}


# --- the actor ------------------------------------------------------------------------------------


def model_class(config_dict: dict[str, Any]):
    import transformers

    return getattr(transformers, config_dict["architectures"][0])


def build_model(config_file: str | os.PathLike, device: str, attn: str = "sdpa", dtype: str = "bfloat16"):
    """The architecture of ``config_file`` with random weights (bf16) on ``device``, gradient
    checkpointing on (non-reentrant, as verl's FSDP engine enables it), training mode."""
    import torch

    config_dict = json.loads(Path(config_file).read_text())
    cls = model_class(config_dict)
    config = cls.config_class.from_json_file(str(config_file))
    torch_dtype = getattr(torch, dtype)
    with torch.device(device):
        try:
            model = cls._from_config(config, dtype=torch_dtype, attn_implementation=attn)
        except AttributeError:  # a transformers without the private constructor
            from transformers import AutoModelForImageTextToText

            model = AutoModelForImageTextToText.from_config(config, dtype=torch_dtype, attn_implementation=attn)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False
    model.train()
    return model


def actor_step(model, ids: dict[str, Any], video: dict[str, Any], device: str) -> dict[str, Any]:
    """One forward + backward of the actor's objective: minus the mean log-prob of the response tokens
    (under the response mask), with the inputs as verl's remove-padding path lays them out: ``(1, L)``
    ids, ``(4, 1, L)`` positions, no attention mask, the pixel values in the model dtype."""
    import torch

    dtype = next(model.parameters()).dtype
    inputs = {"input_ids": ids["input_ids"].unsqueeze(0).to(device), "attention_mask": None,
              "position_ids": ids["position_ids"].unsqueeze(1).to(device)}
    for key, value in video.items():
        value = value.to(device)
        inputs[key] = value.to(dtype) if key.startswith("pixel_values") else value
    plen = ids["prompt_len"]
    mask = ids["response_mask"].to(device)

    def objective(logits):  # (L, V) -> loss, response tokens
        # log p(token t | tokens < t) for the response tokens t = plen .. L-1
        logp = torch.log_softmax(logits[plen - 1: -1].float(), dim=-1)
        token_logp = logp.gather(-1, inputs["input_ids"][0, plen:].unsqueeze(-1)).squeeze(-1)
        return -(token_logp * mask).sum() / mask.sum().clamp(min=1), int(token_logp.shape[0])

    return timed_backward(model, inputs, objective, device)


def timed_backward(model, inputs: dict[str, Any], objective, device: str) -> dict[str, Any]:
    """Forward ``inputs``, ``objective(logits[0]) -> (loss, tokens)``, backward: loss, seconds, (CUDA)
    peak memory, and whether the vision and text gradients are finite (shared with smoke_lib)."""
    import torch

    cuda = device.startswith("cuda")
    model.zero_grad(set_to_none=True)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    loss, tokens = objective(model(**inputs, use_cache=False).logits[0])
    loss.backward()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    grads = {"vision": None, "text": None}
    for name, param in model.named_parameters():
        part = "vision" if "visual" in name else "text"
        if grads[part] is None and param.grad is not None:
            grads[part] = bool(torch.isfinite(param.grad).all())
    return {"loss": float(loss.detach()), "seconds": seconds,
            "peak_bytes": torch.cuda.max_memory_allocated() if cuda else None,
            "response_tokens": tokens, "grads_finite": grads}


def param_bytes(model) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def vllm_status() -> tuple[bool, str]:
    try:
        import vllm
    except Exception:
        return False, VLLM_SKIPPED
    return True, (f"vLLM {getattr(vllm, '__version__', '?')} is importable here, but the bundle carries only "
                  "the actor part: run tests/gpu/smoke.sh from the repository for the vLLM part")


def run_family(bundle: Path, manifest: dict[str, Any], family: str, out_dir: Path, dry_run: bool) -> list[str]:
    """Recompute and check every sample's video inputs, then measure the actor on each; returns the
    failures (the rows are recorded whatever they are)."""
    import math

    import torch

    device = "cpu" if dry_run else "cuda"
    spec = manifest["families"][family]
    folder = bundle / spec["folder"]
    samples = [s for s in manifest["samples"] if s["family"] == family]
    failures: list[str] = []

    start = time.perf_counter()
    video: dict[str, dict] = {}
    checks: dict[str, dict] = {}
    try:
        processor = load_processor(folder)
        for sample in samples:
            video[sample["data_source"]] = video_inputs(processor, bundle, sample)
            checks[sample["data_source"]] = check = verify_sample(sample, video[sample["data_source"]])
            state = ("identical" if check["pixels_identical"] else
                     f"within {PIXEL_TOLERANCE:g} (max probe diff {check['pixels_max_probe_diff']:.2e})"
                     if check["pixels_ok"] else "DIFFER")
            say(f"{family} {sample['data_source']}: video_grid_thw {'equal' if check['grid_equal'] else 'DIFFER'} "
                f"({check['grid']}), pixel values {state} "
                f"{tuple(video[sample['data_source']]['pixel_values_videos'].shape)}")
            if not check["ok"]:
                failures.append(f"{family} {sample['data_source']}: recomputed video inputs differ from the CPU "
                                f"machine's: {check}")
    except Exception as err:  # no processor here (e.g. no torchvision): shapes only, loudly
        say(f"FAILED: {family}: could not recompute the video inputs ({err!r}); measuring with random pixel "
            "values of the CPU machine's shape (memory and time are unaffected, the inputs are NOT verified)")
        failures.append(f"{family}: video inputs not recomputed: {err!r}")
        gen = torch.Generator().manual_seed(0)
        for sample in samples:
            expected = sample["expected"]
            video[sample["data_source"]] = {
                "pixel_values_videos": torch.randn(expected["pixel_values_videos"]["shape"], generator=gen),
                "video_grid_thw": torch.tensor(expected["video_grid_thw"], dtype=torch.long),
                **{k: torch.tensor(v["values"], dtype=getattr(torch, v["dtype"]))
                   for k, v in sample.get("extra_inputs", {}).items()}}
            checks[sample["data_source"]] = {"ok": False, "error": repr(err)}
    inputs_s = time.perf_counter() - start

    config_file = folder / (spec["tiny_config"] if dry_run else "config.json")
    start = time.perf_counter()
    model = build_model(config_file, device, dtype=DRY_RUN_DTYPE if dry_run else "bfloat16")
    build_s = time.perf_counter() - start
    weights = param_bytes(model)
    attn = model.config._attn_implementation
    name = f"tiny {family} (dry run)" if dry_run else spec["name"]
    vocab = int(model.config.get_text_config().vocab_size)
    say(f"{family}: {name}, {weights / GIB:.2f} GiB of {next(model.parameters()).dtype} weights built in "
        f"{build_s:.1f} s on {device} ({attn}); "
        f"video inputs {inputs_s:.1f} s")
    total = torch.cuda.get_device_properties(0).total_memory if device == "cuda" else None
    ids = {s["data_source"]: load_ids(bundle, s) for s in samples}
    if not dry_run:  # warm-up (kernels, allocator): the timed steps measure steady state
        actor_step(model, ids[samples[0]["data_source"]], video[samples[0]["data_source"]], device)
    for sample in samples:
        source = sample["data_source"]
        result = actor_step(model, ids[source], video[source], device)
        entry = {
            "part": "actor", "family": family, "data_source": source, "model": name,
            "prompt_tokens": ids[source]["prompt_len"], "response_tokens": result["response_tokens"],
            "seconds": result["seconds"],
            "peak_gib": None if result["peak_bytes"] is None else result["peak_bytes"] / GIB,
            "weights_gib": weights / GIB, "loss": result["loss"], "grads_finite": result["grads_finite"],
            "attn_implementation": attn, "verl_remove_padding_patch": False, "source": "bundle",
            "dry_run": dry_run, "gradient_checkpointing": bool(getattr(model, "is_gradient_checkpointing", False)),
            "model_build_s": build_s, "inputs_check": checks[source], "vocab_size": vocab,
        }
        record(out_dir, entry)
        say(f"{family} {source}: {entry['prompt_tokens']} + {entry['response_tokens']} tokens, forward+backward "
            f"{result['seconds']:.2f} s, peak {_gib(entry['peak_gib'])} GiB, loss {result['loss']:.3f} "
            f"(ln V = {math.log(vocab):.3f})")
        if not math.isfinite(result["loss"]):
            failures.append(f"{family} {source}: loss {result['loss']}")
        if result["grads_finite"] != {"vision": True, "text": True}:
            failures.append(f"{family} {source}: gradients {result['grads_finite']}")
        if total is not None and result["peak_bytes"] >= total:
            failures.append(f"{family} {source}: peak {result['peak_bytes']} >= device memory {total}")
    del model
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    return failures


# --- command line ---------------------------------------------------------------------------------


def _probe(dry_run: bool) -> int:
    """One ``OK ...`` / ``SKIP ...`` device line, then the vLLM line."""
    try:
        import torch
        import transformers
    except Exception as err:
        print(f"FAIL torch/transformers not importable: {err!r}")
        return 1
    if dry_run:
        print(f"OK CPU dry run (tiny configs), torch {torch.__version__}, transformers {transformers.__version__}")
    elif not torch.cuda.is_available():
        print(f"SKIP no CUDA GPU visible to torch {torch.__version__} (--dry-run runs the same code on the CPU)")
    else:
        props = torch.cuda.get_device_properties(0)
        print(f"OK {props.name}, {props.total_memory / GIB:.0f} GiB, torch {torch.__version__}, "
              f"transformers {transformers.__version__}")
    say(vllm_status()[1])
    return 0


def _check(out_dir: Path, families: list[str]) -> int:
    """Every family has a measured, verified row per task."""
    path = out_dir / RESULTS_FILE
    if not path.exists():
        say(f"FAILED: no results at {path}")
        return 1
    entries = json.loads(path.read_text())["entries"]
    missing = [f"{family} {source}" for family in families for source, _ in TASKS
               if not any(e["part"] == "actor" and e["family"] == family and e["data_source"] == source
                          for e in entries)]
    unverified = [f"{e['family']} {e['data_source']}" for e in entries
                  if e["part"] == "actor" and e.get("source") == "bundle" and e["family"] in families
                  and not (e.get("inputs_check") or {}).get("ok")]
    if missing:
        say(f"FAILED: no actor result for {missing}")
    if unverified:
        say(f"FAILED: video inputs not verified for {unverified}")
    return 1 if missing or unverified else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gpu_side.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    probe = sub.add_parser("probe")
    probe.add_argument("--dry-run", action="store_true")
    for name in ("verify", "run"):
        p = sub.add_parser(name)
        p.add_argument("bundle")
        p.add_argument("--family", action="append", choices=FAMILIES)
        if name == "run":
            p.add_argument("--out", required=True)
            p.add_argument("--dry-run", action="store_true")
    check = sub.add_parser("check")
    check.add_argument("out")
    check.add_argument("--families", default=" ".join(FAMILIES))
    table = sub.add_parser("table")
    table.add_argument("out")
    args = parser.parse_args(argv)

    if args.command == "probe":
        return _probe(args.dry_run)
    if args.command == "check":
        return _check(Path(args.out), args.families.split())
    if args.command == "table":
        path = Path(args.out) / RESULTS_FILE
        if not path.exists():
            print(f"no results at {path}", file=sys.stderr)
            return 1
        print(markdown_table(json.loads(path.read_text())))
        return 0

    bundle = Path(args.bundle).resolve()
    manifest = read_manifest(bundle)
    families = args.family or [f for f in FAMILIES if f in manifest["families"]]
    if args.command == "verify":
        bad = 0
        for family in families:
            processor = load_processor(bundle / manifest["families"][family]["folder"])
            for sample in (s for s in manifest["samples"] if s["family"] == family):
                check = verify_sample(sample, video_inputs(processor, bundle, sample))
                say(f"{family} {sample['data_source']}: {'ok' if check['ok'] else 'DIFFER'} {check}")
                bad += not check["ok"]
        return 1 if bad else 0

    out_dir = Path(args.out).resolve()
    dry_run = bool(args.dry_run)
    import torch

    if dry_run and not os.environ.get("OMP_NUM_THREADS"):
        # One thread: on a small, busy CPU machine torch's thread pool oversubscribes the cores and a
        # tiny step takes 5-10x longer; the dry run checks code paths, not speed.
        torch.set_num_threads(1)
    if not dry_run:
        if not torch.cuda.is_available():
            say("FAILED: no CUDA GPU (use --dry-run for the CPU dry run)")
            return 1
    available, line = vllm_status()
    record(out_dir, {"part": "bundle_run", "family": "-", "data_source": None,
                     "mode": f"CPU dry run, tiny configs, {DRY_RUN_DTYPE}" if dry_run else "GPU, real-size configs, bf16",
                     "attn_implementation": "sdpa", "vllm": "vLLM part skipped" if not available else line,
                     "inputs": "checked against the CPU machine's grids and pixel fingerprints",
                     "bundle_sha256": manifest.get("content_sha256")})
    failures: list[str] = []
    for family in families:
        failures += run_family(bundle, manifest, family, out_dir, dry_run)
    record(out_dir, {"part": "device", "family": "-", "data_source": None, **device_info()})
    for failure in failures:
        say(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
