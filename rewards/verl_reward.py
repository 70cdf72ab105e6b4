"""verl's entry point for the VideoSSR rewards: ``compute_score``.

verl 0.9.1 loads it with ``verl.utils.import_utils.load_extern_object``, which takes either
``pkg://<module>`` (imported by name: works on every Ray node where this repo is installed, the
recommended form) or a file path (``file://`` or plain; a relative path resolves against each
worker's current directory, so prefer an absolute one). Options arrive as ``reward_kwargs``; verl
merges them into every call.

Use exactly these keys (the 0.8-era top-level ``custom_reward_function.*`` and
``reward_model.reward_manager`` keys are accepted by ``main_ppo`` and silently ignored, and verl then
scores with its built-in scorer, which raises on ``videossr/...`` data_sources)::

    reward.custom_reward_function.path=pkg://rewards.verl_reward
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.parse_mode=released
    +reward.custom_reward_function.reward_kwargs.reward_mode=smooth
    +reward.custom_reward_function.reward_kwargs.format_weight=0.0

or in a recipe YAML that extends ``ppo_trainer`` (see ``RECIPE_YAML``).

Tasks a fork adds (``data_prep.tasks.registry``) need no key: their rows record the task's import
path in ``extra_info.meta``, and the reward worker imports it on first sight. Rows without it (built
elsewhere) name the tasks up front: ``+reward.custom_reward_function.reward_kwargs.tasks=[my_lab.tasks.arrow_of_time]``
(or ``$VIDEOSSR_TASKS=my_lab.tasks.arrow_of_time`` in the workers' environment).

>>> compute_score("videossr/jigsaw/n6", "341562", "341562")["score"]
1.0
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from rewards.scoring import DEFAULT_PARSE_MODE, score

REWARD_FUNCTION_PATH = "pkg://rewards.verl_reward"
REWARD_FUNCTION_NAME = "compute_score"

# Paper defaults; change the values, never the keys.
HYDRA_OVERRIDES: tuple[str, ...] = (
    f"reward.custom_reward_function.path={REWARD_FUNCTION_PATH}",
    f"reward.custom_reward_function.name={REWARD_FUNCTION_NAME}",
    f"+reward.custom_reward_function.reward_kwargs.parse_mode={DEFAULT_PARSE_MODE}",
    "+reward.custom_reward_function.reward_kwargs.reward_mode=smooth",
    "+reward.custom_reward_function.reward_kwargs.format_weight=0.0",
)

RECIPE_YAML = f"""\
reward:
  custom_reward_function:
    path: {REWARD_FUNCTION_PATH}
    name: {REWARD_FUNCTION_NAME}
    reward_kwargs:
      parse_mode: {DEFAULT_PARSE_MODE}    # released (paper's reward) | strict (format only) | lenient
      reward_mode: smooth     # smooth (paper: partial credit) | binary (0/1 ablation; old name: strict)
      format_weight: 0.0      # weight of the format reward, in [0, 1]
"""

# 0.8-era keys that verl 0.9.1's main_ppo ignores: never ship these (tests prove the fallback).
LEGACY_KEYS_NOT_TO_USE: tuple[str, ...] = ("custom_reward_function.path", "custom_reward_function.name")

REWARD_OPTIONS = frozenset({"parse_mode", "reward_mode", "format_weight", "tasks"})
# Keywords verl itself adds to the call when a reward model is configured; not ours to check.
_VERL_CALL_KEYWORDS = frozenset({"reward_router_address", "reward_model_tokenizer"})


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: Optional[Mapping[str, Any]] = None,
    **kwargs: Any,
) -> dict:
    """verl's reward call: ``rewards.score`` with verl's argument names.

    Unknown keyword options raise ``TypeError`` so that a typo in ``reward_kwargs`` stops the run
    instead of silently training with the defaults.

    >>> result = compute_score("videossr/counting/easy", "<answer>3,1,4</answer>", "3,1,4",
    ...                        parse_mode="lenient")
    >>> result["acc"]
    1.0
    """
    options = {k: v for k, v in kwargs.items() if k not in _VERL_CALL_KEYWORDS}
    unknown = sorted(set(options) - REWARD_OPTIONS)
    if unknown:
        raise TypeError(
            f"unknown reward_kwargs {unknown}; the VideoSSR reward accepts {sorted(REWARD_OPTIONS)}"
        )
    tasks = options.pop("tasks", None)
    if tasks:  # import paths of a fork's tasks (imported once per process)
        from data_prep.tasks.registry import register_tasks

        register_tasks(tasks)
    return score(data_source, solution_str, ground_truth, extra_info=extra_info, **options)
