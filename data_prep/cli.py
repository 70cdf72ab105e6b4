"""``python -m data_prep <command>``: one sub-command per pipeline stage.

Each command lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``;
adding a command is one module plus one line in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "synth": ("data_prep.commands.synth", "generate seeded synthetic videos"),
    "frames": ("data_prep.commands.frames", "raw videos -> 48 pre-sampled frames per video"),
    "build": ("data_prep.commands.build", "frames -> verl parquet datasets (VideoSSR-30K, VIUBench, mix YAML)"),
    "preview": ("data_prep.commands.preview", "contact sheets + index.html for a built parquet"),
    "demo": ("data_prep.commands.demo", "run the whole pipeline on the embedded videos"),
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
    try:
        return int(args._run(args) or 0)
    except (FileNotFoundError, ValueError) as exc:  # user errors: one clear line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
