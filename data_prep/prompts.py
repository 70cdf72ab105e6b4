"""Every prompt text of the pretext tasks, verbatim from the paper (Table 8, Figures 9-11).

The texts are the paper's and equal the released generators' (``tests/data_prep/test_prompts_on_cpu.py``
holds them as golden strings). Only three texts are this repository's own, each marked below:
the timestamp note of slow / fast (the paper mentions such a note but does not publish it) and the
jigsaw question for clip counts other than the paper's 6 and 8.

>>> GROUNDING.format(description=GROUNDING_DESCRIPTIONS["mirror"])[:62]
'In a segment of this video, The video is mirrored horizontally'
>>> jigsaw_question(8)[-11:]
"'51827463'."
"""

from __future__ import annotations

SYSTEM = "Based on this video, provide the answer directly."

GROUNDING = (
    "In a segment of this video, {description}. Your task is to identify the precise time interval "
    "of this change. Please only provide the start and end times in seconds, formatted as "
    "<start_time>-<end_time> (e.g., '14.5-26.2')."
)

# Ours: the paper tells the model that timestamps stay evenly spaced for slow / fast, without
# publishing the words.
TIMESTAMP_NOTE = "; the timestamps stay evenly spaced, so judge the speed from the motion"

# Completes GROUNDING's "{description}" (no final period); keyed by perturbation name.
# Paper Table 8 = the released generator, capital "The" of mirror included; rotate 90 / 270 and
# swap are in the released code only, slow / fast in the paper only.
GROUNDING_DESCRIPTIONS = {
    "saturation": "the colors in the video become oversaturated and unnaturally vibrant",
    "noise": "Gaussian noise is added to the video",
    "blur": "the video becomes blurry or out of focus",
    "grayscale": "the video becomes black and white",
    "invert": "the colors in the video are inverted",
    "channel_swap": "the red and blue color channels in the video are swapped",
    "zoom_in": "the video is zoomed in",
    "rotate_180": "the video is rotated 180 degrees",
    "zoom_out": "the video is zoomed out",
    "mirror": "The video is mirrored horizontally",
    "slow": "the video slows down, this means the action unfolds at an unusually slow pace, making "
    "movements appear prolonged" + TIMESTAMP_NOTE,
    "fast": "the video speeds up, this means the segment plays at a high speed, compressing the action "
    "and making movements appear jerky or rushed" + TIMESTAMP_NOTE,
    "stutter_hold": "the video appears to freeze and stutter on a few frames, this means instead of "
    "playing smoothly, the video repeatedly freezes on a single frame before jumping to the next.",
    "shuffle": "the frames are shuffled, this means the order of events is scrambled, making the action "
    "appear illogical and chaotic",
    "rotate_90": "the video is rotated 90 degrees clockwise",
    "rotate_270": "the video is rotated 270 degrees clockwise",
    "swap": "the clip is replaced by a clip from another video",
}

COUNTING = (
    "Count the number of circles, squares, and triangles that appear in this video. Be aware that "
    "the shapes can appear in any color and at any angle of rotation. They may be present on one or "
    "multiple frames, and any given frame can contain more than one shape. Provide the answer as "
    "three comma-separated numbers in the format: circles,squares,triangles. For example, if you "
    "see 3 circles, 1 square, and 4 triangles, your answer should be '3,1,4'."
)

JIGSAW = (
    "This video is presented as {n} separate clips, which are in a shuffled order. Your task is to "
    "determine the correct chronological sequence. Please output {article} {word}-digit number that "
    "specifies the order in which to play the clips you are seeing (labeled 1 through {n} by their "
    "position). For example, if you decide that {walkthrough}, then your answer should be '{example}'."
)
# The worked example of the paper, per clip count; other counts (ours) rotate the order by one.
JIGSAW_EXAMPLES = {6: "341562", 8: "51827463"}

# Number words of every clip count 2..schema.MAX_JIGSAW_CLIPS (the limit itself lives in the schema).
_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}


def jigsaw_question(n: int) -> str:
    """The jigsaw question after the "Clip k: <video>" lines (the paper's text for n = 6 and 8).

    >>> jigsaw_question(6).startswith("This video is presented as 6 separate clips")
    True
    """
    from data_prep.schema import MAX_JIGSAW_CLIPS  # not at the top: data_prep.schema imports this module

    if n not in _WORDS or n > MAX_JIGSAW_CLIPS:
        raise ValueError(f"jigsaw questions exist for 2..{MAX_JIGSAW_CLIPS} clips, got {n}")
    example = JIGSAW_EXAMPLES.get(n) or "".join(str(k) for k in [*range(2, n + 1), 1])
    steps = []
    for part, position in enumerate(example, start=1):
        ordinal = _ORDINALS.get(part, f"{part}th")
        if part == 1:
            steps.append(f"the clip at position {position} of this video is the true beginning (the 1st clip of the original video)")
        elif part == n:
            steps.append(f"and finally the clip at position {position} is the {ordinal} part")
        else:
            steps.append(f"the clip at position {position} is the {ordinal} part")
    return JIGSAW.format(
        n=n,
        article="an" if _WORDS[n][0] in "aeiou" else "a",
        word=_WORDS[n],
        walkthrough=", ".join(steps),
        example=example,
    )
