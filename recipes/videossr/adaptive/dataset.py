"""``AdaptiveVideoSSRDataset``: the recipe's dataset, serving each family at the controller's level.

Selected through verl's dataset hook (``data.custom_cls``; ``+adaptive=levels`` sets it)::

    data.custom_cls.path=pkg://recipes.videossr.adaptive.dataset  data.custom_cls.name=AdaptiveVideoSSRDataset

verl 0.9.1's V1 trainer draws indices with its own ``RandomSampler`` (``create_rl_sampler``: no
sampler hook) and fetches rows through ``__getitem__``. For a training file whose rows carry a
level (a graded build, ``data_prep/mixes/videossr_graded.yaml``), index ``i`` is served as the
next row of the same family (task, or grounding perturbation) at the level the controller chose
for it (``recipes.videossr.adaptive.controller``): the task mix stays the file's, the difficulty
follows the model. Every other row (VIUBench validation, the paper's rows) is served as is, and
without an enabled controller the class is ``VideoSSRDataset``.

State: ``state_dict`` / ``load_state_dict`` (torchdata's ``Stateful`` protocol) hold the
controller's whole state, so verl's dataloader checkpoint (``data.pt``,
``PPOTrainer._save_checkpoint`` / ``_load_checkpoint``) carries it and a resumed run serves the
same levels and rows as an uninterrupted one.

The level is chosen in the process that runs ``__getitem__``: the preset sets
``data.dataloader_num_workers: 0`` (in verl 0.9.1 ``__getitem__`` only builds messages; videos
are decoded by the rollout workers), and a dataloader worker process raises instead of serving
stale levels.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from torch.utils.data import get_worker_info

from recipes.videossr.adaptive.controller import LevelController, active
from recipes.videossr.dataset import VideoSSRDataset, _loaded_rows, data_file_list


def level_pools(extra_infos) -> tuple[dict[str, dict[int, list[int]]], dict[str, int], list[Optional[str]]]:
    """``(pools, paper_levels, family_of_row)`` from the rows' ``extra_info``: row indices per
    (family, level), each family's paper level (its task's ``default_level``), and each row's family
    (None for a row without a level)."""
    from data_prep.tasks.registry import LEVEL_FAMILY_KEY, LEVEL_KEY, find_task

    pools: dict[str, dict[int, list[int]]] = {}
    paper: dict[str, int] = {}
    families: list[Optional[str]] = []
    for i, info in enumerate(extra_infos):
        meta = (info or {}).get("meta")
        try:
            meta = json.loads(meta) if isinstance(meta, str) else (meta or {})
        except ValueError:
            meta = {}
        if not isinstance(meta, dict) or LEVEL_KEY not in meta or LEVEL_FAMILY_KEY not in meta:
            families.append(None)
            continue
        family, level = str(meta[LEVEL_FAMILY_KEY]), int(meta[LEVEL_KEY])
        pools.setdefault(family, {}).setdefault(level, []).append(i)
        families.append(family)
        if family not in paper:
            task = find_task(str(info.get("task", "")), info)
            paper[family] = task.default_level if task is not None else 0
    return pools, paper, families


class AdaptiveVideoSSRDataset(VideoSSRDataset):
    """``VideoSSRDataset`` whose graded training rows follow the level controller (module docstring)."""

    def __init__(self, data_files, tokenizer, config, processor=None, max_samples: int = -1):
        super().__init__(data_files, tokenizer, config, processor=processor, max_samples=max_samples)
        self.controller: Optional[LevelController] = None
        self._families: list[Optional[str]] = []
        controller = active()
        is_train = data_file_list(self.original_data_files) == data_file_list(config.get("train_files"))
        if controller is None or not controller.enabled or not is_train:
            return
        infos = (row["extra_info"] for row in _loaded_rows(self.dataframe.select_columns(["extra_info"])))
        pools, paper, families = level_pools(infos)
        if pools:
            controller.attach_pools(pools, paper)
            self.controller, self._families = controller, families

    def __getitem__(self, item):
        if self.controller is not None:
            family = self._families[item]
            if family is not None:
                if get_worker_info() is not None:
                    raise RuntimeError(
                        "adaptive levels are chosen in the trainer process: set data.dataloader_num_workers=0 "
                        "(the +adaptive presets do; verl 0.9.1's __getitem__ only builds messages)")
                item = self.controller.next_index(family)
        return super().__getitem__(item)

    # torchdata's Stateful protocol: verl's StatefulDataLoader saves this in data.pt
    def state_dict(self) -> dict[str, Any]:
        return {"adaptive": self.controller.state_dict()} if self.controller is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.controller is not None and state and state.get("adaptive"):
            self.controller.load_state_dict(state["adaptive"])


__all__ = ["AdaptiveVideoSSRDataset", "level_pools"]
