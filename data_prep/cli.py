"""``python -m data_prep <command>``: one sub-command per pipeline stage.

Each command lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``;
adding a command is one module plus one line in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from data_prep.commands import run_command
from data_prep.schema import NUM_FRAMES

# Modules named by string are this package's own commands only (tests/test_import_layers_on_cpu.py).
COMMANDS = {
    "synth": ("data_prep.commands.synth", "generate seeded synthetic videos"),
    "frames": ("data_prep.commands.frames", f"raw videos -> {NUM_FRAMES} pre-sampled frames per video"),
    "build": ("data_prep.commands.build", "frames -> verl parquet datasets (VideoSSR-30K, VIUBench, mix YAML)"),
    "media": ("data_prep.commands.media", "make a dataset folder portable: re-link its frames, --copy them in, migrate old rows"),
    "preview": ("data_prep.commands.preview", "contact sheets + index.html for a built parquet"),
    "demo": ("data_prep.commands.demo", "embedded videos -> frames + datasets (every stage: python -m recipes.videossr.demo)"),
}


def build_parser() -> argparse.ArgumentParser:
    # allow_abbrev=False everywhere: argparse would otherwise take --video for --videos, silently.
    parser = argparse.ArgumentParser(prog="python -m data_prep", description=__doc__.splitlines()[0],
                                     allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        command = importlib.import_module(module)
        sp = sub.add_parser(name, help=help_text, description=(command.__doc__ or help_text).strip(),
                            allow_abbrev=False)
        command.add_arguments(sp)
        sp.set_defaults(_run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(args._run, args)  # user errors: one clear line, no traceback


if __name__ == "__main__":
    sys.exit(main())
