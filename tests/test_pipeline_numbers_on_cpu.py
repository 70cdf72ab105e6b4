"""One source per pipeline number: data_prep.schema's NUM_FRAMES (48 frames per video) and
MAX_JIGSAW_CLIPS (one answer digit per clip), rewards.scoring's DEFAULT_PARSE_MODE; every stage
reads them (or, in a module that still spells the number, equals them)."""

from __future__ import annotations

import argparse
import inspect

import numpy as np
import pytest

from data_prep import prompts
from data_prep.cli import build_parser
from data_prep.frames import FrameOptions
from data_prep.sampling import plan_frames
from data_prep.schema import MAX_JIGSAW_CLIPS, NUM_FRAMES
from recipes.videossr.jigsaw_reshuffle import reshuffle


def _data_prep_command(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def test_frames_per_video():
    assert NUM_FRAMES == 48  # the paper's
    assert inspect.signature(plan_frames).parameters["num_frames"].default == NUM_FRAMES
    assert len(plan_frames(10 * NUM_FRAMES, 25.0).indices) == NUM_FRAMES
    assert FrameOptions().num_frames == NUM_FRAMES
    frames = _data_prep_command("frames")
    assert next(a.default for a in frames._actions if a.dest == "num_frames") == NUM_FRAMES
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert f"{NUM_FRAMES} pre-sampled frames" in next(c.help for c in sub._choices_actions if c.dest == "frames")


def test_jigsaw_clip_limit():
    assert MAX_JIGSAW_CLIPS == 9  # one digit per clip
    assert set(range(2, MAX_JIGSAW_CLIPS + 1)) <= set(prompts._WORDS)  # a number word for every count
    assert prompts.jigsaw_question(MAX_JIGSAW_CLIPS).startswith(f"This video is presented as {MAX_JIGSAW_CLIPS} ")
    with pytest.raises(ValueError, match=f"2..{MAX_JIGSAW_CLIPS} clips"):
        prompts.jigsaw_question(MAX_JIGSAW_CLIPS + 1)
    clips = [f"c{k}" for k in range(MAX_JIGSAW_CLIPS)]
    shown, answer, _ = reshuffle(clips, "".join(str(k + 1) for k in range(MAX_JIGSAW_CLIPS)), np.random.default_rng(0))
    assert [shown[int(d) - 1] for d in answer] == clips
    with pytest.raises(ValueError, match=f"at most {MAX_JIGSAW_CLIPS} clips"):
        reshuffle(clips + ["c9"], "1234567890", np.random.default_rng(0))


def test_the_task_modules_agree_on_the_clip_limit():
    """data_prep.tasks.jigsaw and rewards.tasks.jigsaw still spell 9: equal to the schema's."""
    from data_prep.tasks import jigsaw as data_jigsaw
    from rewards.tasks import jigsaw as reward_jigsaw

    assert data_jigsaw.num_clips(f"n{MAX_JIGSAW_CLIPS}") == MAX_JIGSAW_CLIPS
    with pytest.raises(ValueError):
        data_jigsaw.num_clips(f"n{MAX_JIGSAW_CLIPS + 1}")
    assert reward_jigsaw.MAX_CLIPS == MAX_JIGSAW_CLIPS
