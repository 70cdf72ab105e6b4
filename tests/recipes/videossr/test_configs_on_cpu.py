"""Every config in recipes/videossr/config composes through Hydra against verl's ppo_trainer and
passes verl's own validate_config; the paper's values are the ones shipped."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from verl.utils.dataset.rl_dataset import get_dataset_class

from data_prep.schema import EVAL_MAX_PIXELS
from recipes.videossr.compose import CONFIG_DIR, compose_recipe, config_names, validate_recipe
from recipes.videossr.dataset import VideoSSRDataset
from rewards.verl_reward import REWARD_FUNCTION_NAME, REWARD_FUNCTION_PATH

DATA = ["data.train_files=/data/train.parquet", "data.val_files=/data/viubench.parquet"]


def test_the_presets_ship():
    assert config_names() == ["videossr_cpu", "videossr_qwen25vl_7b", "videossr_qwen3vl_8b", "videossr_small"]


@pytest.mark.parametrize("name", config_names())
def test_every_config_composes_and_validates(name):
    cfg = compose_recipe(name, DATA)
    validate_recipe(cfg)  # verl's own checks (batch vs GPUs, micro-batch settings, ...)
    OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves
    assert cfg.algorithm.adv_estimator == "grpo" and cfg.actor_rollout_ref.rollout.name == "vllm"
    # This project's reward, through verl 0.9.1's keys (the 0.8-era top-level keys stay unset).
    assert cfg.reward.custom_reward_function.path == REWARD_FUNCTION_PATH
    assert cfg.reward.custom_reward_function.name == REWARD_FUNCTION_NAME
    assert cfg.custom_reward_function.path is None
    assert get_dataset_class(cfg.data) is VideoSSRDataset
    vllm = cfg.actor_rollout_ref.rollout.engine_kwargs.vllm
    assert vllm.limit_mm_per_prompt.video >= 8  # the 8-clip jigsaw fits
    assert vllm.mm_processor_cache_gb > 0  # the n rollouts of a prompt share one processed video
    rollout = cfg.actor_rollout_ref.rollout
    assert rollout.max_model_len >= cfg.data.max_prompt_length + cfg.data.max_response_length
    # vLLM generates from the tokens/positions the actor scores (recipes/videossr/agent_loop.py)
    assert rollout.agent.default_agent_loop == "videossr_agent"
    assert rollout.agent.agent_loop_manager_class == "recipes.videossr.agent_loop.VideoSSRAgentLoopManager"


@pytest.mark.parametrize("name", config_names())
def test_every_config_opens_with_the_command_that_runs_it(name):
    head = (CONFIG_DIR / f"{name}.yaml").read_text().split("\nhydra:")[0]
    assert f"CONFIG_NAME={name} " in head and "bash launch/train.sh" in head
    assert f"--config-name {name} " in head and "python -m verl.trainer.main_ppo" in head


@pytest.mark.parametrize("name", config_names())
def test_validation_runs_in_bounded_batches(name):
    """verl 0.9.1 uses len(val_dataset) for a null val_batch_size: all of VIUBench in one batch."""
    cfg = compose_recipe(name, DATA)
    assert isinstance(cfg.data.val_batch_size, int) and 1 <= cfg.data.val_batch_size <= 64
    # float32 pixel_values_videos of one 48-frame 512*512 prompt, held for the whole batch
    per_prompt = 48 * EVAL_MAX_PIXELS * 3 * 4
    assert cfg.data.val_batch_size * per_prompt < 8 * 2**30
    text = (CONFIG_DIR / "shared" / "videossr_base.yaml").read_text()
    assert "DATA_DIR/viubench_val.parquet" in text  # the stratified slice is the documented default


def test_the_paper_setting():
    cfg = compose_recipe("videossr_qwen3vl_8b", DATA)
    actor, rollout = cfg.actor_rollout_ref.actor, cfg.actor_rollout_ref.rollout
    assert cfg.actor_rollout_ref.model.path == "Qwen/Qwen3-VL-8B-Instruct"
    assert (cfg.trainer.nnodes, cfg.trainer.n_gpus_per_node, cfg.trainer.total_epochs) == (1, 8, 1)
    assert actor.optim.lr == 1e-6
    assert cfg.data.train_batch_size == actor.ppo_mini_batch_size == 64
    assert rollout.n == 8
    assert (actor.use_kl_loss, actor.kl_loss_coef, actor.kl_loss_type) == (True, 1e-3, "low_var_kl")
    assert actor.entropy_coeff == 0 and not cfg.algorithm.use_kl_in_reward
    assert (cfg.data.max_prompt_length, cfg.data.max_response_length) == (8192, 2048)
    assert rollout.gpu_memory_utilization == 0.6
    assert cfg.reward.custom_reward_function.reward_kwargs == {"parse_mode": "released", "reward_mode": "smooth",
                                                               "format_weight": 0.0}


def test_variants_differ_only_where_they_should():
    paper = compose_recipe("videossr_qwen3vl_8b", DATA)
    q25 = compose_recipe("videossr_qwen25vl_7b", DATA)
    small = compose_recipe("videossr_small", DATA)
    assert q25.actor_rollout_ref.model.path == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert q25.actor_rollout_ref.actor == paper.actor_rollout_ref.actor
    assert small.actor_rollout_ref.model.path == "Qwen/Qwen3-VL-2B-Instruct"
    assert small.trainer.n_gpus_per_node == 2 and small.actor_rollout_ref.rollout.n == 8
    validate_recipe(compose_recipe("videossr_small", DATA + ["trainer.n_gpus_per_node=1"]))  # 1 GPU works too


def test_a_misspelled_override_fails_with_hydras_error():
    with pytest.raises(ConfigCompositionException, match="Could not override 'actor_rollout_ref.rollout.nn'"):
        compose_recipe("videossr_small", DATA + ["actor_rollout_ref.rollout.nn=4"])


def test_an_inconsistent_batch_fails_verls_validation():
    cfg = compose_recipe("videossr_qwen3vl_8b", DATA + [
        "actor_rollout_ref.actor.use_dynamic_bsz=false", "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=1",
        "actor_rollout_ref.actor.ppo_mini_batch_size=128"])
    with pytest.raises(ValueError, match=r"train_batch_size \(64\) must be >= actor.ppo_mini_batch_size \(128\)"):
        validate_recipe(cfg)


# Recipe keys verl does not read itself but hands on whole, and to whom.
PASSED_ON = {
    "actor_rollout_ref.rollout.engine_kwargs.vllm": "vLLM's engine arguments (vllm_async_server.py)",
    "reward.custom_reward_function.reward_kwargs": "rewards.verl_reward.compute_score's keyword arguments",
    "data.videossr": "recipes.videossr.dataset.VideoSSRDataset",
    # handed whole to trainer.v1.sampler.custom_sampler's constructor (trainer_base._build_replay_buffer)
    "trainer.v1.sampler.sampler_kwargs": "recipes.videossr.adaptive.replay_buffer.AdaptiveReplayBuffer",
    # videossr_cpu.yaml: handed whole to transformers' config, FSDP's MixedPrecision and ray.init
    "actor_rollout_ref.model.override_config": "the Hugging Face model config (HFModelConfig.override_config)",
    "actor_rollout_ref.actor.fsdp_config.mixed_precision": "FSDP's mixed-precision policy (fsdp/transformer_impl.py)",
    "actor_rollout_ref.ref.fsdp_config.mixed_precision": "FSDP's mixed-precision policy (fsdp/transformer_impl.py)",
    "ray_kwargs.ray_init": "ray.init's keyword arguments (main_ppo.run_ppo)",
    "transfer_queue.backend": "TransferQueue's own config (transfer_queue.init, trainer_base)",
}
# Keys that read as settings but change nothing on verl 0.9.1's agent-loop path (issue 13).
DEAD = {
    "data.image_patch_size": "read only by the overlong-prompt filter (disabled); the rollout uses the processor's",
    "data.truncation": "the agent loop never truncates; an over-long video prompt fails its group",
    "trainer.log_val_generations": "the console and file loggers ignore it",
}


def _dataclass_fields(node) -> set[str]:
    """Fields of the verl config dataclass a schema node instantiates (some keys live only there)."""
    import dataclasses

    from verl.utils.import_utils import load_class_from_fqn

    target = node.get("_target_") if hasattr(node, "get") else None
    return {f.name for f in dataclasses.fields(load_class_from_fqn(target))} if target else set()


def _leaves(node, prefix=""):
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not any(path.startswith(p) for p in PASSED_ON):
            yield from _leaves(value, path + ".")
        else:
            yield path


@pytest.fixture(scope="module")
def verl_schema_and_source():
    import re
    from pathlib import Path as P

    import verl

    root = P(verl.__file__).parent
    schema = compose_recipe("ppo_trainer", [], config_dir=root / "trainer" / "config")
    source = "\n".join(p.read_text(errors="ignore") for p in root.rglob("*.py") if "config" not in p.parts[-2:-1])
    return schema, lambda leaf: re.search(rf"""[.'"]{re.escape(leaf)}\b""", source) is not None


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_recipe_key_is_in_verls_schema_and_read(path, verl_schema_and_source):
    """Each key a recipe file sets exists in verl 0.9.1's ppo_trainer and is read by verl's code, or
    is handed on whole (PASSED_ON); none of the keys that do nothing (DEAD) is set."""
    import yaml

    schema, read_by_verl = verl_schema_and_source
    data = {k: v for k, v in yaml.safe_load(path.read_text()).items() if k not in ("hydra", "defaults")}
    keys = list(_leaves(data))
    assert keys
    for key in keys:
        assert key not in DEAD, f"{path.name}: {key} does nothing: {DEAD[key]}"
        if any(key.startswith(p) for p in PASSED_ON):
            continue
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(schema, parent) if parent else schema
        assert node is not None and (leaf in node.keys() or leaf in _dataclass_fields(node)), \
            f"{path.name}: {key} not in verl's schema"
        assert read_by_verl(key.rsplit(".", 1)[-1]), f"{path.name}: nothing in verl reads {key}"
