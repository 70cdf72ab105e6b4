"""Shared fixtures: small real inputs built once per test session (embedded + synthetic videos)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from data_prep.build import build_dataset
from data_prep.embedded import embedded_videos
from data_prep.frames import FrameOptions, extract_frames
from data_prep.synthetic import SynthSpec, write_corpus
from recipes.videossr.tiny_models import build_tiny_model

# Small and short so the whole suite stays fast on 2 cores; still real H.264.
TEST_SYNTH_SPEC = SynthSpec(width=160, height=120, fps=24, seconds=2.5)


@pytest.fixture(scope="session")
def synthetic_videos(tmp_path_factory) -> Path:
    """A folder of 12 seeded synthetic videos (160x120, 60 frames each)."""
    folder = tmp_path_factory.mktemp("synthetic") / "synth"
    write_corpus(folder, 12, seed=7, spec=TEST_SYNTH_SPEC)
    return folder


@pytest.fixture(scope="session")
def frames_dir(tmp_path_factory, synthetic_videos) -> Path:
    """Frames folder of the embedded real clips + the synthetic videos, every tier for every video
    (``--all-tiers``: tests read either tier of any video, and build with other fractions). Read-only!"""
    out = tmp_path_factory.mktemp("frames") / "frames"
    sources = [str(p) for p in embedded_videos()] + [str(synthetic_videos)]
    summary = extract_frames(sources, out, FrameOptions(eval_fraction=None), progress=False)
    assert summary.ok == 15, summary
    return out


@pytest.fixture(scope="session")
def tiny_qwen25vl_dir(tmp_path_factory) -> Path:
    """A tiny random Qwen2.5-VL checkpoint (real processor classes, local tokenizer). Read-only!"""
    return build_tiny_model("qwen2_5_vl", tmp_path_factory.mktemp("tiny") / "qwen2_5_vl")


@pytest.fixture(scope="session")
def tiny_qwen3vl_dir(tmp_path_factory) -> Path:
    """A tiny random Qwen3-VL checkpoint (real processor classes, local tokenizer). Read-only!"""
    return build_tiny_model("qwen3_vl", tmp_path_factory.mktemp("tiny") / "qwen3_vl")


@pytest.fixture(scope="session")
def videossr_data_dir(tmp_path_factory, frames_dir) -> Path:
    """train.parquet (videossr30k, 12 rows) + viubench.parquet (1 row per subtype) from ``frames_dir``."""
    out = tmp_path_factory.mktemp("data") / "data"
    build_dataset(frames_dir, out, "videossr30k", size=12, progress=False)
    build_dataset(frames_dir, out, "viubench", per_subtype=1, progress=False)
    return out


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def tree_digest():
    """``tree_digest(folder)``: sha256 over every file's relative path and bytes (byte-identity checks)."""
    return _tree_digest
