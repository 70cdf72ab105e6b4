"""verl V1's replay buffer plus per-task group statistics and the adaptive level controller.

Selected through verl 0.9.1's own hook (``verl/trainer/ppo/v1/trainer_base.py``,
``PPOTrainer._build_replay_buffer``)::

    trainer.v1.sampler.custom_sampler.path=pkg://recipes.videossr.adaptive.replay_buffer
    trainer.v1.sampler.custom_sampler.name=AdaptiveReplayBuffer

The trainer calls ``sample()`` once per training step (``PPOTrainer._step_once``) and merges the
metrics it returns into the step's metrics (``MetricsAggregator``, then ``Tracking.log``: console,
file, wandb, ...). Here ``sample()`` runs verl's own sampling unchanged, then reads the selected
groups' scores from TransferQueue (``rm_scores``, the row's ``data_source`` / ``extra_info`` and
the reward's extra info, the fields verl's agent loop stores per trajectory), adds
``controller.group_metrics`` of every group generated for the step (the trained ones and those
the DAPO filter evicted on the way) and lets the controller choose the next levels.

``sampler_kwargs`` (``trainer.v1.sampler.sampler_kwargs``, handed whole to this class by verl):

================  ===============================================================================
key               meaning
================  ===============================================================================
adaptive          the controller's options (``controller.OPTIONS``); ``enable: false`` = measure only
filter_groups     DAPO group filtering, ``${algorithm.filter_groups}``: verl hands a custom sampler
                  no filter settings of its own, so the presets pass them here
train_batch_size  ``${data.train_batch_size}`` (the sync trainer's DAPO refill accounting)
================  ===============================================================================

One class serves every trainer mode: with ``trainer.v1.trainer_mode`` other than ``sync`` it is
built as :class:`AdaptiveReplayBufferAsync` (verl's ``ReplayBufferAsync`` semantics).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Mapping, Optional

import transfer_queue as tq
from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer, ReplayBufferAsync

from recipes.videossr.adaptive.controller import GroupResult, LevelController, group_metrics, install
from rewards.naming import parse_data_source

logger = logging.getLogger(__name__)

SAMPLER_KWARGS = ("adaptive", "filter_groups", "train_batch_size")
FIELDS = ["rm_scores", "data_source", "extra_info", "extra_fields"]


def sampler_options(sampler_kwargs: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """``sampler_kwargs`` as plain values; unknown keys raise (a typo must not silently do nothing)."""
    from omegaconf import DictConfig, OmegaConf

    raw = OmegaConf.to_container(sampler_kwargs, resolve=True) if isinstance(sampler_kwargs, DictConfig) else \
        dict(sampler_kwargs or {})
    unknown = sorted(set(raw) - set(SAMPLER_KWARGS))
    if unknown:
        raise ValueError(f"unknown trainer.v1.sampler.sampler_kwargs {unknown}; {__name__} reads {list(SAMPLER_KWARGS)}")
    return {"adaptive": raw.get("adaptive") or {}, "filter_groups": raw.get("filter_groups") or {},
            "train_batch_size": raw.get("train_batch_size")}


def filter_groups_metric(filter_groups: Mapping[str, Any]) -> Optional[str]:
    """verl's DAPO metric name when group filtering is on (``PPOTrainer._resolve_filter_groups_metric``)."""
    if not filter_groups.get("enable", False):
        return None
    metric = filter_groups.get("metric")
    if not metric:
        raise ValueError("algorithm.filter_groups.metric must be set when group filtering is enabled")
    return str(metric)


def _as_list(value: Any, n: int) -> list:
    """A TransferQueue non-tensor field as a plain list of ``n`` items."""
    items = value.tolist() if hasattr(value, "tolist") else list(value)
    while len(items) == 1 and n != 1 and isinstance(items[0], (list, tuple)):
        items = list(items[0])  # a LinkedList(LinkedList([...])) comes back wrapped once more
    if len(items) != n:
        raise ValueError(f"expected {n} values, got {len(items)}")
    return items


def _row_level(extra_info: Mapping[str, Any]) -> tuple[int, str]:
    meta = extra_info.get("meta") if isinstance(extra_info, Mapping) else None
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = None
    if isinstance(meta, Mapping) and "level" in meta and "level_family" in meta:
        return int(meta["level"]), str(meta["level_family"])
    return -1, ""


