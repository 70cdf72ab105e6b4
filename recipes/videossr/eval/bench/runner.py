"""Run one downstream benchmark at every frame budget of the sweep, resumable, in the paper's protocol.

``python -m recipes.videossr.eval bench NAME --root DIR --model M --out OUT`` writes::

    OUT/frames_32/run.json        the settings (a resume must match them; written once the model answered)
    OUT/frames_32/samples.jsonl   one record per question: prompt, output, parsed, metric, status
    OUT/frames_32/summary.json    both accountings (paper, strict), excluded counts, per-group scores
    OUT/missing.txt               every video file of the release that is not on disk (empty: none)
    OUT/summary.json / .md        every budget, both accountings side by side

Missing videos: listed in ``missing.txt`` and recorded as ``missing_video`` (the paper's accounting
drops them, the strict one scores them 0); more than ``--max-missing`` (a fraction of the items,
default 0.02) stops the run before the model loads, so a half-downloaded release never looks like a
result. Questions on the same video are asked one after the other, and the backends decode a video
once per budget (``backends.base.decode_videos`` keeps the last ones decoded).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from data_prep.jsonl import write_atomic
from recipes.videossr.eval.backends import GenerationSettings, check_model, load_backend
from recipes.videossr.eval.backends.base import AUTO, model_len_for, worst_case_prompt_tokens
from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import ACCOUNTINGS, headline, prompt_for, score_for, summarize_run
from recipes.videossr.eval.bench.spec import Benchmark, Item
from recipes.videossr.eval.runner import EvalSample, run_samples
from recipes.videossr.eval.samples import SampleStore, status_counts

MISSING_FILE = "missing.txt"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class BenchConfig:
    benchmark: str  # registry name
    root: str  # the release folder, as downloaded
    model: str
    out: str
    label: str | None = None  # row name in Tables 2-3; default: the model folder's name
    backend: str = "hf"
    fps: float = protocol.FPS
    max_frames: tuple[int, ...] = protocol.FRAME_BUDGETS  # the sweep: one run folder per budget
    max_pixels: int = protocol.MAX_PIXELS
    min_pixels: int = protocol.MIN_PIXELS
    max_new_tokens: int | None = None  # None: the benchmark's own, else the protocol's 128
    batch_size: int = 8
    limit: int | None = None  # first N items only (smoke tests; recorded in the settings)
    max_missing: float = 0.02  # fraction of items whose videos may be missing before the run refuses
    retry_errors: bool = False
    device: str | None = None
    dtype: str = "auto"
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.8
    max_model_len: int | str = AUTO  # vllm: auto = the worst-case prompt of the sweep + the answer budget

    def __post_init__(self) -> None:
        from recipes.videossr.eval.viubench import check_counts

        check_counts(self)
        if not self.max_frames or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.max_frames):
            raise ValueError(f"max_frames must be positive integers, got {self.max_frames!r}")
        if len(set(self.max_frames)) != len(self.max_frames):
            raise ValueError(f"max_frames repeats a budget: {self.max_frames!r}")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps!r}")
        if not 0.0 <= self.max_missing <= 1.0:
            raise ValueError(f"max_missing must be a fraction in [0, 1], got {self.max_missing!r}")


def answer_budget(config: BenchConfig, bench: Benchmark) -> int:
    return config.max_new_tokens or bench.max_new_tokens or protocol.MAX_NEW_TOKENS


def items_fingerprint(items: list[Item]) -> str:
    """sha256 of what is asked and expected: a resume on an edited release is refused."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps([item.id, list(item.videos), item.question, item.answer, item.clip],
                                 sort_keys=True, default=list).encode())
    return digest.hexdigest()[:16]


def conversation(item: Item, text: str, config: BenchConfig, max_frames: int) -> list[dict[str, Any]]:
    """One user turn: every video of the item (each with the whole frame budget), then the text."""
    clips = [{"type": "video", "video": video, "fps": config.fps, "max_frames": max_frames,
              "max_pixels": config.max_pixels, "min_pixels": config.min_pixels, **item.clip}
             for video in item.videos]
    return [{"role": "user", "content": [*clips, {"type": "text", "text": text}]}]


def build_samples(bench: Benchmark, items: list[Item], config: BenchConfig, max_frames: int) -> list[EvalSample]:
    """The items as runner samples, questions on the same video(s) next to each other."""
    samples = []
    for item in sorted(items, key=lambda i: (i.videos, i.id)):
        text = prompt_for(bench, item)
        fields = {"videos": list(item.videos), **({"pair": item.pair} if item.pair else {}), **item.meta}
        answer = list(item.answer) if isinstance(item.answer, tuple) else item.answer
        samples.append(EvalSample(item.id, item.group, conversation(item, text, config, max_frames),
                                  list(item.videos), answer, text, fields, {"item": item}))
    return samples


def missing_videos(items: list[Item]) -> dict[str, list[str]]:
    """item id -> its video files that do not exist."""
    found: dict[str, bool] = {}
    out = {}
    for item in items:
        gone = [v for v in item.videos if not found.setdefault(v, Path(v).is_file())]
        if gone:
            out[item.id] = gone
    return out


