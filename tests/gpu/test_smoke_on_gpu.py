"""The prepared GPU check (issue 13): real-size Qwen3-VL-8B / Qwen2.5-VL-7B, random bf16 weights, one
sample of each task at the paper's settings (48 frames at 256*256, 2,048 response tokens), on ONE
CUDA GPU, offline. Run it with ``bash tests/gpu/smoke.sh`` (each part in its own process, the table
at the end); skipped where CUDA or vLLM is missing.

* ``test_vllm_generate_matches_trainer[family]``: the trainer side of every sample (verl 0.9.1's
  agent-loop worker of the recipe config, ``TrainerHarness``) records the exact request verl sends;
  ``vllm.LLM(load_format="dummy", ...)`` built with the engine arguments verl would pass
  generates from that request; the ``RequestOutput.prompt_token_ids`` must equal the prompt ids the
  actor scores, and vLLM's M-RoPE positions for them (``agreement.vllm_side``, vLLM's own model
  class code) the actor's positions. Records peak memory and time per sample.
* ``test_actor_forward_backward[family]``: the real-size transformers model with verl's monkey
  patch, flash-attention when installed, gradient checkpointing, one forward + backward per sample
  on the batch verl builds for the actor (prompt + 2,048-token response, the trainer's 4-row
  positions and multimodal inputs). Records peak memory and time per sample.

Results: ``$GPU_SMOKE_OUT/gpu_smoke.json`` (default ``outputs/gpu_smoke``); ``python
tests/gpu/smoke_lib.py table $GPU_SMOKE_OUT`` prints the README hardware-table rows.
"""

from __future__ import annotations

import copy
import gc
import os
import time

import numpy as np
import pytest
import torch


def _skip_reason() -> str | None:
    if not torch.cuda.is_available():
        return "needs a CUDA GPU (the GPU smoke check; run tests/gpu/smoke.sh on a GPU machine)"
    try:
        import vllm  # noqa: F401
    except Exception as err:  # not installed, or a CPU/mismatched build
        return f"needs vLLM 0.24 (pip install -e '.[gpu]'): import vllm failed: {err!r}"
    return None


