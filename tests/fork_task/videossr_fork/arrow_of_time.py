"""A toy pretext task a fork would add in its own package: is the clip played forward or backward?

Everything about the task is here: the generator (reverse the frame list for "backward"), the
reward (parse "forward" / "backward", exact match), its option and its VIUBench column. Nothing
outside this package registers it: a mix names it by import path (``videossr_fork.arrow_of_time``)
and the rows it builds carry that path, so the reward worker finds it on its own.
"""

from __future__ import annotations

from typing import Any, Optional

from data_prep.tasks.base import SampleSpec, TaskContext, make_row, rng_for
from data_prep.tasks.registry import PretextTask
from rewards.tasks.base import Reward

ANSWERS = ("forward", "backward")
QUESTION = "Is this video played forward or backward? Answer with one word: forward or backward."


def make_sample(spec: SampleSpec, ctx: TaskContext) -> dict[str, Any]:
    """One row: the video's frames, reversed with probability ``p_backward``."""
    options = TASK.options_in(ctx)
    backward = bool(rng_for(spec).random() < options["p_backward"])
    paths = ctx.paths(spec.video_id)
    return make_row(
        spec,
        ctx,
        difficulty=TASK.subtypes[spec.subtype],
        user_text=f"<video>\n{QUESTION}",
        videos=[paths[::-1] if backward else list(paths)],
        answer=ANSWERS[backward],
        meta={"backward": backward},
    )


def parse_answer(text: str, truth: str) -> Optional[str]:
    word = text.strip().rstrip(".").lower()
    return word if word in ANSWERS else None


def grade(answer: str, truth: str) -> float:
    return float(answer == truth)


def check_options(params: dict[str, Any]) -> None:
    p = params.get("p_backward", 0.5)
    if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"p_backward must be a probability in [0, 1], got {p!r}")


TASK = PretextTask(
    name="arrow_of_time",
    subtypes={"clip": "standard"},
    default_subtype="clip",
    make_sample=make_sample,
    reward=Reward(parse_answer=parse_answer, grade=grade, answer_space=lambda truth, info, options: ANSWERS),
    options={"p_backward": 0.5},
    check_options=check_options,
    question=lambda subtype: QUESTION,
    columns=(("clip", "AoT"),),
    average_label="AoT-Avg",
)
