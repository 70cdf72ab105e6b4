"""Every agent-loop worker class the recipe hands verl starts as a real Ray actor.

The CPU suite used to run only the in-process harness worker, so nobody saw that verl's V1 manager
could not create the recipe's TransferQueue worker at all (``super(type, obj)`` in the inherited
``__init__``, shipped by value by Ray): the first real training run stopped there. Here the recipe's
manager creates its workers exactly as verl's trainer does (``_init_agent_loop_workers``) on a
local Ray instance with a TransferQueue controller, and each actor must finish ``__init__``.
"""

from __future__ import annotations

import asyncio

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    tq = pytest.importorskip("transfer_queue")
    from omegaconf import OmegaConf

    ray.init(num_cpus=4, num_gpus=0, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"TOKENIZERS_PARALLELISM": "false"}})
    tq.init(OmegaConf.create({"backend": {"SimpleStorage": {"num_data_storage_units": 1}}}))
    try:
        yield ray
    finally:
        try:
            tq.close()
        except Exception:
            pass
        ray.shutdown()


@pytest.mark.parametrize("family", ["qwen3_vl", "qwen2_5_vl"])
def test_the_recipes_manager_creates_its_ray_workers(local_ray, family, tiny_qwen3vl_dir, tiny_qwen25vl_dir,
                                                     videossr_data_dir):
    from recipes.videossr.agent_loop import VideoSSRAgentLoopManager, VideoSSRAgentLoopWorkerTQ
    from recipes.videossr.agreement.trainer_side import compose_for_model

    model_dir = tiny_qwen3vl_dir if family == "qwen3_vl" else tiny_qwen25vl_dir
    config = compose_for_model(model_dir, videossr_data_dir / "train.parquet",
                               ["actor_rollout_ref.rollout.agent.num_workers=1"])
    manager = VideoSSRAgentLoopManager(config, llm_client=None)
    asyncio.run(manager._init_agent_loop_workers())
    assert len(manager.agent_loop_workers) == 1
    for worker in manager.agent_loop_workers:
        local_ray.get(worker.__ray_ready__.remote(), timeout=180)  # raises the actor's __init__ error
    assert manager.agent_loop_workers_class.__ray_actor_class__ is VideoSSRAgentLoopWorkerTQ
    for worker in manager.agent_loop_workers:
        local_ray.kill(worker)