SKIP_REASON = _skip_reason()
pytestmark = [pytest.mark.gpu, pytest.mark.slow,
              pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")]

FAMILIES = ("qwen3_vl", "qwen2_5_vl")
GIB = 2**30
DECODE_TOKENS = int(os.environ.get("GPU_SMOKE_DECODE_TOKENS", "128"))
ENFORCE_EAGER = os.environ.get("GPU_SMOKE_EAGER", "1") != "0"
GPU_MEMORY_UTILIZATION = float(os.environ["GPU_SMOKE_GPU_MEMORY_UTILIZATION"]) if os.environ.get(
    "GPU_SMOKE_GPU_MEMORY_UTILIZATION") else None


def _generate(llm, prompt, params):
    """One timed ``LLM.generate`` from a fresh copy of ``prompt``, prefix and encoder caches reset
    first (every timed call processes the video and the prompt from scratch)."""
    llm.reset_prefix_cache()
    if hasattr(llm.llm_engine, "reset_encoder_cache"):
        llm.llm_engine.reset_encoder_cache()
    torch.cuda.synchronize()
    start = time.perf_counter()
    (output,) = llm.generate([copy.deepcopy(prompt)], params, use_tqdm=False)
    torch.cuda.synchronize()
    return output, time.perf_counter() - start


@pytest.mark.parametrize("family", FAMILIES)
def test_vllm_generate_matches_trainer(family, smoke_lib, smoke_inputs, smoke_out, monkeypatch):
    from recipes.videossr.agreement.vllm_side import process_request

    # In-process engine: its allocations are this process's torch.cuda memory (peak per sample).
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    model_dir = smoke_inputs.real_size[family]
    h = smoke_lib.harness(model_dir, smoke_inputs.parquet)
    kwargs = smoke_lib.vllm_engine_kwargs(h, enforce_eager=ENFORCE_EAGER,
                                          gpu_memory_utilization=GPU_MEMORY_UTILIZATION)
    limit_video = int((kwargs.get("limit_mm_per_prompt") or {}).get("video", 8))

    # CPU side first (no GPU memory): the trainer's ids/positions and vLLM's processed positions.
    trainer, expected = {}, {}
    for source, index in smoke_inputs.rows.items():
        trainer[source] = h.run_row(index, validate=False)  # training sampling params
        expected[source] = process_request(model_dir, trainer[source].request["prompt"],
                                           max_model_len=kwargs["max_model_len"], limit_video=limit_video,
                                           mm_processor_cache_gb=float(kwargs.get("mm_processor_cache_gb") or 0),
                                           dtype=kwargs["dtype"])

    from vllm import LLM

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    llm = LLM(**kwargs)
    startup = time.perf_counter() - start
    failures: list[str] = []
    try:
        try:
            weights = sum(llm.apply_model(smoke_lib.param_bytes))
        except Exception as err:  # informative only
            print(f"[gpu smoke] apply_model: {err!r}")
            weights = None
        resident = torch.cuda.memory_allocated()
        cache = llm.llm_engine.vllm_config.cache_config
        kv_tokens = int(cache.num_gpu_blocks * cache.block_size) if cache.num_gpu_blocks else None
        kv_gib = (kv_tokens * smoke_lib.kv_bytes_per_token(model_dir) / GIB) if kv_tokens else (
            (resident - (weights or 0)) / GIB)
        smoke_lib.record(smoke_out, {
            "part": "vllm_engine", "family": family, "data_source": None, "startup_s": startup,
            "weights_gib": (weights or 0) / GIB, "resident_gib": resident / GIB, "kv_cache_gib": kv_gib,
            "kv_cache_tokens": kv_tokens, "gpu_memory_utilization": kwargs["gpu_memory_utilization"],
            "enforce_eager": kwargs["enforce_eager"], "engine_kwargs": {k: v for k, v in kwargs.items()},
            "vllm": __import__("vllm").__version__,
        })
        first = next(iter(trainer.values()))
        warm_up = smoke_lib.sampling_params(first.request["sampling_params"], 2)
        _generate(llm, first.request["prompt"], warm_up)

        for source, side in trainer.items():
            prompt = side.request["prompt"]
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            one, prefill = _generate(llm, prompt, smoke_lib.sampling_params(side.request["sampling_params"], 1))
            full, seconds = _generate(llm, prompt, smoke_lib.sampling_params(side.request["sampling_params"],
                                                                             DECODE_TOKENS))
            peak = torch.cuda.max_memory_allocated()
            generated = len(full.outputs[0].token_ids)
            decode = (seconds - prefill) / max(generated - 1, 1)
            gpu_ids = [int(t) for t in full.prompt_token_ids]
            ids_equal = gpu_ids == side.prompt_ids
            cpu_equal = gpu_ids == expected[source].prompt_ids
            positions_equal = bool(ids_equal and np.array_equal(np.asarray(expected[source].position_ids),
                                                                np.asarray(side.position_ids)))
            entry = {
                "part": "vllm", "family": family, "data_source": source, "clips": side.num_videos,
                "prompt_tokens": len(side.prompt_ids), "vllm_prompt_tokens": len(gpu_ids),
                "sent_tokens": len(prompt["prompt_token_ids"]), "ids_equal": ids_equal,
                "gpu_ids_equal_cpu_processor": cpu_equal, "positions_equal": positions_equal,
                "prefill_s": prefill, "generate_s": seconds, "generated_tokens": generated,
                "decode_ms_per_token": 1000 * decode,
                "est_s_per_2048": prefill + (smoke_lib.RESPONSE_TOKENS - 1) * decode,
                "peak_gib": peak / GIB, "resident_gib": before / GIB, "activation_gib": (peak - before) / GIB,
                "worker_class": getattr(side, "worker_class", None),
            }
            smoke_lib.record(smoke_out, entry)
            print(f"[gpu smoke] {family} {source}: prompt {len(side.prompt_ids)} (vLLM {len(gpu_ids)}), ids "
                  f"{'equal' if ids_equal else 'DIFFER'}, positions {'equal' if positions_equal else 'DIFFER'}, "
                  f"prefill {prefill:.2f} s, decode {1000 * decode:.1f} ms/token, peak {peak / GIB:.1f} GiB")
            assert generated == DECODE_TOKENS and len(one.outputs[0].token_ids) == 1
            if not (ids_equal and cpu_equal and positions_equal):
                failures.append(f"{source}: trainer {len(side.prompt_ids)} ids, vLLM GPU {len(gpu_ids)} "
                                f"(ids equal {ids_equal}, equal to vLLM's CPU processor {cpu_equal}), "
                                f"positions equal {positions_equal}")
    finally:
        smoke_lib.release_vllm(llm)
        del llm
        gc.collect()
        torch.cuda.empty_cache()
    assert not failures, f"{family}: rollout and actor disagree:\n" + "\n".join(failures)


@pytest.mark.parametrize("family", FAMILIES)
def test_actor_forward_backward(family, smoke_lib, smoke_inputs, smoke_out):
    from recipes.videossr.real_size import REAL_SIZES, real_size_config, vision_token_ids

    model_dir = smoke_inputs.real_size[family]
    h = smoke_lib.harness(model_dir, smoke_inputs.parquet)
    response = smoke_lib.response_ids(h.worker.tokenizer)
    samples = {}
    for source, index in smoke_inputs.rows.items():
        samples[source] = smoke_lib.trainer_batch(h, index, response)
        side = h.run_row(index, validate=False)
        assert samples[source].input_ids[: samples[source].prompt_len].tolist() == side.prompt_ids, source

    leftover = torch.cuda.memory_allocated()
    if leftover > 2 * GIB:
        print(f"[gpu smoke] warning: {leftover / GIB:.1f} GiB still allocated before the actor (vLLM not freed?)")
    config = real_size_config(family, vision_token_ids(h.worker.tokenizer))
    start = time.perf_counter()
    model = smoke_lib.actor_model(family, config, "cuda")
    build = time.perf_counter() - start
    weights = smoke_lib.param_bytes(model)
    attn = model.config._attn_implementation
    use_remove_padding = attn == "flash_attention_2"  # verl's Qwen2.5-VL attention patch calls flash-attn
    total = torch.cuda.get_device_properties(0).total_memory
    with smoke_lib.verl_actor_patch(model, use_remove_padding=use_remove_padding):
        smoke_lib.actor_step(model, next(iter(samples.values())), "cuda")  # warm-up (kernels, allocator)
        for source, sample in samples.items():
            result = smoke_lib.actor_step(model, sample, "cuda")
            entry = {
                "part": "actor", "family": family, "data_source": source,
                "prompt_tokens": sample.prompt_len, "response_tokens": sample.response_len,
                "seconds": result["seconds"], "peak_gib": result["peak_bytes"] / GIB, "weights_gib": weights / GIB,
                "loss": result["loss"], "attn_implementation": attn,
                "verl_remove_padding_patch": use_remove_padding,
                "gradient_checkpointing": bool(getattr(model, "is_gradient_checkpointing", False)),
                "model_build_s": build,
                "model": REAL_SIZES[family]["name"],
            }
            smoke_lib.record(smoke_out, entry)
            print(f"[gpu smoke] {family} {source}: {sample.prompt_len} + {sample.response_len} tokens, "
                  f"forward+backward {result['seconds']:.2f} s, peak {entry['peak_gib']:.1f} GiB ({attn})")
            assert np.isfinite(result["loss"])
            assert result["grads_finite"] == {"vision": True, "text": True}, result["grads_finite"]
            assert result["peak_bytes"] < total
    smoke_lib.record(smoke_out, {"part": "device", "family": "-", "data_source": None, **smoke_lib.device_info()})
    del model
    gc.collect()
    torch.cuda.empty_cache()
