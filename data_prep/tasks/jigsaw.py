"""Temporal Jigsaw: the frames cut into n equal clips, shown shuffled, one ``<video>`` per clip.

The answer has n digits: digit k is the (1-based) shown position of ORIGINAL clip k, i.e. the
clips to play in order; "341562" = play shown clip 3, then 4, 1, 5, 6, 2. Easy n=6 (8 frames per
clip of 48), hard n=8 (6 frames per clip). The shown order is a uniformly random permutation
(identity included, as in the reference code), so uniform mode changes nothing here. Frames are
only referenced, never copied.

Option ``clip_frames`` (default ``None``: every frame of its segment, the paper): each clip keeps
only the central ``clip_frames`` frames of its ``48 // n`` segment, so consecutive clips no longer
touch (no continuity cue across a cut) and each shows less motion.

Difficulty ladder (``LADDER``, beyond the paper: ``data_prep.tasks.registry``): ``l0`` .. ``l5`` =
4 .. 9 clips (``l2`` = n6, the paper's easy; ``l4`` = n8, its hard), then 9 clips of 4, 3 and 2
frames (``l6`` .. ``l8``: gaps between clips, less motion in each). A 9-clip prompt needs vLLM's
``limit_mm_per_prompt.video >= 9``.
"""

from __future__ import annotations

from typing import Any

from data_prep import prompts
from data_prep.schema import MAX_JIGSAW_CLIPS
from data_prep.tasks.base import SampleSpec, TaskContext, make_row, rng_for
from data_prep.tasks.registry import Level, PretextTask
from rewards.naming import jigsaw_subtype
from rewards.tasks import jigsaw as reward

CLIPS = {"easy": 6, "hard": 8}
SUBTYPES = {jigsaw_subtype(n): level for level, n in CLIPS.items()}
DEFAULT_SUBTYPE = "n6"
# The difficulty ladder (module docstring): the number of clips, then shorter clips.
LADDER = tuple(Level(f"{n} clips", subtype=jigsaw_subtype(n)) for n in range(4, MAX_JIGSAW_CLIPS + 1)) + tuple(
    Level(f"{MAX_JIGSAW_CLIPS} clips x {k} frames", {"clip_frames": k}, subtype=jigsaw_subtype(MAX_JIGSAW_CLIPS))
    for k in (4, 3, 2)
)
PAPER_LEVEL = 2  # n6: VideoSSR-30K's jigsaw


def num_clips(subtype: str) -> int:
    """``"n6"`` -> 6 (2..9 clips: the answer has one digit per clip)."""
    if not subtype.startswith("n") or not subtype[1:].isdigit() or not 2 <= int(subtype[1:]) <= MAX_JIGSAW_CLIPS:
        raise ValueError(f"jigsaw subtype must be n2..n{MAX_JIGSAW_CLIPS}, got {subtype!r}")
    return int(subtype[1:])


def prompt_for(n: int) -> str:
    """The user text after the clip lines: the paper's question (``data_prep.prompts``).

    >>> "six-digit" in prompt_for(6) and prompt_for(6).endswith("'341562'.")
    True
    """
    return prompts.jigsaw_question(n)


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
    keep = ctx.options.get("jigsaw", {}).get("clip_frames") or per_clip
    if keep > per_clip:
        raise ValueError(f"clip_frames={keep} exceeds the {per_clip} frames of each of {n} clips")
    offset = (per_clip - keep) // 2  # the central frames of each segment
    clips = [paths[k * per_clip + offset : k * per_clip + offset + keep] for k in range(n)]
    shown = [int(k) for k in rng.permutation(n)]
    lines = "\n".join(f"Clip {j + 1}: <video>" for j in range(n))
    meta = {"num_clips": n, "frames_per_clip": keep, "shown_order": shown, "uniform": spec.uniform}
    if keep != per_clip:  # only trimmed rows say so: the paper's rows are unchanged
        meta["segment_frames"] = per_clip
    return make_row(
        spec,
        ctx,
        difficulty=SUBTYPES.get(spec.subtype, "standard"),
        user_text=f"{lines}\n{prompt_for(n)}",
        videos=[clips[c] for c in shown],
        answer=answer_for(shown),
        meta=meta,
    )


def check_options(params: dict[str, Any]) -> None:
    """Values a mix may set (``ValueError`` naming the bad one)."""
    keep = params.get("clip_frames")
    if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
        raise ValueError(f"clip_frames must be a positive number of frames (or null: all), got {keep!r}")


def _is_clip_subtype(subtype: str) -> bool:
    try:
        num_clips(subtype)
    except ValueError:
        return False
    return True


TASK = PretextTask(
    name="jigsaw",
    subtypes=SUBTYPES,
    default_subtype=DEFAULT_SUBTYPE,
    make_sample=make_sample,
    reward=reward.REWARD,
    options={"clip_frames": None},
    check_options=check_options,
    question=lambda subtype: prompt_for(num_clips(subtype)),
    columns=(("n6", "Jig-6"), ("n8", "Jig-8")),
    average_label="Jig-Avg",
    accepts_subtype=_is_clip_subtype,
    levels=LADDER,
    default_level=PAPER_LEVEL,
)
