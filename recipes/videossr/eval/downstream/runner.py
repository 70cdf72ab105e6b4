"""Run a downstream benchmark: ``python -m recipes.videossr.eval downstream``.

Paper setting: videos sampled at 2 fps with at most 32 / 48 / 64 frames, at most 512*512 pixels
per frame, greedy, 128 new tokens. Each frame budget is its own resumable run folder::

    OUT/frames_48/run.json, samples.jsonl, summary.json
    OUT/summary.md   one line per frame budget

Example::

    python -m recipes.videossr.eval downstream --model PATH --items mvbench.json \\
        --videos /data/mvbench/videos --out outputs/eval/mvbench --max-frames 32 48 64

vLLM's ``max_model_len`` (``--max-model-len auto``, the default): a downstream benchmark has no
token record, and decoding every video twice to measure it would double the cost, so ``auto``
bounds the prompts instead: the item with the longest question text, with each video at the
largest frame budget and ``--max-pixels`` (``backends.base.worst_case_prompt_tokens``: through the
model's processor, no video decoded) + the answer budget (``backends.base.model_len_for``).
An explicit ``--max-model-len N`` wins.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_prep.jsonl import write_atomic
from data_prep.schema import EVAL_MAX_PIXELS, EVAL_MIN_PIXELS

PAPER_FRAME_BUDGETS = (32, 48, 64)  # the paper's downstream setting: one run per budget
from recipes.videossr.eval.backends import GenerationSettings, check_model, load_backend
from recipes.videossr.eval.backends.base import AUTO, model_len_for, worst_case_prompt_tokens
from recipes.videossr.eval.downstream import items as items_mod
from recipes.videossr.eval.downstream.metrics import accuracy_summary, grounding_summary, interval_iou
from recipes.videossr.eval.downstream.parsing import (
    option_letters,
    parse_answer_interval,
    parse_answer_letter,
    parse_interval,
    parse_option_letter,
)
from recipes.videossr.eval.downstream.prompts import grounding_prompt, multiple_choice_prompt
from recipes.videossr.eval.runner import EvalSample, Scored, run_samples
from recipes.videossr.eval.samples import SampleStore, status_counts


@dataclass(frozen=True)
class DownstreamConfig:
    model: str
    items: str  # JSON / JSONL file
    out: str
    videos: str | None = None  # folder the video ids are looked up in
    name: str | None = None  # benchmark name; default: the items file's stem
    kind: str = "auto"  # mc | tg | auto (from the answers)
    backend: str = "hf"
    fps: float = 2.0
    max_frames: tuple[int, ...] = PAPER_FRAME_BUDGETS  # frame budgets, one run folder each
    max_pixels: int = EVAL_MAX_PIXELS
    min_pixels: int = EVAL_MIN_PIXELS
    batch_size: int = 8
    max_new_tokens: int = 128
    limit: int | None = None
    retry_errors: bool = False
    device: str | None = None
    dtype: str = "auto"
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.8  # vllm
    max_model_len: int | str = AUTO  # vllm: tokens, or "auto" = a bound from the items and the frame budget
    score_missing_as_zero: bool = False  # items whose video is missing: 0 instead of stopping the run

    def __post_init__(self) -> None:
        from recipes.videossr.eval.viubench import check_counts

        check_counts(self)
        if not self.max_frames or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.max_frames):
            raise ValueError(f"max_frames must be positive integers, got {self.max_frames!r}")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps!r}")


def vllm_max_model_len(config: DownstreamConfig, items: list[dict[str, Any]], kind: str, progress: bool = False) -> int:
    """``config.max_model_len`` if a number; for ``auto`` the worst-case prompt + the answer budget."""
    if config.max_model_len != AUTO:
        return int(config.max_model_len)
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(config.model)
    budget = max(config.max_frames)
    samples = build_samples(items, kind, config, budget)
    if not samples:
        return model_len_for(0, config.max_new_tokens)

    def text_tokens(sample: EvalSample) -> int:
        text = processor.apply_chat_template(sample.messages, tokenize=False, add_generation_prompt=True)
        return len(processor.tokenizer(text)["input_ids"])

    longest = max(samples, key=text_tokens)  # the video part is the same for every item
    prompt = worst_case_prompt_tokens(processor, longest.messages, budget, config.max_pixels)
    length = model_len_for(prompt, config.max_new_tokens)
    if progress:
        print(f"[eval] vllm max_model_len {length}: prompts of at most {prompt} tokens ({budget} frames at "
              f"<= {config.max_pixels} pixels, longest question {longest.id}) + {config.max_new_tokens} new tokens",
              file=sys.stderr)
    return length


def build_samples(items: list[dict[str, Any]], kind: str, config: DownstreamConfig, max_frames: int) -> list[EvalSample]:
    samples = []
    for k, item in enumerate(items):
        item_id = str(item.get("id", f"{k:06d}"))
        try:
            answer = (
                parse_answer_letter(item["answer"]) if kind == "mc" else "%g-%g" % parse_answer_interval(item["answer"])
            )
        except ValueError as exc:
            raise ValueError(f"{config.items}: item {k} ({item_id}): {exc}") from None
        text = multiple_choice_prompt(item["question"]) if kind == "mc" else grounding_prompt(item["question"])
        video = items_mod.resolve_video(str(item["video"]), config.videos)
        clip = {
            "type": "video",
            "video": video,
            "fps": config.fps,
            "max_frames": max_frames,
            "max_pixels": config.max_pixels,
            "min_pixels": config.min_pixels,
        }
        messages = [{"role": "user", "content": [clip, {"type": "text", "text": text}]}]
        fields = {"video": str(item["video"]), "kind": kind}
        if kind == "mc":
            fields["options"] = option_letters(item["question"])
        samples.append(EvalSample(item_id, kind, messages, [video], answer, text, fields))
    return samples


def score_downstream(sample: EvalSample, output: str) -> Scored:
    """MC: 1 if the parsed letter is the answer. TG: IoU of the parsed interval with the answer."""
    if sample.fields["kind"] == "mc":
        letter = parse_option_letter(output, sample.fields["options"])
        return Scored(float(letter == sample.answer), letter)
    interval = parse_interval(output)
    if interval is None:
        return Scored(0.0, None, {"iou": 0.0})
    iou = interval_iou(interval, parse_answer_interval(sample.answer))
    return Scored(iou, list(interval), {"iou": iou})


def summarize(kind: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    metrics = [float(r["metric"]) for r in records]
    summary = accuracy_summary(metrics) if kind == "mc" else grounding_summary(metrics)
    return {**summary, "status_counts": status_counts(records)}


def run_downstream(config: DownstreamConfig, progress: bool = True) -> dict[str, Any]:
    """Evaluate every frame budget of ``config`` (resuming finished work); returns the summaries."""
    items = items_mod.load_items(config.items)[: config.limit]
    kind = items_mod.detect_kind(items) if config.kind == "auto" else config.kind
    if kind not in items_mod.KINDS:
        raise ValueError(f"--kind must be one of {items_mod.KINDS} or auto, got {kind!r}")
    name = config.name or Path(config.items).stem
    out = Path(config.out)
    backend_cache: list[Any] = []

    def backend():  # loaded once, only if some budget still has questions to ask
        if not backend_cache:
            check_model(config.model)
            max_model_len = vllm_max_model_len(config, items, kind, progress) if config.backend == "vllm" else None
            generation = GenerationSettings.of(config, max_model_len)
            backend_cache.append(load_backend(config.backend, config.model, generation))
        return backend_cache[0]

    summaries: dict[str, Any] = {}
    for max_frames in config.max_frames:
        settings = {
            "benchmark": name,
            "kind": kind,
            "model": str(Path(config.model).resolve()) if Path(config.model).exists() else config.model,
            "backend": config.backend,
            "items": len(items),
            "fps": config.fps,
            "max_frames": max_frames,
            "max_pixels": config.max_pixels,
            "min_pixels": config.min_pixels,
            "max_new_tokens": config.max_new_tokens,
        }
        run_dir = out / f"frames_{max_frames}"
        store = SampleStore(run_dir, settings, retry_errors=config.retry_errors)
        records = run_samples(
            build_samples(items, kind, config, max_frames), backend, store, score_downstream,
            batch_size=config.batch_size, progress=progress, missing_as_zero=config.score_missing_as_zero,
            missing_hint=lambda path: (f"video ids are looked up under --videos {config.videos}" if config.videos
                                       else "video ids are paths; pass --videos DIR for the folder that holds them"),
        )
        summary = {"settings": settings, **summarize(kind, records)}
        run_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(run_dir / "summary.json", (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode())
        summaries[f"frames_{max_frames}"] = summary
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "summary.md", summary_markdown(name, kind, summaries).encode())
    return summaries


def summary_markdown(name: str, kind: str, summaries: dict[str, Any]) -> str:
    keys = ["accuracy"] if kind == "mc" else ["mIoU", "R@0.3", "R@0.5", "R@0.7"]
    lines = [
        f"# {name} ({'multiple choice' if kind == 'mc' else 'temporal grounding'})",
        "",
        "| frames | n | " + " | ".join(keys) + " | unparsable | error | missing_video |",
        "|---|" + "---:|" * (len(keys) + 4),
    ]
    for budget, s in summaries.items():
        c = s["status_counts"]
        values = " | ".join(f"{s[k]:.1f}" for k in keys)
        lines.append(
            f"| {budget.split('_')[1]} | {s['n']} | {values} | {c['unparsable']} | {c['error']} | {c['missing_video']} |"
        )
    return "\n".join(lines + ["", "Every item counts: unparsable answers, errors and missing videos score 0.", ""])
