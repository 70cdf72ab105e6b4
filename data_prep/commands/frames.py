"""Decode each video once, keep N frames evenly spaced inside the 5%..95% span, store them per tier.

Output: FRAMES_DIR/<video_id>/<tier>/NNN.jpg (the train and eval tiers only for the videos of that
split) and FRAMES_DIR/manifest.jsonl (one record per video: ok, or skipped with the reason).
Resumable and deterministic; exits 0 when some videos are skipped (they are listed in the manifest
and in the summary line), 1 when no video at all could be used or a program/environment error
stopped the run, 2 for a user error (an impossible option, no videos found, a busy --out).
"""

from __future__ import annotations

import argparse
import sys

from data_prep.builders.splits import DEFAULT_EVAL_FRACTION
from data_prep.commands import SpanAction, fraction, jpeg_quality, positive_int, ray_address, tiers
from data_prep.frames import DEFAULT_TIERS, FrameOptions, extract_frames
from data_prep.sampling import FPS_MODES
from data_prep.schema import NUM_FRAMES
from data_prep.validate import MIN_TIER_PIXELS

DEFAULTS = FrameOptions()  # the option defaults are the API's


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--videos", nargs="+", required=True, metavar="DIR", help="video folders or files (recursive)")
    p.add_argument("--out", required=True, metavar="FRAMES_DIR", help="output folder (never inside a source folder)")
    p.add_argument("--num-frames", type=positive_int, default=DEFAULTS.num_frames,
                   help=f"frames kept per video (default {NUM_FRAMES}, the paper's)")
    p.add_argument("--span", nargs=2, action=SpanAction, default=DEFAULTS.span, metavar=("START", "END"),
                   help="fraction of the video the frames are spread over, 0 <= START < END <= 1 "
                   f"(default {' '.join(map(str, DEFAULTS.span))})")
    p.add_argument("--fps-mode", choices=FPS_MODES, default=DEFAULTS.fps_mode,
                   help="paper: sample_fps = N / full duration (reference data); span: true spacing fps/step")
    p.add_argument("--tiers", type=tiers, default=dict(DEFAULT_TIERS),
                   help="storage tiers NAME=MAX_PIXELS,... (default train=256*256,eval=512*512; "
                   f"at least {MIN_TIER_PIXELS} pixels each)")
    p.add_argument("--jpeg-quality", type=jpeg_quality, default=DEFAULTS.jpeg_quality,
                   help=f"JPEG quality of stored frames, 1..100 (default {DEFAULTS.jpeg_quality})")
    split = p.add_mutually_exclusive_group()
    split.add_argument("--eval-fraction", type=fraction, default=DEFAULT_EVAL_FRACTION,
                       help="the train (eval) tier is written only for the videos a build with this "
                       f"--eval-fraction puts in train (eval) (default {DEFAULT_EVAL_FRACTION})")
    split.add_argument("--all-tiers", dest="eval_fraction", action="store_const", const=None,
                       help="write every tier for every video (for builds with any --eval-fraction)")
    p.add_argument("--workers", type=positive_int, default=1, help="local worker processes (default 1)")
    p.add_argument("--ray", metavar="ADDRESS", type=ray_address, default=None,
                   help="run as Ray tasks: 'auto' or HOST:PORT joins a cluster, 'local' starts one here")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    options = FrameOptions(
        num_frames=args.num_frames,
        span=tuple(args.span),
        fps_mode=args.fps_mode,
        tiers=args.tiers,
        jpeg_quality=args.jpeg_quality,
        eval_fraction=args.eval_fraction,
    )
    summary = extract_frames(args.videos, args.out, options, workers=args.workers,
                             ray_address=args.ray, progress=not args.no_progress)
    print(summary)
    if summary.total and not summary.ok:
        print(f"error: none of the {summary.total} videos could be used (reasons in {summary.out_dir / 'manifest.jsonl'})",
              file=sys.stderr)
        return 1
    return 0
