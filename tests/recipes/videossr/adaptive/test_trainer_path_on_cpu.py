"""Adaptive difficulty through verl 0.9.1's own V1 trainer code, as far as it runs on a CPU.

The trainer methods are verl's, unbound and run on a small harness object holding what they read
(``PPOTrainer._init_tokenizer``, ``_build_replay_buffer``, ``_init_dataloader``,
``_add_batch_to_generate``, ``_submit_batch_to_rollout``, ``_save_checkpoint``'s dataloader state):
the recipe's ``+adaptive=levels`` preset composed over ``videossr_small``, the tiny Qwen2.5-VL's
tokenizer and processor, a real graded dataset built from real frames, a local Ray with a real
TransferQueue, verl's ``RewardLoopWorker`` scoring with this repository's reward, verl's
``ReplayBuffer.sample`` (and its DAPO filter), ``MetricsAggregator`` and ``Tracking`` file logger.
The one stand-in is generation: vLLM does not run here, so a scripted "policy" writes each
group's responses into TransferQueue the way verl's ``AgentLoopWorkerTQ`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

pytestmark = [pytest.mark.ray, pytest.mark.slow]

ray = pytest.importorskip("ray")
tq = pytest.importorskip("transfer_queue")

from verl import DataProto  # noqa: E402
from verl.experimental.reward_loop.reward_loop import RewardLoopWorker  # noqa: E402
from verl.trainer.ppo.v1.trainer_base import PPOTrainer  # noqa: E402
from verl.trainer.ppo.v1.utils import MetricsAggregator  # noqa: E402
from verl.utils import tensordict_utils as tu  # noqa: E402
from verl.utils.tensordict_utils import list_of_dict_to_tensordict  # noqa: E402
from verl.utils.tracking import Tracking  # noqa: E402

from data_prep.build import build_dataset  # noqa: E402
from recipes.videossr.adaptive import controller as ctl  # noqa: E402
from recipes.videossr.adaptive.dataset import AdaptiveVideoSSRDataset  # noqa: E402
from recipes.videossr.adaptive.replay_buffer import AdaptiveReplayBuffer, AdaptiveReplayBufferAsync  # noqa: E402
from recipes.videossr.compose import compose_recipe, validate_recipe  # noqa: E402
from recipes.videossr.metrics import plot_group_metrics, read_run_metrics  # noqa: E402

N = 4  # rollouts per prompt
BATCH = 16

GRADED_MIX = """\
name: graded_test
output: graded.parquet
split: train
videos: per_entry
entries:
  - {task: counting, levels: all, count: 14}
  - {task: jigsaw, levels: all, count: 18}
  - {task: grounding, subtype: mirror, levels: all, count: 12}
