"""Make a dataset folder portable: where its rows' unchanged frames come from.

Examples:
  python -m data_prep media DATA_DIR                         # migrate old rows (absolute paths), check the link
  python -m data_prep media DATA_DIR --frames NEW_FRAMES_DIR # the frames folder moved: re-link it
  python -m data_prep media DATA_DIR --copy                  # self-contained: copy the used frames in
  python -m data_prep media DATA_DIR --check                 # every frame of every row on disk? (read-only)
Rows name frames relative to DATA_DIR; DATA_DIR/source_frames links to the frames folder the build
read, or (--copy, build --self-contained) holds hard links / copies of the frames the rows use.
"""

from __future__ import annotations

import argparse

import sys

from data_prep.portable import check_frames, relocate


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA_DIR", help="dataset folder written by `data_prep build`")
    p.add_argument(
        "--frames",
        metavar="FRAMES_DIR",
        default=None,
        help="the frames folder to link (or copy from); default: where source_frames links now, else the "
        "folder the builds recorded",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--copy",
        action="store_true",
        help="make DATA_DIR self-contained: hard links (a copy across file systems) of the frames its rows use",
    )
    mode.add_argument(
        "--check",
        action="store_true",
        help="only check, changing nothing: look up every frame file of every row (exit 1 if any is missing)",
    )


def run(args: argparse.Namespace) -> int:
    if args.check:
        if args.frames is not None:
            raise ValueError("--check reads the folder as it is: re-link with --frames first, then check")
        report = check_frames(args.data)
        print(report, file=sys.stdout if report.ok else sys.stderr)
        return 0 if report.ok else 1
    print(relocate(args.data, args.frames, copy=args.copy))
    return 0
