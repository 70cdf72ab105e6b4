"""Where a row's frames are: paths relative to the dataset folder, resolved by every reader.

A dataset folder (DATA_DIR, what ``python -m data_prep build --out`` writes) holds everything its
rows point at, so it can be copied, mounted elsewhere or uploaded as an HF dataset::

    DATA_DIR/train.parquet, viubench.parquet, ...   rows: frame paths relative to DATA_DIR
    DATA_DIR/frames/<sample_id>/NNN.jpg              frames a task made (perturbed, drawn on)
    DATA_DIR/source_frames/<video_id>/<tier>/NNN.jpg unchanged frames: a link to the frames folder
                                                     the build read (FRAMES_DIR), or, made
                                                     self-contained (``build --self-contained`` or
                                                     ``python -m data_prep media --copy``), a
                                                     folder of hard links / copies of the frames
                                                     the rows use

A reader resolves a row's paths against its *media root*: the folder of the parquet file it
read, unless told otherwise (``media_root``; verl: ``data.videossr.media_root``). Absolute paths
(rows written before this layout) are used as they are, so old datasets keep loading;
``python -m data_prep media DATA_DIR`` rewrites them to this layout.

A user who never ran ``build``::

    rows = datasets.load_dataset("parquet", data_files="DATA_DIR/viubench.parquet")["train"]
    videos = resolve_videos(rows[0]["videos"], "DATA_DIR")   # absolute frame paths

>>> resolve_videos([{"video": ["frames/s1/000.jpg", "/abs/000.jpg"], "sample_fps": 2.0}], "/data")
[{'video': ['/data/frames/s1/000.jpg', '/abs/000.jpg'], 'sample_fps': 2.0}]
>>> portable_path("/fr/v1/train/000.jpg", "/fr", "/data"), portable_path("/data/frames/s/001.jpg", "/fr", "/data")
('source_frames/v1/train/000.jpg', 'frames/s/001.jpg')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

NEW_FRAMES = "frames"  # DATA_DIR/frames/<sample_id>/: frames a task made
SOURCE_FRAMES = "source_frames"  # DATA_DIR/source_frames/: the frames folder's frames the rows use


def _prefix(folder: "os.PathLike[str] | str") -> str:
    return os.path.join(os.fspath(folder), "")


def _portable(path: str, frames: str, out: str) -> str:
    if path.startswith(out):
        return path[len(out):]
    if path.startswith(frames):
        return SOURCE_FRAMES + "/" + path[len(frames):]
    return path


def portable_path(path: str, frames_dir: "os.PathLike[str] | str", out_dir: "os.PathLike[str] | str") -> str:
    """``path`` (absolute, as a generator wrote it) relative to the dataset folder ``out_dir``.

    Frames of ``frames_dir`` become ``source_frames/...``; frames under ``out_dir`` become relative
    to it; anything else (a fork task's own media outside both) stays absolute.
    """
    return _portable(path, _prefix(frames_dir), _prefix(out_dir))


def portable_videos(videos: Iterable[Mapping[str, Any]], frames_dir, out_dir) -> list[dict[str, Any]]:
    """``videos`` entries with every frame path made :func:`portable_path` (other keys unchanged)."""
    frames, out = _prefix(frames_dir), _prefix(out_dir)
    converted = []
    for video in videos:
        paths = video["video"]
        value = _portable(paths, frames, out) if isinstance(paths, str) else [_portable(p, frames, out) for p in paths]
        converted.append({**video, "video": value})
    return converted


def resolve_path(path: str, media_root: "os.PathLike[str] | str") -> str:
    """An absolute path for a row's ``path``: relative ones are joined to ``media_root``."""
    return path if os.path.isabs(path) else os.path.join(os.fspath(media_root), path)


def resolve_videos(videos: Iterable[Mapping[str, Any]], media_root: "os.PathLike[str] | str") -> list[dict[str, Any]]:
    """A copy of a row's ``videos`` with absolute frame paths (see the module docstring)."""
    root = _prefix(media_root)
    resolved = []
    for video in videos:
        paths = video["video"]
        if isinstance(paths, str):
            value: Any = paths if os.path.isabs(paths) else root + paths
        else:
            value = [p if os.path.isabs(p) else root + p for p in paths]
        resolved.append({**video, "video": value})
    return resolved


def is_portable(videos: Iterable[Mapping[str, Any]]) -> bool:
    """True when no frame path of ``videos`` is absolute (the row moves with its dataset folder)."""
    for video in videos:
        paths = video["video"]
        for p in [paths] if isinstance(paths, str) else paths:
            if os.path.isabs(p):
                return False
    return True


def media_root_of(data_file: "os.PathLike[str] | str", media_root: "Optional[os.PathLike[str] | str]" = None) -> str:
    """The folder a data file's relative frame paths resolve against: ``media_root`` when given,
    else the file's own folder (absolute)."""
    if media_root:
        return os.path.abspath(os.path.expanduser(os.fspath(media_root)))
    return os.path.dirname(os.path.abspath(os.fspath(data_file)))


def missing_media_hint(path: str, media_root: "os.PathLike[str] | str") -> str:
    """Why a resolved frame may be missing, and the one command that fixes it."""
    root = Path(media_root)
    link = root / SOURCE_FRAMES
    if path.startswith(_prefix(link)):
        if link.is_symlink() and not link.exists():
            target = os.readlink(link)
            if not os.path.isabs(target):  # relative: it moved with the dataset folder, not with the frames
                target = f"{target} (= {os.path.normpath(os.path.join(root, target))})"
            return (
                f"{link} links to {target}, which is gone (the frames folder moved): "
                f"python -m data_prep media {root} --frames NEW_FRAMES_DIR (or --copy to make the dataset "
                "self-contained)"
            )
        if not link.exists():
            return (
                f"{root} has no {SOURCE_FRAMES}/ (a dataset folder copied without it?): "
                f"python -m data_prep media {root} --frames FRAMES_DIR"
            )
    return f"relative frame paths resolve against {root}: pass media_root (data.videossr.media_root, --media-root)"
