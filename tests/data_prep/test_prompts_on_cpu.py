"""Prompt golden tests: every task's prompt equals the paper's text (Table 8, Figures 9-11).

The expected texts are written out here, verbatim, independently of ``data_prep/prompts.py``.
"""

from __future__ import annotations

import pytest

from data_prep import schema
from data_prep.frames import load_manifest
from data_prep.perturbations import PERTURBATIONS
from data_prep.tasks import counting, grounding, jigsaw
from data_prep.tasks.base import SampleSpec, TaskContext

SYSTEM = "Based on this video, provide the answer directly."
GROUNDING_TAIL = (
    ". Your task is to identify the precise time interval of this change. Please only provide the start "
    "and end times in seconds, formatted as <start_time>-<end_time> (e.g., '14.5-26.2')."
)
# perturbation -> the paper's description (no final period; mirror's capital T is the paper's)
PAPER_DESCRIPTIONS = {
    "grayscale": "the video becomes black and white",
    "invert": "the colors in the video are inverted",
    "channel_swap": "the red and blue color channels in the video are swapped",
    "rotate_180": "the video is rotated 180 degrees",
    "rotate_90": "the video is rotated 90 degrees clockwise",
    "rotate_270": "the video is rotated 270 degrees clockwise",
    "noise": "Gaussian noise is added to the video",
    "shuffle": "the frames are shuffled, this means the order of events is scrambled, making the action "
    "appear illogical and chaotic",
    "swap": "the clip is replaced by a clip from another video",
    "zoom_in": "the video is zoomed in",
    "zoom_out": "the video is zoomed out",
    "mirror": "The video is mirrored horizontally",
    "blur": "the video becomes blurry or out of focus",
    "saturation": "the colors in the video become oversaturated and unnaturally vibrant",
    "stutter_hold": "the video appears to freeze and stutter on a few frames, this means instead of playing "
    "smoothly, the video repeatedly freezes on a single frame before jumping to the next.",
    # the paper's texts plus this repository's note (the paper's own note is unpublished)
    "slow": "the video slows down, this means the action unfolds at an unusually slow pace, making movements "
    "appear prolonged; the timestamps stay evenly spaced, so judge the speed from the motion",
    "fast": "the video speeds up, this means the segment plays at a high speed, compressing the action and "
    "making movements appear jerky or rushed; the timestamps stay evenly spaced, so judge the speed from "
    "the motion",
}
COUNTING = (
    "Count the number of circles, squares, and triangles that appear in this video. Be aware that the shapes "
    "can appear in any color and at any angle of rotation. They may be present on one or multiple frames, and "
    "any given frame can contain more than one shape. Provide the answer as three comma-separated numbers in "
    "the format: circles,squares,triangles. For example, if you see 3 circles, 1 square, and 4 triangles, "
    "your answer should be '3,1,4'."
)
JIGSAW = {
    6: "This video is presented as 6 separate clips, which are in a shuffled order. Your task is to determine "
    "the correct chronological sequence. Please output a six-digit number that specifies the order in which "
    "to play the clips you are seeing (labeled 1 through 6 by their position). For example, if you decide "
    "that the clip at position 3 of this video is the true beginning (the 1st clip of the original video), "
    "the clip at position 4 is the 2nd part, the clip at position 1 is the 3rd part, the clip at position 5 "
    "is the 4th part, the clip at position 6 is the 5th part, and finally the clip at position 2 is the 6th "
    "part, then your answer should be '341562'.",
    8: "This video is presented as 8 separate clips, which are in a shuffled order. Your task is to determine "
    "the correct chronological sequence. Please output an eight-digit number that specifies the order in "
    "which to play the clips you are seeing (labeled 1 through 8 by their position). For example, if you "
    "decide that the clip at position 5 of this video is the true beginning (the 1st clip of the original "
    "video), the clip at position 1 is the 2nd part, the clip at position 8 is the 3rd part, the clip at "
    "position 2 is the 4th part, the clip at position 7 is the 5th part, the clip at position 4 is the 6th "
    "part, the clip at position 6 is the 7th part, and finally the clip at position 3 is the 8th part, then "
    "your answer should be '51827463'.",
}


def test_system_prompt():
    assert schema.SYSTEM_PROMPT == SYSTEM


def test_every_registered_perturbation_has_a_golden_text():
    assert set(PERTURBATIONS) == set(PAPER_DESCRIPTIONS)


@pytest.mark.parametrize("name", sorted(PAPER_DESCRIPTIONS))
def test_grounding_question(name):
    expected = "In a segment of this video, " + PAPER_DESCRIPTIONS[name] + GROUNDING_TAIL
    assert grounding.PROMPT.format(description=PERTURBATIONS[name].description) == expected


def test_counting_question():
    assert counting.PROMPT == COUNTING


@pytest.mark.parametrize("n", sorted(JIGSAW))
def test_jigsaw_question(n):
    assert jigsaw.prompt_for(n) == JIGSAW[n]


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 9])
def test_other_clip_counts_follow_the_papers_pattern_with_a_valid_example(n):
    text = jigsaw.prompt_for(n)
    example = text.rsplit("'", 2)[1]
    assert sorted(example) == [str(k) for k in range(1, n + 1)]
    assert text.startswith(f"This video is presented as {n} separate clips")
    assert f"labeled 1 through {n} by their position" in text
    for part, position in enumerate(example, start=1):
        assert f"position {position} " in text


def test_rows_carry_the_golden_prompts(frames_dir, tmp_path):
    """The built rows themselves (not only the templates) hold the paper's texts, verbatim."""
    records = {r["video_id"]: r for r in load_manifest(frames_dir)}
    ctx = TaskContext(frames_dir, tmp_path, records, tier="train")
    video = sorted(records)[0]

    def spec(task, subtype):
        return SampleSpec(f"{task}-{subtype}-000003", task, subtype, video, 3, "train")

    for name in ("channel_swap", "rotate_180", "zoom_out", "mirror", "shuffle"):
        row = grounding.make_sample(spec("grounding", name), ctx)
        assert row["prompt"] == [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "<video>\nIn a segment of this video, " + PAPER_DESCRIPTIONS[name] + GROUNDING_TAIL},
        ]
    row = counting.make_sample(spec("counting", "easy"), ctx)
    assert row["prompt"][1]["content"] == "<video>\n" + COUNTING
    for n in (6, 8):
        row = jigsaw.make_sample(spec("jigsaw", f"n{n}"), ctx)
        clips = "\n".join(f"Clip {k}: <video>" for k in range(1, n + 1))
        assert row["prompt"][1]["content"] == f"{clips}\n{JIGSAW[n]}"
