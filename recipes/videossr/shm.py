"""Shared memory a training run leaves behind: found by a before/after look, removed once unused.

verl and Ray put tensors in ``/dev/shm`` (``psm_*`` segments of multiprocessing's shared memory,
``verl_weights_*`` for the actor -> vLLM weight sync, ``sem.*`` POSIX semaphores). A run that is
killed, or that exits through an error path, never unlinks them: a 2 GiB weight segment stayed after
a failed sync. ``launch/train.sh`` snapshots the folder before the trainer starts and, once the
trainer's process group is gone (however it ended), removes what appeared since then and that no
live process still has open or mapped -- so a second run on the same machine keeps its own.

    python -m recipes.videossr.shm snapshot FILE      # names present now
    python -m recipes.videossr.shm clean FILE         # remove new, unused entries; print what went
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SHM = Path("/dev/shm")


def entries(folder: Path = SHM) -> set[str]:
    try:
        return {p.name for p in folder.iterdir() if p.is_file()}
    except FileNotFoundError:
        return set()


def in_use(folder: Path = SHM) -> set[str]:
    """Names under ``folder`` that some process has open (fd) or mapped (maps)."""
    prefix, used = str(folder) + "/", set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith(prefix):
                    used.add(target[len(prefix):].split(" ", 1)[0])
            for line in (proc / "maps").read_text().splitlines():
                path = line.split(None, 5)[5] if len(line.split(None, 5)) == 6 else ""
                if path.startswith(prefix):
                    used.add(path[len(prefix):].split(" ", 1)[0])
        except (OSError, IndexError):
            continue  # the process ended, or belongs to someone we cannot inspect
    return used


def clean(before: set[str], folder: Path = SHM) -> list[str]:
    """Remove entries that appeared after ``before`` and are unused; return their names."""
    candidates = entries(folder) - before
    if not candidates:
        return []
    removed = []
    for name in sorted(candidates - in_use(folder)):
        try:
            (folder / name).unlink()
            removed.append(name)
        except FileNotFoundError:
            continue
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.videossr.shm", allow_abbrev=False,
                                     description="shared memory left behind by a run")
    parser.add_argument("action", choices=("snapshot", "clean"))
    parser.add_argument("file", type=Path, help="the snapshot file")
    parser.add_argument("--folder", type=Path, default=SHM, help="default /dev/shm")
    args = parser.parse_args(argv)
    if args.action == "snapshot":
        args.file.write_text("".join(f"{n}\n" for n in sorted(entries(args.folder))))
        return 0
    try:
        before = set(args.file.read_text().split())
    except FileNotFoundError:
        print(f"shm: error: no snapshot {args.file}", file=sys.stderr)
        return 2
    removed = clean(before, args.folder)
    if removed:
        print(f"removed {len(removed)} shared-memory entries the run left in {args.folder}: {' '.join(removed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
