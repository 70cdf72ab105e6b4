"""Write seeded synthetic videos (moving, occluding objects over a panning texture; H.264)."""

from __future__ import annotations

import argparse

from data_prep.synthetic import SynthSpec, write_corpus


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="folder for synth_NNN.mp4")
    p.add_argument("--count", type=int, default=16, help="number of videos (default 16)")
    p.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--fps", type=int, default=24)
    p.add_argument("--seconds", type=float, default=4.0)


def run(args: argparse.Namespace) -> int:
    spec = SynthSpec(width=args.width, height=args.height, fps=args.fps, seconds=args.seconds)
    paths = write_corpus(args.out, args.count, seed=args.seed, spec=spec)
    print(f"{len(paths)} synthetic videos in {args.out}")
    return 0
