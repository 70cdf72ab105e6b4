"""``python -m recipes.videossr.cpu --exports``: the shell lines launch/train.sh evaluates for DEVICE=cpu."""

from __future__ import annotations

import argparse
import shlex
import sys

from recipes.videossr.cpu import ENVIRONMENT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.videossr.cpu", allow_abbrev=False,
                                     description="the environment of the CPU training mode")
    parser.add_argument("--exports", action="store_true", required=True,
                        help="print `export NAME=VALUE` lines for a shell")
    parser.parse_args(argv)
    import recipes.videossr.cpu.platform  # noqa: F401  (fails here, clearly, where verl cannot load it)

    for name, value in ENVIRONMENT.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
