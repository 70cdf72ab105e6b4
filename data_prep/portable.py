"""Dataset folders that move: the ``source_frames`` link, self-contained copies, old-row migration.

``python -m data_prep media DATA_DIR [--frames FRAMES_DIR] [--copy]`` (``data_prep.commands.media``)::

    DATA_DIR/source_frames -> FRAMES_DIR     default: a symbolic link to the frames folder the builds read,
                                             relative (``../frames``) when both folders share a parent
                                             folder (not ``/``) on one file system, so a project folder
                                             holding both moves as one; absolute otherwise
    DATA_DIR/source_frames/<video>/<tier>/   --copy / build --self-contained: hard links (a copy across
                                             file systems) of exactly the frames the rows use

Rows name frames relative to DATA_DIR (``data_prep.media``), so after ``--copy`` the folder holds
everything: copy it, mount it, or upload it as an HF dataset. Rows written before this layout
(absolute paths) are rewritten to it, using the frames folder each build recorded.
``python -m data_prep media DATA_DIR --check`` looks for every frame file of every row (read-only).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from data_prep.media import SOURCE_FRAMES, is_portable, portable_videos

PARTIAL_COPY = ".source_frames.partial"


@dataclass
class MediaReport:
    link: str = ""  # the frames folder source_frames links to ("" when self-contained)
    copied: int = 0  # frame files hard-linked or copied into DATA_DIR/source_frames in this run
    linked_files: int = 0  # ... of which hard links (the rest are copies)
    rewritten: list[str] = field(default_factory=list)  # parquet files whose rows moved to relative paths

    def __str__(self) -> str:
        where = f"source_frames -> {self.link}" if self.link else f"source_frames: self-contained ({self.copied} new frame " \
            f"files, {self.linked_files} hard links, {self.copied - self.linked_files} copies)"
        moved = f"; rewrote {', '.join(self.rewritten)} to relative frame paths" if self.rewritten else ""
        return where + moved


def _source_paths(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The ``source_frames/...`` paths the rows use, sorted, each once."""
    prefix = SOURCE_FRAMES + "/"
    return sorted({p for row in rows for video in row["videos"] for p in _paths(video) if p.startswith(prefix)})


def _paths(video: dict[str, Any]) -> list[str]:
    return [video["video"]] if isinstance(video["video"], str) else list(video["video"])


def is_self_contained(data_dir: Path) -> bool:
    link = Path(data_dir) / SOURCE_FRAMES
    return link.is_dir() and not link.is_symlink()


def attach_source_frames(data_dir: Path, frames: Path, rows: list[dict[str, Any]], copy: bool = False) -> MediaReport:
    """Make ``DATA_DIR/source_frames`` give ``frames``'s frames to ``rows`` (a build's last step).

    A link is made once and then only checked: a dataset folder reads one frames folder. In a
    self-contained folder (or with ``copy``) the rows' frames are hard-linked or copied in.
    """
    data_dir, frames = Path(data_dir), Path(frames).resolve()
    check_attachable(data_dir, frames)
    if copy or is_self_contained(data_dir):
        return _copy_in(data_dir, frames, _source_paths(rows))
    link = data_dir / SOURCE_FRAMES
    if not link.is_symlink():
        _symlink_atomic(frames, link)
    return MediaReport(link=str(frames))


def link_target(link: Path) -> Path:
    """Where the ``source_frames`` link points, as an absolute path (a relative link resolves
    against the dataset folder); the target need not exist."""
    return Path(os.path.realpath(link))


def link_text(target: Path, link: Path) -> str:
    """What ``link`` should hold to reach ``target``: a relative path when both live under a common
    folder other than ``/`` on one file system (a project folder moved or copied as a whole keeps
    working), else the absolute path (the dataset folder alone can move).

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "frames").mkdir(); (root / "data").mkdir()
    >>> link_text(root / "frames", root / "data" / "source_frames")
    '../frames'
    """
    target, folder = Path(target).resolve(), Path(link).parent.resolve()
    common = Path(os.path.commonpath([target, folder]))
    try:
        same_fs = os.stat(target).st_dev == os.stat(folder).st_dev
    except OSError:
        same_fs = False
    if common == Path(common.anchor) or not same_fs:
        return str(target)
    return os.path.relpath(target, folder)


def check_attachable(data_dir: Path, frames: Path) -> None:
    """Raise ``ValueError`` before a build whose frames folder is not the one ``data_dir`` links."""
    link = Path(data_dir) / SOURCE_FRAMES
    if link.is_symlink():
        target = link_target(link)
        if target != Path(frames).resolve():
            raise ValueError(
                f"{link} links to {target}, but this build reads {frames}: one dataset folder reads one frames "
                f"folder (choose another --out; if the frames moved: python -m data_prep media {data_dir} --frames {frames})"
            )
    elif link.exists() and not link.is_dir():
        raise ValueError(f"{link} exists and is not a frames folder or link: move it away (the builds use this name)")


