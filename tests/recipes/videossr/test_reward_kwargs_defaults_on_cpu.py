"""The recipe YAML's reward_kwargs are the reward's own defaults (rewards.scoring is the source):
shipping ``parse_mode: released`` in the YAML must never drift from DEFAULT_PARSE_MODE."""

from __future__ import annotations

import inspect

import pytest

from recipes.videossr.compose import compose_recipe, config_names
from rewards.scoring import DEFAULT_PARSE_MODE, score
from rewards.verl_reward import REWARD_OPTIONS

DATA = ["data.train_files=/data/train.parquet", "data.val_files=/data/viubench.parquet"]


@pytest.mark.parametrize("name", config_names())
def test_reward_kwargs_are_the_rewards_defaults(name):
    kwargs = dict(compose_recipe(name, DATA).reward.custom_reward_function.reward_kwargs)
    defaults = {k: p.default for k, p in inspect.signature(score).parameters.items() if k in REWARD_OPTIONS}
    assert kwargs == defaults
    assert kwargs["parse_mode"] == DEFAULT_PARSE_MODE
