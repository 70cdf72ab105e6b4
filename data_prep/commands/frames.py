"""Decode each video once, keep N frames evenly spaced inside the 5%..95% span, store them per tier.

Output: FRAMES_DIR/<video_id>/<tier>/NNN.jpg (the train and eval tiers only for the videos of that
split) and FRAMES_DIR/manifest.jsonl (one record per video: ok, or skipped with the reason).
Resumable and deterministic; exits 0 even when some videos are skipped (they are listed in the
manifest and in the summary line).
"""

from __future__ import annotations

import argparse

from data_prep.builders.splits import DEFAULT_EVAL_FRACTION
from data_prep.commands import positive_int
from data_prep.frames import DEFAULT_TIERS, FrameOptions, extract_frames
from data_prep.sampling import FPS_MODES
from data_prep.schema import NUM_FRAMES


def parse_tiers(text: str) -> dict[str, int]:
    """``"train=65536,eval=262144"`` -> ``{"train": 65536, "eval": 262144}`` (``*`` allowed)."""
    tiers = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        if not name.strip() or not value:
            raise argparse.ArgumentTypeError(f"tier {item!r} is not NAME=MAX_PIXELS")
        total = 1
        for factor in value.split("*"):
            total *= int(factor)
        tiers[name.strip()] = total
    return tiers


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--videos", nargs="+", required=True, metavar="DIR", help="video folders or files (recursive)")
    p.add_argument("--out", required=True, metavar="FRAMES_DIR", help="output folder (never inside a source folder)")
    p.add_argument("--num-frames", type=int, default=NUM_FRAMES,
                   help=f"frames kept per video (default {NUM_FRAMES}, the paper's)")
    p.add_argument("--span", type=float, nargs=2, default=(0.05, 0.95), metavar=("START", "END"),
                   help="fraction of the video the frames are spread over (default 0.05 0.95)")
    p.add_argument("--fps-mode", choices=FPS_MODES, default="paper",
                   help="paper: sample_fps = N / full duration (reference data); span: true spacing fps/step")
    p.add_argument("--tiers", type=parse_tiers, default=dict(DEFAULT_TIERS),
                   help="storage tiers NAME=MAX_PIXELS,... (default train=256*256,eval=512*512)")
    p.add_argument("--jpeg-quality", type=int, default=90, help="JPEG quality of stored frames (default 90)")
    split = p.add_mutually_exclusive_group()
    split.add_argument("--eval-fraction", type=float, default=DEFAULT_EVAL_FRACTION,
                       help="the train (eval) tier is written only for the videos a build with this "
                       f"--eval-fraction puts in train (eval) (default {DEFAULT_EVAL_FRACTION})")
    split.add_argument("--all-tiers", dest="eval_fraction", action="store_const", const=None,
                       help="write every tier for every video (for builds with any --eval-fraction)")
    p.add_argument("--workers", type=positive_int, default=1, help="local worker processes (default 1)")
    p.add_argument("--ray", metavar="ADDRESS", default=None,
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
    return 0
