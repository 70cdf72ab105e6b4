"""Crash-safe JSONL files: appended line by line while a job runs, canonicalised when it ends.

A line becomes visible only once it is complete (one ``write`` of the whole line + fsync); a run
killed mid-write leaves at most one partial last line, which ``read_records`` drops and truncates
away, so the record is simply redone on resume. ``rewrite_sorted`` replaces the file atomically
with its records sorted by key, so the finished file does not depend on completion order.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def read_records(path: Path, repair: bool = True) -> list[dict[str, Any]]:
    """Complete records of ``path`` (empty if missing); a torn last line is dropped."""
    if not path.exists():
        return []
    data = path.read_bytes()
    good_end = data.rfind(b"\n") + 1
    if good_end < len(data) and repair:
        with open(path, "r+b") as fh:
            fh.truncate(good_end)
    records = []
    for n, line in enumerate(data[:good_end].splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: corrupt JSON line ({exc}); delete the line to redo it") from None
    return records


class JsonlAppender:
    """Append complete, durable lines to a JSONL file."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "ab")

    def append(self, record: dict[str, Any]) -> None:
        self._fh.write((dumps(record) + "\n").encode("utf-8"))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "JsonlAppender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def recorded_json(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON already recorded at ``path``; if there is none, record ``data`` there first.

    How a resumable job binds its output folder to the options it was started with: the caller
    compares the returned value with what it wants now (``data`` itself on a first run, after a
    JSON round trip, so tuples compare as the lists they are stored as).
    """
    if path.exists():
        return json.loads(path.read_text())
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
    return json.loads(dumps(data))


def rewrite_sorted(path: Path, records: Iterable[dict[str, Any]], key: str) -> None:
    """Atomically replace ``path`` with ``records`` sorted by ``record[key]`` (last one wins)."""
    unique = {r[key]: r for r in records}
    text = "".join(dumps(unique[k]) + "\n" for k in sorted(unique))
    write_atomic(path, text.encode("utf-8"))
