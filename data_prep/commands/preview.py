"""Contact sheets of a built dataset: one image per sample and an index.html gallery.

Example: python -m data_prep preview --data DATA_DIR/viubench.parquet --out DATA_DIR/preview/viubench
"""

from __future__ import annotations

import argparse

from data_prep.preview import write_previews


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data", required=True, metavar="FILE.parquet", help="a parquet written by `data_prep build`"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the sheets and index.html")
    p.add_argument("--limit", type=int, default=None, help="only the first N rows (default: all)")


def run(args: argparse.Namespace) -> int:
    """Write the previews of ``args.data`` into ``args.out`` (see ``data_prep.preview``)."""
    index = write_previews(args.data, args.out, limit=args.limit)
    print(f"preview: {index}")
    return 0