def vllm_max_model_len(config: BenchConfig, bench: Benchmark, items: list[Item], progress: bool) -> int:
    """``--max-model-len``, or for ``auto`` the worst-case prompt of the sweep + the answer budget:
    for each number of videos per item, the longest text, with every video at the largest budget."""
    budget = answer_budget(config, bench)
    if config.max_model_len != AUTO:
        return int(config.max_model_len)
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(config.model)
    frames = max(config.max_frames)
    longest: dict[int, tuple[int, Item]] = {}
    for item in items:
        size = len(prompt_for(bench, item))
        if size > longest.get(len(item.videos), (-1, None))[0]:
            longest[len(item.videos)] = (size, item)
    worst = 0
    for _, item in longest.values():
        messages = conversation(item, prompt_for(bench, item), config, frames)
        worst = max(worst, worst_case_prompt_tokens(processor, messages, frames, config.max_pixels))
    length = model_len_for(worst, budget)
    if progress:
        print(f"[bench] vllm max_model_len {length}: prompts of at most {worst} tokens ({frames} frames per video "
              f"at <= {config.max_pixels} pixels) + {budget} new tokens", file=sys.stderr)
    return length


def _missing_error(bench: Benchmark, config: BenchConfig, missing: dict[str, list[str]], n: int) -> ValueError:
    first = next(iter(missing.values()))[0]
    return ValueError(
        f"{bench.name}: {len(missing)} of {n} items have missing videos (more than --max-missing "
        f"{config.max_missing:g}), e.g. {first}; listed in {Path(config.out) / MISSING_FILE}; expected layout "
        f"under --root: {bench.layout}; download the videos, or pass --max-missing 1 to run anyway "
        "(the paper's accounting drops them, the strict one scores them 0)")


def run_bench(config: BenchConfig, progress: bool = True) -> dict[str, Any]:
    """Every budget of the sweep (resuming finished questions); returns OUT/summary.json's content."""
    bench = get_benchmark(config.benchmark)
    items = bench.load(Path(config.root))[: config.limit]
    if not items:
        raise ValueError(f"{bench.name}: the release under {config.root} has no items")
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{bench.name}: item ids are not unique (the adapter must give each question its own id)")
    out = Path(config.out)
    missing = missing_videos(items)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / MISSING_FILE, "".join(f"{v}\n" for v in sorted({v for vs in missing.values() for v in vs})).encode())
    if len(missing) > config.max_missing * len(items):
        raise _missing_error(bench, config, missing, len(items))
    if missing and progress:
        print(f"[bench] {bench.name}: {len(missing)} of {len(items)} items have missing videos "
              f"(listed in {out / MISSING_FILE}); recorded as missing_video", file=sys.stderr)

    model = str(Path(config.model).resolve()) if Path(config.model).exists() else config.model
    label = config.label or Path(config.model.rstrip("/")).name
    tokens = answer_budget(config, bench)
    backend_cache: list[Any] = []

    def backend():  # loaded once for the whole sweep, only if some budget still has questions to ask
        if not backend_cache:
            check_model(config.model)
            max_model_len = vllm_max_model_len(config, bench, items, progress) if config.backend == "vllm" else None
            settings = replace(GenerationSettings.of(config, max_model_len), max_new_tokens=tokens)
            backend_cache.append(load_backend(config.backend, config.model, settings))
        return backend_cache[0]

    def score(sample: EvalSample, output: str):
        return score_for(bench, sample.context["item"], output)

    budgets: dict[str, Any] = {}
    for max_frames in config.max_frames:
        settings = {
            "benchmark": bench.name, "items": len(items), "items_sha256": items_fingerprint(items),
            "model": model, "backend": config.backend, "fps": config.fps, "max_frames": max_frames,
            "max_pixels": config.max_pixels, "min_pixels": config.min_pixels, "max_new_tokens": tokens,
        }
        run_dir = out / f"frames_{max_frames}"
        store = SampleStore(run_dir, settings, retry_errors=config.retry_errors)
        if progress:
            print(f"[bench] {bench.name} at {max_frames} frames -> {run_dir}", file=sys.stderr)
        records = run_samples(build_samples(bench, items, config, max_frames), backend, store, score,
                              batch_size=config.batch_size, progress=progress, missing_as_zero=True)
        summary = {"settings": settings, "status_counts": status_counts(records), **summarize_run(bench, records)}
        run_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(run_dir / SUMMARY_FILE, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode())
        budgets[str(max_frames)] = summary

    result = {"benchmark": bench.name, "title": bench.title, "domain": bench.domain, "label": label,
              "model": model, "metric": headline(bench), "budgets": budgets}
    write_atomic(out / SUMMARY_FILE, (json.dumps(result, indent=2, sort_keys=True) + "\n").encode())
    write_atomic(out / "summary.md", summary_markdown(result).encode())
    return result


def summary_markdown(result: dict[str, Any]) -> str:
    """One line per budget: the headline in both accountings and what each excluded."""
    lines = [f"# {result['title']} ({result['label']}): {result['metric']}", "",
             "| frames | items | paper | n (paper) | excluded (paper) | strict | error | missing_video | unparsable |",
             "|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for frames, s in result["budgets"].items():
        c = s["status_counts"]
        excluded = ", ".join(f"{k} {v}" for k, v in s["paper"]["excluded"].items()) or "none"
        lines.append(f"| {frames} | {sum(c.values())} | {s['paper']['score']:.1f} | {s['paper']['n']} | {excluded} | "
                     f"{s['strict']['score']:.1f} | {c['error']} | {c['missing_video']} | {c['unparsable']} |")
    notes = ["", "paper = the released code's accounting (errors, missing videos and unparsable answers leave the "
             "denominator); strict = every item counts, anything not answered scores 0.", ""]
    return "\n".join(lines + notes)


__all__ = ["ACCOUNTINGS", "BenchConfig", "build_samples", "run_bench"]