"""


@pytest.fixture(scope="module")
def data_dir(frames_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("adaptive") / "data"
    mix = out.parent / "graded_test.yaml"
    mix.write_text(GRADED_MIX)
    build_dataset(frames_dir, out, str(mix), progress=False)
    build_dataset(frames_dir, out, "viubench", per_subtype=1, progress=False)
    return out


@pytest.fixture(scope="module")
def transfer_queue():
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, namespace="videossr-adaptive-test")
    tq.init(OmegaConf.create({"backend": {"SimpleStorage": {"num_data_storage_units": 1}}}))
    yield tq
    tq.close()
    ray.shutdown()


def recipe(data_dir, model_dir, *extra):
    cfg = compose_recipe("videossr_small", [
        "+adaptive=levels",
        f"data.train_files={data_dir / 'graded.parquet'}", f"data.val_files={data_dir / 'viubench.parquet'}",
        f"actor_rollout_ref.model.path={model_dir}", f"data.train_batch_size={BATCH}",
        f"actor_rollout_ref.actor.ppo_mini_batch_size={BATCH}", f"actor_rollout_ref.rollout.n={N}",
        "data.filter_overlong_prompts_workers=null", "trainer.n_gpus_per_node=1",
        "trainer.v1.sampler.sampler_kwargs.adaptive.min_groups=1",
        "trainer.v1.sampler.sampler_kwargs.adaptive.window=4", *extra])
    validate_recipe(cfg)
    OmegaConf.resolve(cfg)  # as verl's TaskRunnerV1.run does
    return cfg


def policy(data_source: str, truth: str, session: int) -> str:
    """The scripted model: counting always right, jigsaw never parsable, grounding right half the time."""
    task = data_source.split("/")[1]
    if task == "counting":
        return truth
    if task == "jigsaw":
        return "no idea"
    return truth if session % 2 == 0 else "0.0-0.1"


class ScriptedRollout:
    """Stands in for vLLM + verl's agent loop: writes scored trajectories into TransferQueue exactly
    as ``AgentLoopWorkerTQ._agent_loop_postprocess`` does, scored by verl's ``RewardLoopWorker``."""

    def __init__(self, cfg, tokenizer, policy=policy):
        self.worker = RewardLoopWorker(cfg)
        self.tokenizer, self.policy, self.prompts = tokenizer, policy, []

    def generate_sequences(self, batch):
        uids = list(batch["uid"])
        sources = list(batch["data_source"])
        models = list(batch["reward_model"])
        infos = list(batch["extra_info"])
        steps = int(batch["global_steps"])
        for uid, source, model, info in zip(uids, sources, models, infos):
            self.prompts.append(info)
            texts = [self.policy(source, model["ground_truth"], s) for s in range(N)]
            outputs = self._score(texts, source, model, info)
            keys, fields, tags = [], [], []
            for s, (text, out) in enumerate(zip(texts, outputs)):
                prompt = torch.tensor(self.tokenizer.encode("a video question", add_special_tokens=False))
                response = torch.tensor(self.tokenizer.encode(text, add_special_tokens=False) + [1])
                rm_scores = torch.zeros(len(response))
                rm_scores[-1] = out["reward_score"]
                keys.append(f"{uid}_{s}_0")
                fields.append({"prompts": prompt, "responses": response, "rm_scores": rm_scores, "uid": uid,
                               "data_source": source, "reward_model": model, "extra_info": info,
                               "extra_fields": {"reward_extra_info": out["reward_extra_info"],
                                                "min_global_steps": steps, "max_global_steps": steps}})
                tags.append({"status": "success", "prompt_len": len(prompt), "response_len": len(response),
                             "seq_len": len(prompt) + len(response), "global_steps": steps,
                             "min_global_steps": steps, "max_global_steps": steps})
            tq.kv_batch_put(keys=keys, fields=list_of_dict_to_tensordict(fields), tags=tags, partition_id="train")
            tq.kv_put(key=uid, partition_id="train", tag={"status": "finished"})

    def _score(self, texts, source, model, info):
        pad = self.tokenizer.pad_token_id or 0
        ids = [self.tokenizer.encode(t, add_special_tokens=False) + [self.tokenizer.eos_token_id] for t in texts]
        width = max(map(len, ids))
        responses = torch.tensor([r + [pad] * (width - len(r)) for r in ids])
        prompts = torch.full((len(texts), 2), pad)
        mask = torch.tensor([[1, 1] + [1] * len(r) + [0] * (width - len(r)) for r in ids])
        batch = DataProto.from_dict(
            tensors={"prompts": prompts, "responses": responses, "attention_mask": mask,
                     "input_ids": torch.cat([prompts, responses], dim=1)},
            non_tensors={"data_source": np.array([source] * len(texts), dtype=object),
                         "reward_model": np.array([model] * len(texts), dtype=object),
                         "extra_info": np.array([dict(info) for _ in texts], dtype=object)})
        return self.worker.loop.run_until_complete(self.worker.compute_score_batch(batch))


class Harness:
    """What verl's PPOTrainer methods read from ``self``, without Ray workers or GPUs."""

    _init_tokenizer = PPOTrainer._init_tokenizer
    _build_replay_buffer = PPOTrainer._build_replay_buffer
    _init_dataloader = PPOTrainer._init_dataloader
    _fetch_one_gen_batch = PPOTrainer._fetch_one_gen_batch
    _next_train_batch = PPOTrainer._next_train_batch
    _submit_batch_to_rollout = PPOTrainer._submit_batch_to_rollout
    _add_prompts_to_generate = PPOTrainer._add_prompts_to_generate
    _add_batch_to_generate = PPOTrainer._add_batch_to_generate

    def __init__(self, cfg, policy=policy):
        self.config = cfg
        self.trainer_mode = cfg.trainer.v1.trainer_mode
        self.parameter_sync_step = 1
        self.global_steps = 0
        self._init_tokenizer()
        self.replay_buffer = self._build_replay_buffer()  # PPOTrainer.__init__, before the datasets
        self._init_dataloader()  # PPOTrainer.init() -> _setup()
        self.agent_loop_manager = ScriptedRollout(cfg, self.tokenizer, policy)

    def train_step(self) -> dict:
        """PPOTrainer.fit + step, minus the model: submit a batch, sample it, aggregate its metrics."""
        self.global_steps += 1
        self._add_batch_to_generate()  # prepare_step()
        aggregator = MetricsAggregator()
        batch, metrics = self.replay_buffer.sample(global_steps=self.global_steps, partition_id="train",
                                                   batch_size=self.config.data.train_batch_size)
        aggregator.add_step_metrics(metrics, sample_count=len(batch.tags))
        tq.kv_clear(keys=batch.keys, partition_id=batch.partition_id)  # fit() step 7
        return aggregator.get_aggregated_metrics()

    def checkpoint(self, path: Path) -> Path:
        torch.save(self.train_dataloader.state_dict(), path)  # _save_checkpoint's data.pt
        return path

    def resume(self, path: Path) -> None:
        self.train_dataloader.load_state_dict(torch.load(path, weights_only=False))  # _load_checkpoint


