"""Benchmark vLLM 0.24's multimodal processor cache for GRPO's n identical requests per prompt (CPU).

verl sends each of a prompt's ``rollout.n`` sessions to vLLM as its own request carrying the same
clips. vLLM's front end (the renderer, process 0) runs the multimodal processor for every request
unless its processor cache already holds the clip's processed item, keyed by a content hash
(``mm_processor_cache_gb``, default 4 GiB; the recipe used to set 0). This times that front-end
work, per prompt, with vLLM's own objects built from a ``VllmConfig``:

* ``renderer_from_config(vllm_config)`` -> ``HfRenderer`` whose ``mm_processor`` carries the cache
  ``MULTIMODAL_REGISTRY.processor_cache_from_config`` returns (``lru`` -> the sender cache with one
  API process; none at 0 GiB), and ``Renderer._process_tokens(prompt)``, the call
  ``InputProcessor.process_inputs`` makes for a ``TokensPrompt``;
* the ``MultiModalFeatureSpec`` list the input processor builds, msgpack-encoded as for the engine
  core (``vllm.v1.serial_utils.MsgpackEncoder``; a cache hit sends no tensor data), and the engine
  core's receiver cache (``engine_receiver_cache_from_config`` -> ``get_and_update_features``).

The input is the real request: ``recipes.videossr.agreement``'s ``TrainerHarness`` runs a built
VIUBench row through verl 0.9.1's agent loop and ``vLLMHttpServer.generate`` and records the
``TokensPrompt`` vLLM would receive. Rows: one 1-clip prompt (counting) and the 8-clip jigsaw, for
the tiny Qwen2.5-VL and Qwen3-VL models (``recipes.videossr.tiny_models``; real processor classes).
Requests run one after another, as the renderer's single worker thread does
(``ModelConfig.renderer_num_workers`` = 1). Every timed prompt starts with empty caches (a new prompt
is a new video). With the cache the check also asserts that each hit returns the same prompt ids and
tensors as an uncached run.

    python bench/bench_mm_processor_cache.py [--work outputs/bench/mm_cache] [--n 8 16] [--repeats 3]
                                             [--json outputs/bench/mm_processor_cache.json]

Needs vLLM 0.24 next to verl 0.9.1 (``make vllm-venv``; ``make bench-vllm`` runs this there); in an
environment without vLLM it prints a skip line and exits 0.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROWS = {"1 clip": "videossr/counting/easy", "8 clips": "videossr/jigsaw/n8"}
FAMILIES = ("qwen2_5_vl", "qwen3_vl")
CACHE_SETTINGS = (0.0, 4.0)  # GiB: the recipe's old value, vLLM's default


def vllm_available() -> str | None:
    """None when vLLM imports, else the reason it does not."""
    try:
        import vllm  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install
        return f"{type(exc).__name__}: {exc}"
    return None


def prepare_data(work: Path) -> Path:
    """viubench.parquet (one row per subtype) from the embedded clips + 12 synthetic videos (demo spec)."""
    from data_prep.build import build_dataset
    from data_prep.embedded import embedded_videos
    from data_prep.frames import extract_frames
    from data_prep.synthetic import write_corpus

    parquet = work / "data" / "viubench.parquet"
    if not parquet.exists():
        write_corpus(work / "synthetic", 12, seed=0)
        sources = [str(p) for p in embedded_videos()] + [str(work / "synthetic")]
        extract_frames(sources, work / "frames", progress=False)
        build_dataset(work / "frames", work / "data", "viubench", per_subtype=1, progress=False)
    return parquet


def recorded_requests(work: Path, parquet: Path, kind: str) -> tuple[Path, dict[str, dict]]:
    """{row label: the TokensPrompt dict verl sends to vLLM} for ``kind``'s tiny model."""
    import pyarrow.parquet as pq

    from recipes.videossr.agreement.trainer_side import TrainerHarness
    from recipes.videossr.tiny_models import build_tiny_model

    model_dir = work / f"tiny-{kind}"
    if not (model_dir / "config.json").exists():
        build_tiny_model(kind, model_dir)
    sources = pq.read_table(parquet, columns=["data_source"]).column("data_source").to_pylist()
    harness = TrainerHarness(model_dir, parquet)
    return model_dir, {label: harness.run_row(sources.index(src)).request["prompt"] for label, src in ROWS.items()}


