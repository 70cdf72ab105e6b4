"""Shared fixtures: small real inputs built once per test session (embedded + synthetic videos)."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_prep.embedded import embedded_videos
from data_prep.frames import extract_frames
from data_prep.synthetic import SynthSpec, write_corpus

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
    """Frames folder (both tiers) of the embedded real clips + the synthetic videos. Read-only!"""
    out = tmp_path_factory.mktemp("frames") / "frames"
    sources = [str(p) for p in embedded_videos()] + [str(synthetic_videos)]
    summary = extract_frames(sources, out, progress=False)
    assert summary.ok == 15, summary
    return out