def served_levels(prompts) -> list[tuple[str, int]]:
    return [(json.loads(p["meta"])["level_family"], json.loads(p["meta"])["level"]) for p in prompts]


def test_the_preset_selects_the_recipe_classes_through_verls_hooks(data_dir, tiny_qwen25vl_dir, transfer_queue):
    harness = Harness(recipe(data_dir, tiny_qwen25vl_dir))
    assert type(harness.replay_buffer) is AdaptiveReplayBuffer and harness.replay_buffer.controller.enabled
    train, val = harness.train_dataset, harness.val_dataset
    assert type(train) is AdaptiveVideoSSRDataset and train.controller is harness.replay_buffer.controller
    assert val.controller is None  # VIUBench validation rows are served as they are
    controller = train.controller
    assert controller.levels == {"counting": list(range(7)), "grounding/mirror": list(range(6)),
                                 "jigsaw": list(range(9))}
    # start: every family at its task's paper level
    assert controller.current == {"counting": 1, "grounding/mirror": 1, "jigsaw": 2}
    # one class name in the preset serves verl's async trainer modes too (ReplayBufferAsync semantics)
    cfg = recipe(data_dir, tiny_qwen25vl_dir, "trainer.v1.trainer_mode=colocate_async")
    assert type(PPOTrainer._build_replay_buffer(_Bare(cfg))) is AdaptiveReplayBufferAsync


class _Bare:
    _add_prompts_to_generate = staticmethod(lambda n: n)

    def __init__(self, cfg):
        self.config, self.trainer_mode = cfg, cfg.trainer.v1.trainer_mode


