"""Prompt-token counts per task, measured through the rollout path verl uses (they decide max_prompt_length).

Each row goes through ``VideoSSRDataset`` (verl's ``RLHFDataset``), its multimodal processing, and
verl's Qwen-VL continuous-token builder with a model's real processor -- the exact ids the rollout
sends to vLLM. Only the processor matters, so the tiny offline models give the real counts for
Qwen2.5-VL and Qwen3-VL.

>>> counts = prompt_token_counts("outputs/demo/data/viubench.parquet", "outputs/demo/models/tiny-qwen3_vl")  # doctest: +SKIP
>>> counts["videossr/jigsaw/n8"]                                                                           # doctest: +SKIP
{'rows': 3, 'min': 1709, 'mean': 1712.3, 'max': 1715}
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from recipes.videossr.dataset import VideoSSRDataset


def prompt_token_counts(parquet: str | os.PathLike, model_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """``{data_source: {"rows", "min", "mean", "max"}}`` of prompt lengths in tokens (frames included)."""
    from transformers import AutoConfig, AutoProcessor
    from verl.utils.tokenizer.continuous_token_wiring import create_continuous_token_builder

    processor = AutoProcessor.from_pretrained(model_dir)
    model_type = AutoConfig.from_pretrained(model_dir).model_type
    patch = processor.video_processor.patch_size
    with tempfile.TemporaryDirectory() as cache:
        config = OmegaConf.create({"filter_overlong_prompts": False, "return_raw_chat": True, "cache_dir": cache,
                                   "image_patch_size": patch, "videossr": {"check_frame_files": True}})
        dataset = VideoSSRDataset(str(parquet), processor.tokenizer, config, processor)
        builder = create_continuous_token_builder(processor.tokenizer, hf_model_type=model_type, processor=processor)
        lengths: dict[str, list[int]] = defaultdict(list)
        for i in range(len(dataset)):
            row = dataset[i]
            _, videos, _ = asyncio.run(VideoSSRDataset.process_multi_modal_info(row["raw_prompt"], patch, config))
            ids = builder.build_initial_tokens(row["raw_prompt"], videos=videos)
            lengths[row["data_source"]].append(len(ids))
    return {
        source: {"rows": len(v), "min": min(v), "mean": round(sum(v) / len(v), 1), "max": max(v)}
        for source, v in sorted(lengths.items())
    }


def format_counts(title: str, counts: dict[str, dict[str, Any]]) -> list[str]:
    """Report lines: one per data_source, then the overall maximum.

    >>> format_counts("m", {"videossr/jigsaw/n6": {"rows": 2, "min": 10, "mean": 11.0, "max": 12}})[1]
    '    videossr/jigsaw/n6                  rows   2  min     10  mean     11.0  max     12'
    """
    lines = [f"  {title}"]
    for source, c in counts.items():
        lines.append(f"    {source:<34}  rows {c['rows']:>3}  min {c['min']:>6}  mean {c['mean']:>8}  max {c['max']:>6}")
    if counts:
        lines.append(f"    longest prompt: {max(c['max'] for c in counts.values())} tokens")
    return lines


def demo_step(out: Path, args) -> list[str]:
    """``make demo``'s step: tiny Qwen2.5-VL / Qwen3-VL processors, prompt tokens per task."""
    from recipes.videossr.tiny_models import build_tiny_model

    report = ["prompt tokens per task (VideoSSRDataset + verl's rollout tokenization; max_prompt_length 8192):"]
    for kind in ("qwen2_5_vl", "qwen3_vl"):
        model_dir = out / "models" / f"tiny-{kind}"
        if not (model_dir / "config.json").exists():
            build_tiny_model(kind, model_dir)
        for parquet in sorted((out / "data").glob("*.parquet")):
            report += format_counts(f"{kind} processor, {parquet.name}", prompt_token_counts(parquet, model_dir))
    return report