def groups_from_fields(keys: list[str], data: Mapping[str, Any], trained: bool = True) -> list[GroupResult]:
    """Groups of the trajectories ``keys`` (``{uid}_{session}_{index}``) from their TransferQueue
    fields; the last output of each session counts (as verl's validation does)."""
    n = len(keys)
    rewards = data["rm_scores"]
    scores = [float(x) for x in (rewards.sum(dim=1).tolist() if hasattr(rewards, "sum") else
                                 [sum(r) for r in rewards])]
    sources = _as_list(data["data_source"], n)
    infos = _as_list(data["extra_info"], n)
    extras = _as_list(data["extra_fields"], n)
    last: dict[tuple[str, str], tuple[int, int]] = {}
    for pos, key in enumerate(keys):
        uid, session, index = (key.rsplit("_", 2) + ["0", "0"])[:3]
        if (uid, session) not in last or int(index) > last[(uid, session)][0]:
            last[(uid, session)] = (int(index), pos)
    by_uid: dict[str, list[int]] = {}
    for (uid, session), (_, pos) in sorted(last.items(), key=lambda kv: (kv[0][0], int(kv[0][1]))):
        by_uid.setdefault(uid, []).append(pos)
    groups = []
    for uid, positions in by_uid.items():
        first = positions[0]
        info = infos[first] if isinstance(infos[first], Mapping) else {}
        try:
            task, subtype = parse_data_source(sources[first])
        except ValueError:
            task, subtype = str(info.get("task") or sources[first]), str(info.get("subtype") or "")
        level, family = _row_level(info)
        reward_info = [(extras[p] or {}).get("reward_extra_info", {}) if isinstance(extras[p], Mapping) else {}
                       for p in positions]
        parsed = tuple(float(r["parsed"]) for r in reward_info) if all("parsed" in r for r in reward_info) else None
        key = f"{info.get('sample_id', '')}/{info.get('index', '')}"
        groups.append(GroupResult(task, subtype, level, family, tuple(scores[p] for p in positions), parsed,
                                  trained, key))
    return sorted(groups, key=lambda g: (g.task, g.subtype, g.level, g.key, g.scores))


class AdaptiveReplayBuffer(ReplayBuffer):
    """verl's ``ReplayBuffer`` (sync) whose ``sample()`` also returns the group statistics."""

    def __new__(cls, *args: Any, **kwargs: Any):
        if cls is AdaptiveReplayBuffer and kwargs.get("trainer_mode", args[0] if args else "sync") != "sync":
            cls = AdaptiveReplayBufferAsync  # verl's async trainers use ReplayBufferAsync's semantics
        return super().__new__(cls)

    def __init__(self, trainer_mode: str, trainer_config: Any, max_off_policy_threshold: Optional[int],
                 max_off_policy_strategy: str, sampler_kwargs: Any, poll_interval: float = 2.0, refill_fn=None,
                 **verl_kwargs: Any):
        options = sampler_options(sampler_kwargs)
        metric = filter_groups_metric(options["filter_groups"])
        if metric is not None and "filter_groups_metric" not in verl_kwargs:
            verl_kwargs["filter_groups_metric"] = metric
            if trainer_mode == "sync":
                if not options["train_batch_size"]:
                    raise ValueError("sampler_kwargs.train_batch_size (${data.train_batch_size}) is needed for "
                                     "group filtering in the sync trainer")
                verl_kwargs.update(train_batch_size=int(options["train_batch_size"]), gen_batch_size=1,
                                   max_inflight_gen_batches=int(options["filter_groups"].get(
                                       "max_inflight_gen_batches", 1)))
        super().__init__(trainer_mode, trainer_config, max_off_policy_threshold, max_off_policy_strategy,
                         sampler_kwargs, poll_interval=poll_interval, refill_fn=refill_fn, **verl_kwargs)
        self.controller = LevelController(options["adaptive"])
        install(self.controller)  # the training dataset, built next in this process, follows it
        self._filtered: dict[str, list[GroupResult]] = {}
        self._read_failed = False

    def _read_groups(self, partition_id: str, keys: list[str], trained: bool) -> list[GroupResult]:
        if not keys:
            return []
        try:
            data = tq.kv_batch_get(keys=keys, partition_id=partition_id, select_fields=FIELDS)
            return groups_from_fields(keys, data, trained=trained)
        except Exception as exc:  # statistics must never stop a training run
            if not self._read_failed:
                logger.warning("videossr group statistics unavailable (%s: %s); training continues without them",
                               type(exc).__name__, exc)
                self._read_failed = True
            return []

    def _evict_terminal_groups(self, global_steps, partition_id, eviction_reasons):
        # Groups the DAPO filter drops were generated for this step too: read them before verl clears them.
        dapo_uids = eviction_reasons[1]
        if partition_id != "val" and dapo_uids:
            keys = sorted(k for k in self.partitions[partition_id] if k.split("_")[0] in dapo_uids)
            self._filtered.setdefault(partition_id, []).extend(self._read_groups(partition_id, keys, trained=False))
        return super()._evict_terminal_groups(global_steps, partition_id, eviction_reasons)

    def sample(self, global_steps: int, partition_id: str, batch_size: int):
        batch, metrics = super().sample(global_steps=global_steps, partition_id=partition_id, batch_size=batch_size)
        if partition_id == "val":
            return batch, metrics
        groups = self._filtered.pop(partition_id, []) + self._read_groups(partition_id, list(batch.keys), True)
        if groups:
            metrics.update(group_metrics(groups, high_score=self.controller.options["high_score"]))
        metrics.update(self.controller.update(global_steps, groups))
        return batch, metrics


class AdaptiveReplayBufferAsync(AdaptiveReplayBuffer, ReplayBufferAsync):
    """The same statistics and controller over verl's ``ReplayBufferAsync`` (async trainer modes)."""


__all__ = ["AdaptiveReplayBuffer", "AdaptiveReplayBufferAsync", "groups_from_fields", "sampler_options"]
