"""One writer per output folder: an exclusive ``flock`` on ``FOLDER/.lock`` for the whole run.

Every stage that writes a folder (``frames --out``, ``build --out``, ``media``) holds its lock from
its first check to its last write, so two runs started on one folder cannot interleave (two
builds replacing each other's sample folders lose frames that their rows name). The second run
is refused at once with the holder's pid and host. The kernel drops the lock when the holder
exits, ``kill -9`` included, so a lock is never stale; the file stays (empty) between runs.
Works on local disks and on NFS (v4, or v3 with lockd), where Linux emulates ``flock`` with
byte-range locks.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with folder_lock(folder, "build"):
...     with folder_lock(folder, "build"):
...         pass
Traceback (most recent call last):
...
data_prep.locks.FolderBusy: another build holds ... (pid ...): wait for it to end, or use another output folder
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Iterator

LOCK_FILE = ".lock"


class FolderBusy(RuntimeError):
    """Another process holds the folder's lock."""


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        info = {}
    what = info.get("what", "run")
    where = f"pid {info['pid']}" if "pid" in info else "pid unknown"
    if info.get("host") and info["host"] != socket.gethostname():
        where += f" on {info['host']}"
    return f"another {what} holds {{folder}} ({where})"


@contextlib.contextmanager
def folder_lock(folder: "os.PathLike[str] | str", what: str) -> Iterator[Path]:
    """Hold ``folder``'s lock (creating the folder) while the block runs; ``FolderBusy`` if taken.

    ``what`` names the holder in the refusal another run gets ("another build holds DIR (pid N)").
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = _holder(fd).format(folder=folder)
            raise FolderBusy(f"{message}: wait for it to end, or use another output folder") from None
        record = json.dumps({"what": what, "pid": os.getpid(), "host": socket.gethostname()})
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        try:
            yield folder
        finally:
            os.ftruncate(fd, 0)  # an empty file between runs: the folder's bytes do not name a pid
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
