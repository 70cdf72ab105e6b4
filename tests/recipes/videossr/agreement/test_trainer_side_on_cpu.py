"""The agreement harness runs the AgentLoopWorker the recipe config's manager class names.

``recipes.videossr.agreement.trainer_side.harness_worker_class``: with
``actor_rollout_ref.rollout.agent.agent_loop_manager_class`` unset, verl's own ``AgentLoopWorker``;
set, the manager class's ``HARNESS_WORKER_CLASS`` (a class or a fully qualified name); a custom
manager without it is an error, never a silent fallback to the stock worker. Needs verl only (no
vLLM), so it runs in ``make test`` too.
"""

from __future__ import annotations

import sys
import types

import pytest
from omegaconf import OmegaConf

pytest.importorskip("verl.experimental.agent_loop.agent_loop")

from verl.experimental.agent_loop.agent_loop import AgentLoopWorker  # noqa: E402

from recipes.videossr.agreement.trainer_side import harness_worker_class  # noqa: E402


def _config(manager: str | None):
    return OmegaConf.create({"actor_rollout_ref": {"rollout": {"agent": {"agent_loop_manager_class": manager}}}})


@pytest.fixture
def fake_module(monkeypatch):
    """A module ``videossr_fake_managers`` holding managers, importable by fully qualified name."""

    class Worker(AgentLoopWorker):
        pass

    class ByClass:
        HARNESS_WORKER_CLASS = Worker

    class ByName:
        HARNESS_WORKER_CLASS = "videossr_fake_managers.Worker"

    class Without:
        pass

    class NotAWorker:
        HARNESS_WORKER_CLASS = dict

    module = types.ModuleType("videossr_fake_managers")
    for cls in (Worker, ByClass, ByName, Without, NotAWorker):
        setattr(module, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def test_unset_key_runs_verls_worker():
    assert harness_worker_class(_config(None)) is AgentLoopWorker
    assert harness_worker_class(OmegaConf.create({})) is AgentLoopWorker


@pytest.mark.parametrize("manager", ["ByClass", "ByName"])
def test_manager_names_its_worker(fake_module, manager):
    assert harness_worker_class(_config(f"videossr_fake_managers.{manager}")) is fake_module.Worker


def test_manager_without_worker_attribute_is_refused(fake_module):
    with pytest.raises(TypeError, match="HARNESS_WORKER_CLASS"):
        harness_worker_class(_config("videossr_fake_managers.Without"))


def test_worker_must_be_an_agent_loop_worker(fake_module):
    with pytest.raises(TypeError, match="not a subclass"):
        harness_worker_class(_config("videossr_fake_managers.NotAWorker"))


@pytest.mark.parametrize("config_name", ["videossr_qwen25vl_7b", "videossr_qwen3vl_8b"])
def test_recipe_configs_resolve_to_an_agent_loop_worker(config_name):
    """Whatever the recipe's manager is, the harness can build the matching plain worker."""
    from recipes.videossr.compose import compose_recipe

    cfg = compose_recipe(config_name, ["data.train_files=t.parquet", "data.val_files=v.parquet"])
    worker = harness_worker_class(cfg)
    assert issubclass(worker, AgentLoopWorker)
    manager = OmegaConf.select(cfg, "actor_rollout_ref.rollout.agent.agent_loop_manager_class")
    if manager:
        assert worker is not AgentLoopWorker, f"{manager} runs custom workers; the harness must too"
