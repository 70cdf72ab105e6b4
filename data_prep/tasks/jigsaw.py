"""Temporal Jigsaw: the frames cut into n equal clips, shown shuffled, one ``<video>`` per clip.

The answer has n digits: digit k is the (1-based) shown position of ORIGINAL clip k, i.e. the
clips to play in order; "341562" = play shown clip 3, then 4, 1, 5, 6, 2. Easy n=6 (8 frames per
clip of 48), hard n=8 (6 frames per clip). The shown order is a uniformly random permutation
(identity included, as in the reference code), so uniform mode changes nothing here. Frames are
only referenced, never copied.
"""

from __future__ import annotations

from typing import Any

from data_prep.tasks.base import SampleSpec, TaskContext, make_row, rng_for
from rewards.naming import jigsaw_subtype

CLIPS = {"easy": 6, "hard": 8}
SUBTYPES = {jigsaw_subtype(n): level for level, n in CLIPS.items()}
DEFAULT_SUBTYPE = "n6"
_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}
EXAMPLES = {6: "341562", 8: "34158627"}

PROMPT = (
    "The {n} clips above are consecutive parts of one video, shown in a shuffled order. Please output {article} "
    "{word}-digit number that specifies the order in which to play the clips you are seeing (labeled "
    "1 through {n} by their position) to restore the original video. For example, '{example}' means: "
    "play clip {first} first, then clip {second}, and so on, ending with clip {last}. Provide only the "
    "{word}-digit number."
)


def num_clips(subtype: str) -> int:
    """``"n6"`` -> 6 (2..9 clips: the answer has one digit per clip)."""
    if not subtype.startswith("n") or not subtype[1:].isdigit() or not 2 <= int(subtype[1:]) <= 9:
        raise ValueError(f"jigsaw subtype must be n2..n9, got {subtype!r}")
    return int(subtype[1:])


def prompt_for(n: int) -> str:
    """The user text after the clip lines.

    >>> "six-digit" in prompt_for(6) and "'341562'" in prompt_for(6)
    True
    """
    example = EXAMPLES.get(n) or "".join(str(k) for k in [*range(2, n + 1), 1])
    article = "an" if _WORDS[n][0] in "aeiou" else "a"
    return PROMPT.format(
        n=n,
        word=_WORDS[n],
        article=article,
        example=example,
        first=example[0],
        second=example[1],
        last=example[-1],
    )


def answer_for(shown: list[int]) -> str:
    """``shown[j]`` = original clip (0-based) at shown position j -> the answer string.

    >>> answer_for([2, 0, 1])   # original clip 0 is shown 2nd, clip 1 3rd, clip 2 1st
    '231'
    """
    position = {clip: j for j, clip in enumerate(shown)}
    return "".join(str(position[k] + 1) for k in range(len(shown)))


def make_sample(spec: SampleSpec, ctx: TaskContext) -> dict[str, Any]:
    """One jigsaw row: ``spec.subtype`` = ``n<k>``."""
    n = num_clips(spec.subtype)
    rng = rng_for(spec)
    paths = ctx.paths(spec.video_id)
    per_clip = len(paths) // n  # trailing frames (48 % n) are dropped
    clips = [paths[k * per_clip : (k + 1) * per_clip] for k in range(n)]
    shown = [int(k) for k in rng.permutation(n)]
    lines = "\n".join(f"Clip {j + 1}: <video>" for j in range(n))
    meta = {"num_clips": n, "frames_per_clip": per_clip, "shown_order": shown, "uniform": spec.uniform}
    return make_row(
        spec,
        ctx,
        difficulty=SUBTYPES.get(spec.subtype, "standard"),
        user_text=f"{lines}\n{prompt_for(n)}",
        videos=[clips[c] for c in shown],
        answer=answer_for(shown),
        meta=meta,
    )
