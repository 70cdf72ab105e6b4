"""The evaluation step of ``make demo``: VIUBench with a tiny model on the demo data.

One of ``recipes/videossr/demo.py``'s ``STEPS``, after ``data_prep``'s demo stage that builds
``<out>/data/viubench.parquet``; reuses ``<out>/models/tiny-qwen2_5_vl``. The tiny random Qwen2.5-VL
scores ~0: the step shows the outputs and the accounting, not a model. Re-running reuses finished answers.

>>> # demo_step(Path("outputs/demo"), args) -> ["viubench eval: 27 questions ... -> outputs/demo/eval/..."]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from recipes.videossr.eval.viubench import DEFAULT_PARQUET, ViubenchConfig, run_viubench

TINY_KIND = "qwen2_5_vl"


def demo_step(out_dir: Path, args: argparse.Namespace) -> list[str]:
    data = out_dir / "data" / DEFAULT_PARQUET
    if not data.is_file():
        return [f"viubench eval: skipped, no {data} (the VIUBench build step did not run)"]
    model = out_dir / "models" / f"tiny-{TINY_KIND}"
    if not (model / "config.json").is_file():
        from recipes.videossr.tiny_models import build_tiny_model

        build_tiny_model(TINY_KIND, model)
    run_dir = out_dir / "eval" / f"viubench-tiny-{TINY_KIND}"
    summary = run_viubench(ViubenchConfig(model=str(model), data=str(data), out=str(run_dir), backend="hf",
                                          device="cpu", label=f"tiny-{TINY_KIND}"), progress=False)
    total = {k: sum(c[k] for c in summary["counts"].values()) for k in ("n", "ok", "unparsable", "error", "missing_video")}
    return [
        f"viubench eval: {total['n']} questions (ok {total['ok']}, unparsable {total['unparsable']}, "
        f"error {total['error']}, missing video {total['missing_video']}) -> {run_dir / 'results.md'}"
    ]
