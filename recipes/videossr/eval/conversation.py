"""Turn a verl parquet row (``data_prep/schema.py``) into the chat conversation a backend receives.

Same rule as verl's ``RLHFDataset._build_messages``: the k-th ``<video>`` tag in the text becomes
the k-th entry of ``videos`` as ``{"type": "video", **video}``, so the evaluation prompt is the
training prompt. ``overrides`` replaces video keys (e.g. ``max_pixels``) for every clip.

>>> row = {"prompt": [{"role": "user", "content": "<video>\\nHow many?"}],
...        "videos": [{"video": ["f0.jpg", "f1.jpg"], "sample_fps": 2.0}]}
>>> build_conversation(row)[0]["content"][0]["type"]
'video'
>>> build_conversation(row, {"max_pixels": 1024})[0]["content"][0]["max_pixels"]
1024
"""

from __future__ import annotations

import re
from typing import Any

_TAG = re.compile(r"(<video>)")


def _plain(value: Any) -> Any:
    """numpy arrays / tuples from a parquet read -> plain lists (qwen-vl-utils wants lists)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def build_conversation(row: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    videos = [{k: _plain(v) for k, v in dict(video).items()} for video in _plain_list(row.get("videos"))]
    used = 0
    messages = []
    for message in _plain_list(row["prompt"]):
        content = message["content"]
        parts: list[dict[str, Any]] = []
        for segment in (s for s in _TAG.split(content) if s):
            if segment == "<video>":
                if used >= len(videos):
                    raise ValueError(f"more <video> tags than videos ({len(videos)})")
                parts.append({"type": "video", **videos[used], **(overrides or {})})
                used += 1
            else:
                parts.append({"type": "text", "text": segment})
        messages.append({"role": message["role"], "content": parts if videos else content})
    if used != len(videos):
        raise ValueError(f"{used} <video> tags for {len(videos)} videos")
    return messages


def _plain_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value.tolist() if hasattr(value, "tolist") else value)


def media_files(row: dict[str, Any]) -> list[str]:
    """Every file the row's videos point at (frame paths, or the video file itself).

    >>> media_files({"videos": [{"video": ["a.jpg", "b.jpg"]}, {"video": "c.mp4"}]})
    ['a.jpg', 'b.jpg', 'c.mp4']
    """
    files: list[str] = []
    for video in _plain_list(row.get("videos")):
        source = _plain(dict(video)["video"])
        files += [str(f) for f in source] if isinstance(source, list) else [str(source)]
    return files


def user_text(row: dict[str, Any]) -> str:
    """The user turn's text (``<video>`` tags kept), for the per-sample record."""
    users = [m["content"] for m in _plain_list(row["prompt"]) if m["role"] == "user"]
    return "\n".join(users)
