"""Write seeded synthetic videos (moving, occluding objects over a panning texture; H.264)."""

from __future__ import annotations

import argparse

from data_prep.commands import positive_float, positive_int
from data_prep.synthetic import SynthSpec, write_corpus

DEFAULTS = SynthSpec()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="folder for synth_NNN.mp4")
    p.add_argument("--count", type=positive_int, default=16, help="number of videos (default 16)")
    p.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    p.add_argument("--width", type=positive_int, default=DEFAULTS.width, help=f"frame width (default {DEFAULTS.width})")
    p.add_argument("--height", type=positive_int, default=DEFAULTS.height,
                   help=f"frame height (default {DEFAULTS.height})")
    p.add_argument("--fps", type=positive_int, default=DEFAULTS.fps, help=f"frame rate (default {DEFAULTS.fps})")
    p.add_argument("--seconds", type=positive_float, default=DEFAULTS.seconds,
                   help=f"length in seconds (default {DEFAULTS.seconds})")


def run(args: argparse.Namespace) -> int:
    spec = SynthSpec(width=args.width, height=args.height, fps=args.fps, seconds=args.seconds)
    paths = write_corpus(args.out, args.count, seed=args.seed, spec=spec)
    print(f"{len(paths)} synthetic videos in {args.out}")
    return 0
