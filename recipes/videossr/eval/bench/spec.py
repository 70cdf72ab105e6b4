"""What a downstream benchmark is: a declaration (files, fields, prompt, parser, metric, subset rule).

A benchmark module builds one ``Benchmark`` and is registered by one line in ``registry.py``; the
runner, the tables and the CLI need nothing else. ``load(root)`` reads the release exactly as a user
downloads it and returns ``Item`` objects: the question with its options written in
(``protocol.with_options``), the answer in the form its kind scores, and the video path(s).

Kinds and what ``Item.answer`` holds:

  mc     the character the output's first character must equal (an option letter; ``"Y"``/``"N"``)
  tg     ``(start, end)`` in seconds
  order  the true order, a list of 1-based clip numbers (VCRBench); the benchmark brings its own
         prompt, scorer and summary

>>> item = Item(id="q1", videos=("a.mp4",), question="Q?\\nA. x\\nB. y", answer="B")
>>> item.group, item.pair
('', '')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

DOMAINS = ("General Video QA", "Long Video QA", "Temporal Grounding", "Complex Reasoning")
KINDS = ("mc", "tg", "order")
TABLE_OF_DOMAIN = {"General Video QA": 2, "Long Video QA": 2, "Temporal Grounding": 3, "Complex Reasoning": 3}


class ReleaseNotFound(FileNotFoundError):
    """``--root`` does not hold the release the adapter reads (one line: what is missing, what to get)."""


@dataclass(frozen=True)
class Item:
    id: str  # unique within the benchmark: the resume key
    videos: tuple[str, ...]  # video files (absolute, or relative to --root); several for CVBench
    question: str  # the text the protocol's template wraps: options already written in
    answer: Any  # see the kinds above
    group: str = ""  # subset / task type: a per-group breakdown in summary.json
    pair: str = ""  # items scored together (VinoGround's text pairs)
    clip: dict[str, Any] = field(default_factory=dict)  # extra qwen-vl-utils video keys (video_start, ...)
    meta: dict[str, Any] = field(default_factory=dict)  # recorded with the answer (duration, ...)


@dataclass(frozen=True)
class Benchmark:
    name: str  # command-line name: python -m recipes.videossr.eval bench NAME
    title: str  # column header in Tables 2-3
    domain: str  # one of DOMAINS
    kind: str  # one of KINDS
    release: str  # what to download (hub id / repository, version)
    split: str  # which split / subset the adapter reads
    layout: str  # the files under --root, as downloaded (shown when something is missing)
    load: Callable[[Path], list[Item]]  # root -> items; raises ReleaseNotFound for a wrong folder
    rule: str  # the benchmark rules applied (subset, answer mapping, pairing), one line
    source: str  # where those rules come from
    metric: str = ""  # headline key of the summary; default per kind (accuracy / mIoU / ...)
    prompt: Callable[[Item], str] | None = None  # default per kind (protocol templates)
    score: Callable[[Item, str], Any] | None = None  # (item, output) -> runner.Scored; default per kind
    summarize: Callable[[list[dict[str, Any]]], dict[str, float]] | None = None  # records -> metrics
    paper_excludes: Sequence[str] = ("error", "missing_video", "unparsable")  # released code's drops
    max_new_tokens: int | None = None  # None: the protocol's 128
    lmms_task: str = ""  # lmms-eval 0.7.3 task, "" if none
    lmms_note: str = ""  # what still differs from the paper's protocol there

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"{self.name}: domain must be one of {DOMAINS}, got {self.domain!r}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "order" and not (self.prompt and self.score and self.summarize and self.metric):
            raise ValueError(f"{self.name}: an 'order' benchmark brings its own prompt, score, summarize and metric")

    @property
    def table(self) -> int:
        """The paper's table (2 or 3) this benchmark is a column of."""
        return TABLE_OF_DOMAIN[self.domain]


def require(root: Path, *relative: str, what: str) -> list[Path]:
    """The given files/folders under ``root``; ``ReleaseNotFound`` naming the first missing one.

    ``what`` says which release to download (``Benchmark.release``), so the one line is the fix.
    """
    root = Path(root)
    if not root.is_dir():
        raise ReleaseNotFound(f"--root {root}: no such folder ({what})")
    paths = [root / r for r in relative]
    for r, p in zip(relative, paths):
        if not p.exists():
            raise ReleaseNotFound(f"--root {root}: missing {r} ({what})")
    return paths


def read_json(path: Path, kind: type, expected: str) -> Any:
    """A release's JSON file as ``kind`` (list / dict); ValueError naming the file when it is not JSON
    or holds something else (``expected`` says what it should hold)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, kind):
        raise ValueError(f"{path}: expected {expected}")
    return data


def read_parquet(path: Path, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The given columns of a release's parquet file as rows; ValueError naming the file when it is
    unreadable or lacks a column."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # noqa: BLE001 -- pyarrow raises several types for a damaged file
        raise ValueError(f"{path}: not a readable parquet file ({exc})") from None
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    return pq.read_table(path, columns=list(columns)).to_pylist()