def _symlink_atomic(target: Path, link: Path) -> None:
    tmp = link.with_name(f".{link.name}.tmp{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(link_text(target, link), tmp, target_is_directory=True)
    os.replace(tmp, link)


def _copy_in(data_dir: Path, frames: Path, paths: list[str]) -> MediaReport:
    """Hard-link (else copy) ``frames/<rel>`` for each ``source_frames/<rel>`` into a real folder.

    Resumable and atomic per step: files go to ``.source_frames.partial`` first (skipped when already
    there), then that folder replaces the link with one rename; into an existing self-contained
    folder each file is placed with a rename.
    """
    link = data_dir / SOURCE_FRAMES
    into_place = is_self_contained(data_dir)
    staging = link if into_place else data_dir / PARTIAL_COPY
    report = MediaReport()
    cut = len(SOURCE_FRAMES) + 1
    for path in paths:
        rel = path[cut:]
        dst = staging / rel
        if dst.exists():
            continue
        src = frames / rel
        if not src.is_file():
            raise FileNotFoundError(f"{src} (a frame the rows use) is missing: is {frames} the frames folder they were built from?")
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}")
        try:
            os.link(src, tmp)
            report.linked_files += 1
        except OSError:  # another file system, or links not allowed: a byte copy
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
        report.copied += 1
    if not into_place:
        staging.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            raise ValueError(f"{link} exists and is not a frames link: move it away (the builds use this name)")
        os.replace(staging, link)
    return report


def _build_records(data_dir: Path) -> dict[str, dict[str, Any]]:
    """stem -> the build's recorded config (``<stem>.build.json``)."""
    return {p.name[: -len(".build.json")]: json.loads(p.read_text()).get("config", {})
            for p in sorted(data_dir.glob("*.build.json"))}


def _stem_of(parquet: Path, stems: Iterable[str]) -> Optional[str]:
    name = parquet.stem
    for stem in sorted(stems, key=len, reverse=True):
        if name == stem or name == f"{stem}_val":
            return stem
    return None


def recorded_frames_dir(data_dir: Path) -> Optional[Path]:
    """The one frames folder the folder's builds recorded; None if none; ValueError if several."""
    dirs = {cfg["frames_dir"] for cfg in _build_records(Path(data_dir)).values() if cfg.get("frames_dir")}
    if len(dirs) > 1:
        raise ValueError(f"{data_dir}: its builds read several frames folders {sorted(dirs)}; pass --frames")
    return Path(dirs.pop()) if dirs else None


def migrate_rows(data_dir: Path) -> list[str]:
    """Rewrite every parquet of ``data_dir`` whose rows hold absolute frame paths to relative ones.

    Each file's frames folder is the one its build recorded. Returns the rewritten file names.
    """
    from data_prep.build import read_rows, write_parquet  # the data layer's parquet I/O

    data_dir = Path(data_dir).resolve()
    records = _build_records(data_dir)
    rewritten = []
    for parquet in sorted(data_dir.glob("*.parquet")):
        rows = read_rows(parquet)
        if all(is_portable(row["videos"]) for row in rows):
            continue
        stem = _stem_of(parquet, records)
        frames = records.get(stem, {}).get("frames_dir") if stem else None
        if not frames:
            raise ValueError(f"{parquet}: rows with absolute frame paths and no <stem>.build.json naming their frames folder")
        for row in rows:
            row["videos"] = portable_videos(row["videos"], frames, data_dir)
        write_parquet(rows, parquet)
        rewritten.append(parquet.name)
    return rewritten


def all_rows(data_dir: Path) -> list[dict[str, Any]]:
    from data_prep.build import read_rows

    return [row for parquet in sorted(Path(data_dir).glob("*.parquet")) for row in read_rows(parquet)]


def _dataset_dir(data_dir: "os.PathLike[str] | str") -> Path:
    data_dir = Path(data_dir).expanduser().resolve()
    if not data_dir.is_dir() or not any(data_dir.glob("*.parquet")):
        raise FileNotFoundError(f"no dataset (*.parquet) in {data_dir}")
    return data_dir