class FrontEnd:
    """vLLM's renderer (process 0) and engine-core receiver cache for one model and cache size."""

    def __init__(self, model_dir: Path, cache_gb: float, dtype: str = "bfloat16"):
        from vllm.config import CacheConfig, DeviceConfig, ModelConfig, VllmConfig
        from vllm.multimodal import MULTIMODAL_REGISTRY
        from vllm.renderers.registry import renderer_from_config
        from vllm.v1.serial_utils import MsgpackEncoder

        model_config = ModelConfig(
            model=str(model_dir), tokenizer=str(model_dir), max_model_len=32768, dtype=dtype,
            limit_mm_per_prompt={"image": 0, "video": 8}, mm_processor_cache_gb=cache_gb,
        )
        # verl's rollout default enable_prefix_caching: true (vllm_async_server.py passes it on); with
        # it, vLLM hashes every item's content even at 0 GiB (renderers/base.py _process_mm_uuids).
        self.vllm_config = VllmConfig(model_config=model_config, cache_config=CacheConfig(enable_prefix_caching=True),
                                      device_config=DeviceConfig(device="cpu"))
        self.cache_type = MULTIMODAL_REGISTRY._get_cache_type(self.vllm_config)
        self.renderer = renderer_from_config(self.vllm_config)
        self.receiver = MULTIMODAL_REGISTRY.engine_receiver_cache_from_config(self.vllm_config)
        self.encoder = MsgpackEncoder()

    def clear(self) -> None:
        if self.renderer.mm_processor.cache is not None:
            self.renderer.mm_processor.cache.clear_cache()
        if self.receiver is not None:
            self.receiver.clear_cache()

    def request(self, prompt: dict) -> tuple[float, dict]:
        """Seconds for one request's front-end multimodal work, and what it produced."""
        from recipes.videossr.agreement.vllm_side import _feature_specs

        start = time.perf_counter()
        mm_inputs = self.renderer._process_tokens(prompt)
        features = _feature_specs(mm_inputs)  # InputProcessor.process_inputs (input_processor.py:332-368)
        hits = sum(f.data is None for f in features)  # the sender cache sends no data for a hit
        frames = self.encoder.encode(features)  # what crosses to the engine core
        sent = sum(memoryview(f).nbytes for f in frames)
        if self.receiver is not None:
            features = self.receiver.get_and_update_features(features)
        seconds = time.perf_counter() - start
        return seconds, {"ids": list(mm_inputs["prompt_token_ids"]), "features": features, "sent_bytes": sent,
                         "hits": hits}


def same_output(a: dict, b: dict) -> bool:
    import torch

    if a["ids"] != b["ids"] or len(a["features"]) != len(b["features"]):
        return False
    for fa, fb in zip(a["features"], b["features"]):
        if fa.mm_position != fb.mm_position or set(fa.data) != set(fb.data):
            return False
        for key in fa.data:
            x, y = fa.data[key].data, fb.data[key].data
            if isinstance(x, torch.Tensor):
                if not (isinstance(y, torch.Tensor) and x.shape == y.shape and torch.equal(x, y)):
                    return False
            elif x != y:
                return False
    return True


