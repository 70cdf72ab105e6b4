"""Checks of one parquet row against the row format of ``data_prep.schema`` (before training starts).

A malformed row otherwise surfaces hours into a run, deep inside a Ray worker, as an assertion in
verl's message builder or a qwen-vl-utils crash with no row number. ``row_problems`` returns plain
sentences; the dataset class prefixes them with the file and row.

>>> row_problems({"data_source": "videossr/jigsaw/n6", "prompt": [], "videos": []}, check_files=False)[:2]
["'prompt' must be a non-empty list of chat messages", "'reward_model' must be a dict with a non-empty 'ground_truth'"]
"""

from __future__ import annotations

import os
from typing import Any, Optional

from data_prep.media import missing_media_hint, resolve_path
from data_prep.schema import EXTRA_INFO_KEYS
from data_prep.tasks.registry import find_task, known_tasks
from rewards.naming import DataSource, parse_data_source

VIDEO_KEYS = ("video", "sample_fps", "max_pixels", "min_pixels")


def _video_problems(k: int, video: Any, check_files: bool, media_root: Optional[str] = None) -> list[str]:
    if not isinstance(video, dict):
        return [f"videos[{k}] must be a dict with keys {VIDEO_KEYS}, got {type(video).__name__}"]
    missing = [key for key in VIDEO_KEYS if video.get(key) is None]
    if missing:
        return [f"videos[{k}] lacks {missing} (a None breaks qwen-vl-utils)"]
    problems = []
    frames = video["video"]
    if not isinstance(frames, (list, tuple)) or not frames or not all(isinstance(f, str) for f in frames):
        problems.append(f"videos[{k}].video must be a non-empty list of frame paths")
    elif check_files:
        # First and last frame of each clip: catches a moved or deleted frames folder cheaply.
        for path in {frames[0], frames[-1]}:
            path = path.removeprefix("file://")
            if media_root is not None:
                path = resolve_path(path, media_root)
            if not os.path.isfile(path):
                hint = f" ({missing_media_hint(path, media_root)})" if media_root is not None else ""
                problems.append(f"videos[{k}] frame file not found: {path}{hint}")
    fps = _number(video["sample_fps"], float)
    if fps is None or not fps > 0:
        problems.append(f"videos[{k}].sample_fps must be a number > 0, got {video['sample_fps']!r}")
    low, high = _number(video["min_pixels"], int), _number(video["max_pixels"], int)
    if low is None or high is None or not 0 < low <= high:
        problems.append(
            f"videos[{k}] needs integers 0 < min_pixels <= max_pixels, "
            f"got {video['min_pixels']!r}, {video['max_pixels']!r}"
        )
    return problems


def _number(value: Any, kind: type) -> Any:
    """``kind(value)``, or None where that raises ("abc", None, a list): a problem to report, not a crash."""
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _truth_problems(source: DataSource, ground_truth: Any, extra_info: Any = None) -> list[str]:
    """What the reward would fail on for this ground truth: checked here, so a bad answer stops the
    start-up instead of a reward worker hours into the run."""
    try:
        task = find_task(source.task, extra_info if isinstance(extra_info, dict) else None)
    except ValueError as exc:  # the row names a task module that does not import
        return [str(exc)]
    if task is None:
        return [f"task {source.task!r} has no reward (registered tasks: {sorted(known_tasks())})"]
    try:
        task.reward.parse_truth(ground_truth, source.subtype)
    except ValueError as exc:
        return [f"reward_model.ground_truth does not parse for the {source.task} reward: {exc}"]
    return []


def row_problems(row: dict[str, Any], check_files: bool = True, media_root: Optional[str] = None) -> list[str]:
    """Everything wrong with ``row`` (empty list = valid). Never raises. Relative frame paths are
    checked against ``media_root`` (``data_prep.media``; None: as they are).

    >>> row_problems({"data_source": "gsm8k"}, check_files=False)[0]
    "data_source 'gsm8k' is not of the form 'videossr/<task>/<subtype>' (rows written by `python -m data_prep build` always are)"
    """
    problems: list[str] = []
    source = None
    try:
        source = parse_data_source(row.get("data_source"))
    except ValueError as exc:
        problems.append(str(exc))
    prompt = row.get("prompt")
    if not isinstance(prompt, (list, tuple)) or not prompt:
        problems.append("'prompt' must be a non-empty list of chat messages")
        prompt = []
    tags = 0
    for i, message in enumerate(prompt):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str) or not message.get("role"):
            problems.append(f"prompt[{i}] must be {{'role': str, 'content': str}}")
            continue
        tags += message["content"].count("<video>")
    reward_model = row.get("reward_model")
    if not isinstance(reward_model, dict) or not str(reward_model.get("ground_truth") or "").strip():
        problems.append("'reward_model' must be a dict with a non-empty 'ground_truth'")
    elif source is not None:
        problems += _truth_problems(source, reward_model["ground_truth"], row.get("extra_info"))
    videos = row.get("videos")
    if not isinstance(videos, (list, tuple)):
        problems.append("'videos' must be a list (one entry per <video> tag)")
        videos = []
    if tags != len(videos):
        problems.append(f"the prompt has {tags} <video> tags but 'videos' has {len(videos)} entries")
    for k, video in enumerate(videos):
        problems += _video_problems(k, video, check_files, media_root)
    extra = row.get("extra_info")
    if not isinstance(extra, dict):
        problems.append("'extra_info' must be a dict")
    else:
        missing = sorted(key for key in EXTRA_INFO_KEYS if extra.get(key) is None)
        if missing:
            problems.append(f"extra_info lacks {missing} (every row needs every key with a value)")
    return problems
