"""Score one response: route by ``data_source``, parse the answer, grade it, mix in format.

Every call returns the same keys (verl's reward loop takes the key set of the first sample and
indexes every other sample with it; numeric keys become ``val-core/<data_source>/<key>/mean@N``):

==============  ======  ==========================================================================
key             type    meaning
==============  ======  ==========================================================================
``score``       float   training reward: ``(1 - format_weight) * task_reward + format_weight * format``
``acc``         float   VIUBench metric of the sample (counting: per-type exact match averaged over
                        the 3 types; grounding: IoU; jigsaw: exact match); 0 when unparsed
``parsed``      float   1.0 when an answer of the task's shape was read from the response
``format``      float   1.0 when the WHOLE response is a valid answer in the paper's format
``task_reward`` float   smooth (paper) or binary 0/1 reward of the answer, before format mixing
``task``        str     task name ("grounding" | "counting" | "jigsaw" | a fork's). A string on purpose:
                        verl skips string values when averaging metrics, and the name is already
                        the middle of every metric's data_source
``pred``        str     canonical parsed answer ("" when unparsed); verl uses a ``pred`` key for
                        its maj@N majority-vote validation metrics
==============  ======  ==========================================================================

>>> score("videossr/counting/easy", "3,1,5", "3,1,4")["score"]   # (1 + 1 + 0.75) / 3
0.9166666666666666
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Mapping, Optional

from rewards.extract import answer_candidates
from rewards.naming import parse_data_source
from rewards.tasks.base import Grade

if TYPE_CHECKING:
    from data_prep.tasks.registry import PretextTask

# "released" (default): what the paper's released reward functions accepted, so training on the
# defaults gives the paper's reward on every response. "strict": only the paper's answer format,
# ASCII. "lenient": an answer found inside free text (rewards.extract). See rewards/README.md.
DEFAULT_PARSE_MODE = "released"
PARSE_MODES = ("released", "strict", "lenient")
# "smooth" (paper): partial credit; "binary": 0/1 (the paper's ablation). "strict" is the old name
# of "binary", still accepted (deprecated; it is unrelated to parse_mode="strict").
REWARD_MODES = ("smooth", "binary")
DEPRECATED_REWARD_MODES = {"strict": "binary"}
RESULT_KEYS = ("score", "acc", "parsed", "format", "task_reward", "task", "pred")

_UNPARSED = Grade(0.0, 0.0, 0.0)


def score(
    data_source: str,
    response: str,
    ground_truth: str,
    *,
    parse_mode: str = DEFAULT_PARSE_MODE,
    reward_mode: str = "smooth",
    format_weight: float = 0.0,
    extra_info: Optional[Mapping[str, Any]] = None,
) -> dict:
    """Reward and metrics of one response. Defaults reproduce the paper.

    Args:
        data_source: ``videossr/<task>/<subtype>`` (see ``rewards.naming``). When it is not of that
            form, ``extra_info["task"]`` / ``["subtype"]`` route instead.
        response: the decoded model response. Any string is accepted, never raises.
        ground_truth: the row's answer string; malformed -> ``ValueError`` naming the row.
        parse_mode: "released" (default: exactly what the paper's released rewards accepted, e.g.
            counting reads every run of digits and needs three), "strict" (the whole response must
            be the answer in the paper's format, ASCII) or "lenient" (see ``rewards.extract``:
            <think>, <answer>, "The answer is ...", extra text; exactly one answer inside).
        reward_mode: "smooth" (paper: partial credit) or "binary" (0/1, the paper's ablation;
            "strict" is its deprecated old name).
        format_weight: weight in [0, 1] of the format reward (1 when the whole response is a valid
            answer in the paper's format).
        extra_info: the row's extra_info; used for routing fallback and to name the row in errors.

    Returns:
        dict with exactly the keys of ``RESULT_KEYS`` (see the module docstring).

    >>> r = score("videossr/grounding/mirror", "<answer>10-20</answer>", "15.0-25.0", parse_mode="lenient")
    >>> round(r["score"], 4), r["parsed"], r["format"], r["pred"]
    (0.3333, 1.0, 0.0, '10.0-20.0')
    """
    reward_mode = _check_options(parse_mode, reward_mode, format_weight)
    task, subtype = resolve_task(data_source, extra_info)
    reward = task.reward
    try:
        truth = reward.parse_truth(ground_truth, subtype)
    except ValueError as err:
        raise ValueError(f"{describe_row(data_source, extra_info)}: {err}") from None

    text = response if isinstance(response, str) else ""
    exact = reward.parse_answer(text, truth)
    if parse_mode == "released":
        answer = reward.released(text, truth)
    elif parse_mode == "strict":
        answer = exact
    else:
        answer = _parse_lenient(reward, text, truth)
    grade = reward.to_grade(answer, truth) if answer is not None else _UNPARSED
    formatted = 1.0 if exact is not None and reward.is_valid(exact, truth) else 0.0
    task_reward = grade.smooth if reward_mode == "smooth" else grade.binary
    weight = float(format_weight)
    total = (1.0 - weight) * task_reward + weight * formatted
    return {
        "score": min(1.0, max(0.0, total)),
        "acc": float(grade.acc),
        "parsed": 1.0 if answer is not None else 0.0,
        "format": formatted,
        "task_reward": float(task_reward),
        "task": task.name,
        "pred": reward.render(answer) if answer is not None else "",
    }


def resolve_task(data_source: str, extra_info: Optional[Mapping[str, Any]] = None) -> tuple["PretextTask", str]:
    """The task declaration and the subtype a row belongs to; ``ValueError`` naming the row otherwise.

    A task that is not shipped is found by the import path its rows record in ``extra_info.meta``,
    or registered up front (``$VIDEOSSR_TASKS``, the ``tasks`` reward option); see
    ``data_prep.tasks.registry``.

    >>> resolve_task("videossr/jigsaw/n6")[0].name
    'jigsaw'
    """
    from data_prep.tasks.registry import find_task, known_tasks

    try:
        name, subtype = parse_data_source(data_source)
    except ValueError as err:
        info = extra_info if isinstance(extra_info, Mapping) else {}
        name, subtype = info.get("task"), str(info.get("subtype") or "")
        task = find_task(name, info) if isinstance(name, str) else None
        if task is None:
            raise ValueError(
                f"{describe_row(data_source, extra_info)}: cannot route it to a reward: {err}; "
                f"extra_info.task is {name!r}, not one of {sorted(known_tasks())}"
            ) from None
        return task, subtype
    try:
        task = find_task(name, extra_info)
    except ValueError as err:  # the row names a task module that does not import
        raise ValueError(f"{describe_row(data_source, extra_info)}: {err}") from None
    if task is None:
        raise ValueError(
            f"{describe_row(data_source, extra_info)}: unknown task {name!r}; "
            f"registered tasks: {sorted(known_tasks())} (name a fork's task by import path: "
            "reward option tasks=[...] or $VIDEOSSR_TASKS)"
        )
    return task, subtype


def describe_row(data_source: Any, extra_info: Optional[Mapping[str, Any]]) -> str:
    """Human-readable row identity for error messages.

    >>> describe_row("videossr/counting/easy", {"index": 7, "split": "train"})
    "row 7 (split 'train', data_source 'videossr/counting/easy')"
    """
    info = extra_info if isinstance(extra_info, Mapping) else {}
    if "index" in info:
        return f"row {info['index']} (split {info.get('split')!r}, data_source {data_source!r})"
    return f"row with data_source {data_source!r}"


def _parse_lenient(reward: Any, text: str, truth: Any) -> Optional[Any]:
    """One answer, agreed on by every candidate that parses; disagreement means no answer."""
    answers = [a for a in (reward.loose(c, truth) for c in answer_candidates(text)) if a is not None]
    if not answers or any(a != answers[0] for a in answers[1:]):
        return None
    return answers[0]


def check_reward_mode(reward_mode: str) -> str:
    """The reward mode's current name ("strict" -> "binary", with a DeprecationWarning).

    >>> check_reward_mode("binary")
    'binary'
    """
    if reward_mode in DEPRECATED_REWARD_MODES:
        new = DEPRECATED_REWARD_MODES[reward_mode]
        warnings.warn(f"reward_mode={reward_mode!r} is deprecated; use {new!r} (same 0/1 reward)",
                      DeprecationWarning, stacklevel=3)
        return new
    if reward_mode not in REWARD_MODES:
        raise ValueError(
            f"reward_mode must be one of {REWARD_MODES} (deprecated alias: 'strict'), got {reward_mode!r}"
        )
    return reward_mode


def _check_options(parse_mode: str, reward_mode: str, format_weight: float) -> str:
    if parse_mode not in PARSE_MODES:
        raise ValueError(f"parse_mode must be one of {PARSE_MODES}, got {parse_mode!r}")
    reward_mode = check_reward_mode(reward_mode)
    try:
        weight = float(format_weight)
    except (TypeError, ValueError):
        weight = float("nan")
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"format_weight must be a number in [0, 1], got {format_weight!r}")
    return reward_mode