def one_prompt(front: FrontEnd, prompt: dict, n: int, reference: dict | None) -> dict:
    """n requests of one prompt, caches empty at the start; each request gets its own copy."""
    front.clear()
    copies = [copy.deepcopy(prompt) for _ in range(n)]  # verl's n sessions each build their own tensors
    seconds, first, hits, sent = [], None, 0, 0
    for request in copies:
        s, out = front.request(request)
        seconds.append(s)
        hits += out["hits"]
        sent += out["sent_bytes"]
        if reference is not None and not same_output(out, reference):
            raise AssertionError("a cached request produced different prompt ids or tensors than an uncached one")
        first = first or out
    return {"seconds": sum(seconds), "first": seconds[0], "rest_mean": statistics.mean(seconds[1:]) if n > 1 else 0.0,
            "item_hits": hits, "sent_mb": sent / 2**20, "output": first}


def _frames(video):
    return video[0] if isinstance(video, tuple) else video


def cache_key_checks(fronts: dict[float, FrontEnd], prompt: dict) -> dict[str, bool]:
    """Does the cache key change with what changes the processed output? (no stale hits)

    The key is ``MultiModalHasher.hash_kwargs(model_id, video=<parsed item>, **mm_processor_kwargs)``
    (``vllm/multimodal/processing/inputs.py`` ``get_mm_hashes``; verl sends no ``multi_modal_uuids``).
    Each check edits one thing in a copy of the request and reports whether every affected item's key
    changed; ``..._no_stale_hit`` runs the edited request on a cache primed with the original and
    compares it with an uncached run.
    """
    from vllm.multimodal.processing import ProcessorInputs

    processor = fronts[4.0].renderer.mm_processor

    def keys(p: dict) -> list[str]:
        items = processor.info.parse_mm_data(p["multi_modal_data"])
        inputs = ProcessorInputs(p["prompt_token_ids"], items, None,
                                 hf_processor_mm_kwargs=p.get("mm_processor_kwargs") or {})
        return inputs.get_mm_hashes(processor.info.model_id)["video"]

    def no_stale_hit(edited: dict) -> bool:
        fronts[4.0].clear()
        fronts[4.0].request(copy.deepcopy(prompt))  # primes the cache with the original clips
        cached = fronts[4.0].request(copy.deepcopy(edited))[1]
        return same_output(cached, fronts[0.0].request(copy.deepcopy(edited))[1])

    base, checks = keys(prompt), {}
    edited = copy.deepcopy(prompt)
    frames = _frames(edited["multi_modal_data"]["video"][0])
    frames[(0,) * frames.dim()] += 1  # one value of the first clip's first frame
    checks["frames_content_changes_key"] = keys(edited)[0] != base[0]
    if isinstance(prompt["multi_modal_data"]["video"][0], tuple):
        edited = copy.deepcopy(prompt)
        edited["multi_modal_data"]["video"][0][1]["fps"] *= 2
        # Qwen3-VL parses (frames, metadata) items (video_needs_metadata=True); Qwen2.5-VL's parser keeps
        # the frames only, and its processor never sees this metadata either.
        checks["item_metadata_fps_changes_key"] = keys(edited)[0] != base[0]
        checks["item_metadata_fps_no_stale_hit"] = no_stale_hit(edited)
    if (prompt.get("mm_processor_kwargs") or {}).get("video_metadata"):
        edited = copy.deepcopy(prompt)
        edited["mm_processor_kwargs"]["video_metadata"][0]["fps"] *= 2
        checks["mm_processor_kwargs_video_metadata_changes_key"] = all(a != b for a, b in zip(keys(edited), base))
        checks["mm_processor_kwargs_video_metadata_no_stale_hit"] = no_stale_hit(edited)
    fronts[4.0].clear()
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="outputs/bench/mm_cache")
    parser.add_argument("--n", type=int, nargs="+", default=[8, 16], help="requests per prompt (rollout.n)")
    parser.add_argument("--repeats", type=int, default=3, help="prompts timed per setting (median reported)")
    parser.add_argument("--json", default="outputs/bench/mm_processor_cache.json", help="summary written here")
    args = parser.parse_args(argv)

    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")  # read when vllm is first imported
    reason = vllm_available()
    if reason is not None:
        print(f"bench_mm_processor_cache: skipped: needs vLLM (make vllm-venv; then make bench-vllm) -- {reason}")
        return 0
    import torch
    import vllm

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    parquet = prepare_data(work)
    torch_threads = torch.get_num_threads()
    print(f"vLLM {vllm.__version__} front-end multimodal cost per prompt (renderer + feature encode + receiver), "
          f"CPU, {torch_threads} torch threads; median of {args.repeats} prompts, caches empty at each prompt's start")
    results, key_checks = [], []
    for kind in FAMILIES:
        model_dir, prompts = recorded_requests(work, parquet, kind)
        fronts = {gb: FrontEnd(model_dir, gb) for gb in CACHE_SETTINGS}
        for label, prompt in prompts.items():
            reference = fronts[0.0].request(copy.deepcopy(prompt))[1]  # uncached output (also a warm-up)
            fronts[4.0].request(copy.deepcopy(prompt))  # warm-up
            checks = cache_key_checks(fronts, prompt)
            key_checks.append({"family": kind, "prompt": label, **checks})
            for n in args.n:
                row = {"family": kind, "prompt": label, "data_source": ROWS[label], "n": n,
                       "clips": len(prompt["multi_modal_data"]["video"]), "prompt_tokens": len(reference["ids"]),
                       "mm_processor_kwargs": sorted((prompt.get("mm_processor_kwargs") or {}).keys())}
                for gb in CACHE_SETTINGS:
                    runs = [one_prompt(fronts[gb], prompt, n, reference) for _ in range(args.repeats)]
                    best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
                    key = f"cache_{gb:g}gb"
                    row[key] = {"cache_type": fronts[gb].cache_type, "seconds_per_prompt": round(best["seconds"], 4),
                                "first_request_s": round(best["first"], 4),
                                "later_request_mean_s": round(best["rest_mean"], 4), "item_hits": best["item_hits"],
                                "items": n * row["clips"], "mb_sent_to_engine_core": round(best["sent_mb"], 2)}
                row["speedup"] = round(row["cache_0gb"]["seconds_per_prompt"] / row["cache_4gb"]["seconds_per_prompt"], 2)
                results.append(row)

    header = ("family", "prompt", "tokens", "n", "0 GiB s/prompt", "4 GiB s/prompt", "speedup", "hits (4 GiB)",
              "MB to core 0 / 4")
    lines = [header]
    for r in results:
        c0, c4 = r["cache_0gb"], r["cache_4gb"]
        lines.append((r["family"], r["prompt"], str(r["prompt_tokens"]), str(r["n"]), f"{c0['seconds_per_prompt']:.3f}",
                      f"{c4['seconds_per_prompt']:.3f}", f"{r['speedup']:.1f}x", f"{c4['item_hits']}/{c4['items']}",
                      f"{c0['mb_sent_to_engine_core']:.1f} / {c4['mb_sent_to_engine_core']:.1f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))
    print("  cached requests returned the same prompt ids and tensors as uncached ones (checked for every request)")
    print("  cache key (True = changes with the edit / no stale hit):")
    for c in key_checks:
        flags = ", ".join(f"{k} {v}" for k, v in c.items() if k not in ("family", "prompt"))
        print(f"    {c['family']:<10} {c['prompt']:<7} {flags}")

    summary = {"benchmark": "mm_processor_cache", "vllm": vllm.__version__, "torch_threads": torch_threads,
               "repeats": args.repeats, "cache_settings_gb": list(CACHE_SETTINGS), "results": results,
               "cache_key_checks": key_checks,
               "figures": {f"{r['family']}_{r['prompt'].replace(' ', '')}_n{r['n']}_{k}": v for r in results for k, v in (
                   ("s_0gb", r["cache_0gb"]["seconds_per_prompt"]), ("s_4gb", r["cache_4gb"]["seconds_per_prompt"]),
                   ("speedup", r["speedup"]))}}  # flat, for bench/run_all.py
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"  summary: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
