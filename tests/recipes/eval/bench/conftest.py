"""Fixtures of the downstream benchmark tests: a release folder, short real videos, JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_prep.synthetic import SynthSpec, write_video

TINY = SynthSpec(width=64, height=48, fps=4, seconds=2.0, num_objects=1)


@pytest.fixture
def release_root(tmp_path) -> Path:
    """An empty folder standing for the user's download of one benchmark."""
    root = tmp_path / "release"
    root.mkdir()
    return root


@pytest.fixture
def make_video():
    """``make_video(path, seed=0)``: a real H.264 file (2 s, 64x48, 4 fps) at ``path``, parents created."""

    def make(path, seed: int = 0, spec: SynthSpec = TINY) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_video(path, spec, seed)

    return make


@pytest.fixture
def write_json():
    """``write_json(path, data)``: the release's JSON file at ``path``, parents created."""

    def write(path, data) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1))
        return path

    return write
