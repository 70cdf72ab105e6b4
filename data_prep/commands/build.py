"""Build a dataset from a frames folder: the VideoSSR-30K training mix, VIUBench, or a mix YAML.

Examples:
  python -m data_prep build --frames FRAMES_DIR --out DATA_DIR --recipe videossr30k [--size 30000]
  python -m data_prep build --frames FRAMES_DIR --out DATA_DIR --recipe viubench [--per-subtype 300]
  python -m data_prep build --frames FRAMES_DIR --out DATA_DIR --recipe my_mix.yaml --uniform
Writes <output>.parquet, frames/ (changed frames only), source_frames (a link to FRAMES_DIR, or with
--self-contained the frames the rows use) and the README.md dataset card in DATA_DIR; re-running resumes.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from data_prep.build import build_dataset
from data_prep.builders.mixes import builtin_mixes
from data_prep.builders.splits import DEFAULT_EVAL_FRACTION
from data_prep.commands import fraction, non_negative_int, positive_int, ray_address
from data_prep.preview import write_previews
from data_prep.profiles import DEFAULT_PROFILE, PROFILES


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--frames", required=True, metavar="FRAMES_DIR", help="output folder of `data_prep frames`"
    )
    p.add_argument(
        "--out", required=True, metavar="DATA_DIR", help="dataset folder (parquet, changed frames, card)"
    )
    p.add_argument(
        "--recipe",
        default="videossr30k",
        help=f"built-in mix ({', '.join(builtin_mixes())}) or a mix YAML path (default videossr30k)",
    )
    p.add_argument(
        "--size",
        type=positive_int,
        default=None,
        help="cap on the samples of a training mix (default: the mix's, 30000)",
    )
    p.add_argument(
        "--per-subtype",
        type=positive_int,
        default=None,
        help="questions per subtype of VIUBench-like mixes (default: the mix's, 300)",
    )
    p.add_argument(
        "--validation-slice",
        type=non_negative_int,
        default=None,
        metavar="K",
        help="also write <name>_val.parquet with the first K rows of each subtype, the recipes' "
        "training-time validation set (default: the mix's, 32 for VIUBench; 0: none)",
    )
    p.add_argument("--seed", type=int, default=0, help="build seed (default 0): same seed, same bytes")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--uniform",
        dest="uniform",
        action="store_true",
        default=None,
        help="uniform answer distributions (counts, segment positions) instead of the paper's priors",
    )
    mode.add_argument(
        "--paper-priors",
        dest="uniform",
        action="store_false",
        help="the paper's generators (the default of the paper recipes)",
    )
    p.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help=f"generator profile (default: the mix's, {DEFAULT_PROFILE}): paper = the released generators, "
        "verified = labels verifiable from the pixels (see data_prep/profiles.py)",
    )
    p.add_argument(
        "--eval-fraction",
        type=fraction,
        default=DEFAULT_EVAL_FRACTION,
        help=f"fraction of videos reserved for VIUBench by a hash of the id (default {DEFAULT_EVAL_FRACTION}; "
        "use the same value for the training and the VIUBench build)",
    )
    p.add_argument(
        "--self-contained",
        action="store_true",
        help="hard-link (else copy) the frames the rows use into DATA_DIR/source_frames instead of linking "
        "the frames folder: DATA_DIR alone is the dataset (to copy, mount elsewhere or upload)",
    )
    p.add_argument("--workers", type=positive_int, default=1, help="local worker processes (default 1)")
    p.add_argument(
        "--ray", metavar="ADDRESS", type=ray_address, default=None, help="run as Ray tasks: 'auto', HOST:PORT or 'local'"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def command_line(args: argparse.Namespace) -> str:
    """The explicit command that rebuilds this dataset (every option spelled out, for the card).

    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> command_line(p.parse_args(["--frames", "f", "--out", "d", "--recipe", "viubench", "--per-subtype", "5"]))
    'python -m data_prep build --frames f --out d --recipe viubench --seed 0 --eval-fraction 0.2 --per-subtype 5'
    """
    parts = [
        "python -m data_prep build",
        "--frames",
        args.frames,
        "--out",
        args.out,
        "--recipe",
        str(args.recipe),
        "--seed",
        str(args.seed),
        "--eval-fraction",
        str(args.eval_fraction),
    ]
    for flag, value in (("--size", args.size), ("--per-subtype", args.per_subtype),
                        ("--validation-slice", args.validation_slice)):
        if value is not None:
            parts += [flag, str(value)]
    if args.uniform is not None:
        parts.append("--uniform" if args.uniform else "--paper-priors")
    if args.profile is not None:
        parts += ["--profile", args.profile]
    return " ".join(shlex.quote(p) if i else p for i, p in enumerate(parts))


def run(args: argparse.Namespace) -> int:
    command = command_line(args)
    summary = build_dataset(
        args.frames,
        args.out,
        args.recipe,
        size=args.size,
        seed=args.seed,
        per_subtype=args.per_subtype,
        uniform=args.uniform,
        profile=args.profile,
        validation_slice=args.validation_slice,
        eval_fraction=args.eval_fraction,
        workers=args.workers,
        ray_address=args.ray,
        progress=not args.no_progress,
        command=command,
        self_contained=args.self_contained,
    )
    print(summary)
    print(f"dataset card: {summary.card}")
    return 0


def demo_step(out: Path, args: argparse.Namespace) -> list[str]:
    """``make demo``'s dataset step: a small VideoSSR mix and a small VIUBench, with previews.

    Uses every training video for the mix (capped at 24) and 3 questions per VIUBench subtype.
    """
    frames, data = out / "frames", out / "data"
    report = []
    for recipe, options in (("videossr30k", {"size": 24}), ("viubench", {"per_subtype": 3})):
        summary = build_dataset(
            frames,
            data,
            recipe,
            seed=args.seed,
            workers=args.workers,
            progress=False,
            command=f"python -m data_prep build --frames {frames} --out {data} --recipe {recipe} "
            + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in options.items())
            + f" --seed {args.seed}",
            **options,
        )
        index = write_previews(summary.parquet, out / "preview" / summary.parquet.stem)
        report += [f"{recipe}: {summary}", f"  preview: {index}"]
    return report + [f"dataset card: {data / 'README.md'}"]