@dataclass
class CheckReport:
    """What ``check_frames`` found: every frame path of every row, looked up on disk."""

    data_dir: Path
    rows: int = 0
    frames: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)  # parquet name -> missing paths (as stored)
    bad_rows: dict[str, list[int]] = field(default_factory=dict)  # parquet name -> rows with a missing frame
    stems: dict[str, str] = field(default_factory=dict)  # parquet name -> the build that wrote it

    @property
    def ok(self) -> bool:
        return not self.missing

    def __str__(self) -> str:
        if self.ok:
            return f"{self.data_dir}: all {self.frames} frame files of {self.rows} rows are there"
        lost = sum(len(v) for v in self.missing.values())
        rows = sum(len(v) for v in self.bad_rows.values())
        lines = [f"{self.data_dir}: {lost} of {self.frames} frame files missing, in {rows} of {self.rows} rows:"]
        for name, paths in self.missing.items():
            shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
            lines.append(f"  {name}: rows {_ranges(self.bad_rows[name])}: {shown}")
        from data_prep.media import NEW_FRAMES, missing_media_hint, resolve_path

        paths = [p for found in self.missing.values() for p in found]
        linked = [p for p in paths if p.startswith(SOURCE_FRAMES + "/")]
        if linked:
            lines.append("fix: " + missing_media_hint(resolve_path(linked[0], self.data_dir), self.data_dir))
        if any(p.startswith(NEW_FRAMES + "/") for p in paths):
            stems = sorted({self.stems.get(name, Path(name).stem) for name, found in self.missing.items()
                            if any(p.startswith(NEW_FRAMES + "/") for p in found)})
            files = ", ".join(f"{self.data_dir / stem}.rows.jsonl" for stem in stems)
            lines.append(f"fix: frames the build wrote (frames/<sample_id>/): delete {files} and run the same "
                         "build command again (same seed, same bytes)")
        elif not linked:
            lines.append("fix: " + missing_media_hint(resolve_path(paths[0], self.data_dir), self.data_dir))
        return "\n".join(lines)


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3, 7"``.

    >>> _ranges([1, 2, 3, 7])
    '1-3, 7'
    """
    parts, start = [], None
    for k, n in enumerate(numbers):
        if start is None:
            start = n
        if k + 1 == len(numbers) or numbers[k + 1] != n + 1:
            parts.append(str(start) if start == n else f"{start}-{n}")
            start = None
    return ", ".join(parts)


def check_frames(data_dir: "os.PathLike[str] | str") -> CheckReport:
    """Look up every frame file of every row of every parquet in ``data_dir`` (read-only).

    A reader's row check opens a clip's first and last frames only; this finds any missing frame
    (a build interrupted by a crash of the file system, a partial copy, a pruned frames folder).
    """
    from data_prep.build import read_rows
    from data_prep.media import resolve_path

    data_dir = _dataset_dir(data_dir)
    report = CheckReport(data_dir)
    exists: dict[str, bool] = {}
    builds = _build_records(data_dir)
    for parquet in sorted(data_dir.glob("*.parquet")):
        report.stems[parquet.name] = _stem_of(parquet, builds) or parquet.stem
        for k, row in enumerate(read_rows(parquet)):
            report.rows += 1
            for video in row["videos"]:
                for path in _paths(video):
                    report.frames += 1
                    if path not in exists:
                        exists[path] = os.path.isfile(resolve_path(path, data_dir))
                    if not exists[path]:
                        report.missing.setdefault(parquet.name, []).append(path)
                        rows = report.bad_rows.setdefault(parquet.name, [])
                        if not rows or rows[-1] != k:
                            rows.append(k)
    return report


def relocate(data_dir: "os.PathLike[str] | str", frames: "Optional[os.PathLike[str] | str]" = None,
             copy: bool = False) -> MediaReport:
    """``python -m data_prep media``: migrate old rows, then (re)link ``source_frames`` to ``frames``
    (default: where it links now, else the frames folder the builds recorded), or make the folder
    self-contained (``copy``). Rewrites the dataset card. Holds the folder's lock (``data_prep.locks``)."""
    from data_prep.locks import folder_lock

    data_dir = _dataset_dir(data_dir)
    with folder_lock(data_dir, "media run"):
        return _relocate_locked(data_dir, frames, copy)


def _relocate_locked(data_dir: Path, frames: "Optional[os.PathLike[str] | str]", copy: bool) -> MediaReport:
    link = data_dir / SOURCE_FRAMES
    rewritten = migrate_rows(data_dir)
    rows = all_rows(data_dir)
    needed = _source_paths(rows)
    if frames is None and link.is_symlink():
        frames = link_target(link)
    if frames is None and not is_self_contained(data_dir):
        frames = recorded_frames_dir(data_dir)
    if frames is None and not is_self_contained(data_dir):
        raise ValueError(f"{data_dir}: no frames folder known; pass --frames FRAMES_DIR")
    if frames is not None:
        frames = Path(frames).expanduser().resolve()
        missing = [p for p in needed[:1] + needed[-1:] if not (frames / p[len(SOURCE_FRAMES) + 1:]).is_file()]
        if missing:
            raise FileNotFoundError(f"{frames} lacks {missing[0][len(SOURCE_FRAMES) + 1:]}: not the frames folder these rows use")
    if copy or is_self_contained(data_dir):
        if frames is None:  # already self-contained: every frame the rows use must be in it
            absent = [p for p in needed if not (data_dir / p).is_file()]
            if absent:
                raise FileNotFoundError(f"{data_dir / absent[0]} is missing ({len(absent)} frames in all): pass "
                                        "--frames FRAMES_DIR to bring them in")
            report = MediaReport()
        else:
            report = _copy_in(data_dir, frames, needed)
    else:
        _symlink_atomic(frames, link)
        report = MediaReport(link=str(frames))
    report.rewritten = rewritten
    from data_prep.card import write_card

    write_card(data_dir)
    return report
