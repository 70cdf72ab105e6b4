"""Load downstream items and find their videos.

Accepted input: a JSON list or a JSONL file of ``{"video": id, "question": ..., "answer": ...}``
(an optional ``"id"`` names the item; otherwise its position does). The format is detected from
the answers: option letters -> ``mc``, intervals in seconds -> ``tg``; a file mixing both is an
error naming the first item that disagrees.

>>> detect_kind([{"answer": "B"}, {"answer": "(A) two"}])
'mc'
>>> detect_kind([{"answer": [1.0, 4.5]}])
'tg'
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from recipes.videossr.eval.downstream.parsing import parse_answer_interval, parse_answer_letter

KINDS = ("mc", "tg")
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v")


def load_items(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Items of a JSON list / JSONL file; each must have video, question and answer."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        items = json.loads(text)
        if isinstance(items, dict):
            items = [items]
    except json.JSONDecodeError:
        items = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc})") from None
    for k, item in enumerate(items):
        missing = [key for key in ("video", "question", "answer") if key not in item]
        if missing:
            raise ValueError(f"{path}: item {k} lacks {', '.join(missing)}")
    return items


def _item_kind(item: dict[str, Any]) -> str | None:
    for kind, check in (("tg", parse_answer_interval), ("mc", parse_answer_letter)):
        try:
            check(item["answer"])
            return kind
        except (TypeError, ValueError):
            pass
    return None


def detect_kind(items: list[dict[str, Any]]) -> str:
    """``mc`` or ``tg`` for a whole file; ValueError naming the first item that does not fit."""
    first = None
    for k, item in enumerate(items):
        kind = _item_kind(item)
        if kind is None:
            raise ValueError(f"item {k}: answer {item['answer']!r} is neither an option letter nor an interval")
        first = first or kind
        if kind != first:
            raise ValueError(f"item {k}: a {kind} answer in a {first} file; give --kind or split the file")
    if first is None:
        raise ValueError("no items")
    return first


def resolve_video(video_id: str, video_dir: str | os.PathLike | None) -> str:
    """The video file for ``video_id``: as given, or under ``video_dir`` with a known extension.

    Returns the best candidate path even if it does not exist (the runner records it missing).
    """
    candidates = [Path(video_id)] if video_dir is None else [Path(video_dir) / video_id]
    if not Path(video_id).suffix:
        candidates += [c.with_name(c.name + ext) for c in list(candidates) for ext in VIDEO_EXTENSIONS]
    for c in candidates:
        if c.is_file():
            return str(c)
    return str(candidates[0])
