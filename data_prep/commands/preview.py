"""Contact sheets of a built dataset: one image per sample and an index.html gallery.

Example: python -m data_prep preview --data DATA_DIR/viubench.parquet --out DATA_DIR/preview/viubench
"""

from __future__ import annotations

import argparse

from pathlib import Path

from data_prep.commands import positive_int
from data_prep.preview import write_previews


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data", required=True, metavar="FILE.parquet|DIR",
        help="a parquet written by `data_prep build`, or its dataset folder if it holds one parquet"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the sheets and index.html")
    p.add_argument("--limit", type=positive_int, default=None, help="only the first N rows (default: all)")


def parquet_of(data: str) -> Path:
    """``data`` itself, or the one parquet of a dataset folder (several: an error naming them)."""
    path = Path(data).expanduser()
    if path.is_dir():
        found = sorted(path.glob("*.parquet"))
        if len(found) != 1:
            names = ", ".join(p.name for p in found) or "no *.parquet"
            raise ValueError(f"--data {data} is a folder holding {names}: pass one parquet file, e.g. "
                             f"--data {path / (found[0].name if found else 'viubench.parquet')}")
        return found[0]
    if not path.is_file():
        raise FileNotFoundError(f"--data {data}: no such parquet file")
    return path


def run(args: argparse.Namespace) -> int:
    """Write the previews of ``args.data`` into ``args.out`` (see ``data_prep.preview``)."""
    index = write_previews(parquet_of(args.data), args.out, limit=args.limit)
    print(f"preview: {index}")
    return 0