def test_metrics_reach_verls_logger_and_levels_follow_the_groups(data_dir, tiny_qwen25vl_dir, transfer_queue,
                                                                 tmp_path, monkeypatch):
    harness = Harness(recipe(data_dir, tiny_qwen25vl_dir))
    rollout, controller = harness.agent_loop_manager, harness.replay_buffer.controller
    monkeypatch.setenv("VERL_FILE_LOGGER_PATH", str(tmp_path / "logs" / "metrics-20260101T000000Z.jsonl"))
    (tmp_path / "logs").mkdir()
    tracking = Tracking(project_name="videossr", experiment_name="adaptive-test", default_backend=["console", "file"])

    m1 = harness.train_step()
    first = served_levels(rollout.prompts)
    assert len(first) == BATCH and {f for f, _ in first} == {"counting", "jigsaw", "grounding/mirror"}
    assert all(level == {"counting": 1, "grounding/mirror": 1, "jigsaw": 2}[f] for f, level in first)
    counts = {f: sum(1 for g, _ in first if g == f) for f in ("counting", "jigsaw", "grounding/mirror")}

    g = "videossr_groups"
    # counting: every rollout right -> all-high; jigsaw: never parsed -> all-low; grounding: informative
    assert m1[f"{g}/counting/zero_var_frac"] == 1.0 and m1[f"{g}/counting/all_high_frac"] == 1.0
    assert m1[f"{g}/counting/easy/l1/reward_mean"] == 1.0 and m1[f"{g}/counting/parse_fail_rate"] == 0.0
    assert m1[f"{g}/jigsaw/all_low_frac"] == 1.0 and m1[f"{g}/jigsaw/n6/l2/parse_fail_rate"] == 1.0
    assert m1[f"{g}/jigsaw/reward_mean"] == 0.0
    assert m1[f"{g}/grounding/mirror/zero_var_frac"] == 0.0
    assert m1[f"{g}/grounding/mirror/l1/groups"] == counts["grounding/mirror"]
    assert m1[f"{g}/all/groups"] == BATCH
    assert m1[f"{g}/all/zero_var_frac"] == pytest.approx((counts["counting"] + counts["jigsaw"]) / BATCH)
    assert m1[f"{g}/all/informative_samples"] == N * counts["grounding/mirror"]
    # the controller: counting one level harder, jigsaw one easier, grounding stays
    a = "videossr_adaptive"
    assert (m1[f"{a}/counting/level"], m1[f"{a}/jigsaw/level"], m1[f"{a}/grounding/mirror/level"]) == (2, 1, 1)
    assert m1[f"{a}/level_changes"] == 2
    assert m1[f"{a}/grounding/mirror/pass_rate"] == pytest.approx(m1[f"{g}/grounding/mirror/reward_mean"])
    tracking.log(data=m1, step=1)

    rollout.prompts.clear()
    m2 = harness.train_step()
    second = served_levels(rollout.prompts)
    assert all(level == {"counting": 2, "grounding/mirror": 1, "jigsaw": 1}[f] for f, level in second)
    assert f"{g}/counting/hard/l2/zero_var_frac" in m2 and f"{g}/jigsaw/n5/l1/all_low_frac" in m2
    tracking.log(data=m2, step=2)
    tracking.finish()

    rows = read_run_metrics(tmp_path)  # what verl's FileLogger wrote, read back by recipes.videossr.metrics
    assert [r["step"] for r in rows] == [1, 2]
    assert rows[0][f"{g}/counting/zero_var_frac"] == 1.0 and rows[0][f"{a}/counting/level"] == 2
    assert rows[1][f"{a}/counting/level"] == 3 and rows[1][f"{a}/jigsaw/level"] == 0  # still all-high / all-low
    png = plot_group_metrics(rows, tmp_path / "groups.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_resumed_run_continues_the_same_schedule(data_dir, tiny_qwen25vl_dir, transfer_queue, tmp_path):
    cfg = recipe(data_dir, tiny_qwen25vl_dir)
    run = Harness(cfg)
    run.train_step()
    run.train_step()
    ckpt = run.checkpoint(tmp_path / "data.pt")
    state = run.replay_buffer.controller.state_dict()
    run.agent_loop_manager.prompts.clear()
    run.train_step()
    run.train_step()
    uninterrupted = [p["sample_id"] for p in run.agent_loop_manager.prompts]

    resumed = Harness(cfg)  # a new process: fresh replay buffer, controller and dataset
    assert resumed.replay_buffer.controller.state_dict() != state
    resumed.resume(ckpt)
    resumed.global_steps = 2
    resumed.train_step()
    assert resumed.replay_buffer.controller.state_dict()["last_step"] == 3
    resumed.train_step()
    assert [p["sample_id"] for p in resumed.agent_loop_manager.prompts] == uninterrupted
    assert resumed.replay_buffer.controller.state_dict() == run.replay_buffer.controller.state_dict()


def test_dapo_filter_groups_are_counted_and_refilled(data_dir, tiny_qwen25vl_dir, transfer_queue):
    """+adaptive=levels with verl's group filter on: zero-variance groups are evicted and refilled by
    verl's sync ReplayBuffer, and the statistics still see them (as generated, not trained)."""
    cfg = recipe(data_dir, tiny_qwen25vl_dir, "algorithm.filter_groups.enable=true",
                 "algorithm.filter_groups.metric=reward", "trainer.v1.sampler.sampler_kwargs.adaptive.enable=false",
                 "data.train_batch_size=4", "actor_rollout_ref.actor.ppo_mini_batch_size=4")
    harness = Harness(cfg)
    buffer = harness.replay_buffer
    assert buffer.filter_groups_metric == "reward" and buffer.gen_batch_size == 1 and buffer.poll_interval > 0
    buffer.poll_interval = 0.01
    assert harness.config.data.gen_batch_size == 1  # verl's _init_dataloader: exact refills
    metrics = harness.train_step()
    g = "videossr_groups"
    assert metrics[f"{g}/all/trained_groups"] == 4
    assert metrics[f"{g}/all/filtered_groups"] == metrics["training/filter_groups/evicted_samples"] > 0
    assert metrics[f"{g}/all/groups"] == metrics[f"{g}/all/trained_groups"] + metrics[f"{g}/all/filtered_groups"]
    assert metrics[f"{g}/all/informative_samples"] == 4 * N  # only informative groups were trained
    assert metrics[f"{g}/all/zero_var_frac"] == pytest.approx(metrics[f"{g}/all/filtered_groups"] /
                                                              metrics[f"{g}/all/groups"])
    # verl's sync DAPO drains every in-flight refill and discards the surplus: nothing is left behind
    assert not (tq.kv_list("train") or {}).get("train")


def test_without_the_preset_nothing_changes(data_dir, tiny_qwen25vl_dir):
    cfg = compose_recipe("videossr_small", [f"data.train_files={data_dir / 'graded.parquet'}",
                                            f"data.val_files={data_dir / 'viubench.parquet'}"])
    assert cfg.trainer.v1.sampler.custom_sampler.path is None
    assert cfg.data.custom_cls.name == "VideoSSRDataset"
    ctl.install(None)
