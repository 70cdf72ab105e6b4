"""Find the videos under the input folders and give each a stable, unique id.

The id must not depend on the machine (no absolute paths), must survive unicode and nested
folders, and must differ for ``a/clip.mp4`` and ``b/clip.mp4``: a readable ASCII slug of the
path relative to its input folder, plus a short hash of ``<input folder name>/<relative path>``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".3gp", ".gif"}
)
_SLUG_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_SLUG = 60


@dataclass(frozen=True)
class SourceVideo:
    video_id: str
    path: Path  # absolute path of the file
    key: str  # "<input folder name>/<relative posix path>": what the id is derived from


def video_id_for(key: str) -> str:
    """Stable id for a source key such as ``"kinetics/abseiling/x.mp4"``.

    >>> video_id_for("demo/bikes.mp4")
    'demo_bikes-6eb3236353'
    """
    stem = key.rsplit(".", 1)[0] if "." in key.rsplit("/", 1)[-1] else key
    slug = _SLUG_CHARS.sub("_", stem.replace("/", "_")).strip("._-") or "video"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]
    return f"{slug[:_MAX_SLUG]}-{digest}"


def discover_videos(roots: list[str | os.PathLike]) -> list[SourceVideo]:
    """All files with a video extension under ``roots`` (recursively), sorted by key.

    A root may also be a single video file. Raises ``FileNotFoundError`` for a missing root and
    ``ValueError`` when two inputs would get the same key (same folder name and relative path).
    """
    found: dict[str, SourceVideo] = {}
    for root in roots:
        root = Path(root).expanduser().resolve()
        if not root.exists():
            raise FileNotFoundError(f"input {root} does not exist")
        if root.is_file():
            candidates = [(root, root.name)]
        else:
            candidates = [
                (p, f"{root.name}/{p.relative_to(root).as_posix()}")
                for p in sorted(root.rglob("*"))
                if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
            ]
        for path, key in candidates:
            if key in found and found[key].path != path:
                raise ValueError(
                    f"two inputs map to the same video key {key!r}: {found[key].path} and {path}; "
                    "pass folders with different names"
                )
            found[key] = SourceVideo(video_id_for(key), path, key)
    return [found[k] for k in sorted(found)]
