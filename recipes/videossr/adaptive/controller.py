"""Group statistics of GRPO rollouts, and the controller that picks each task's difficulty level.

GRPO learns nothing from a group whose n rollouts all score the same (zero variance: zero
advantage). This module measures that per training step and per task / subtype / level
(:func:`group_metrics`), and :class:`LevelController` keeps each *family* (the unit that climbs
one difficulty ladder, ``data_prep.tasks.registry.level_family``: ``counting``, ``jigsaw``,
``grounding/mirror``, ...) near a target pass rate by moving its level one rung at a time.

The rule, per family, after every training step (deterministic: no randomness, families in
sorted order, groups in a fixed order):

* the pass rate is the mean group reward over the last ``window`` groups observed *at the
  family's current level* (groups of another level, e.g. dispatched before a change, are logged
  but never decide);
* with at least ``min_groups`` of them and ``hold_steps`` steps since the last change: above
  ``target_high`` -> one level harder, below ``target_low`` -> one level easier (within the levels
  present in the data); after a change the new level's window starts empty.

The controller also walks each (family, level) pool of dataset rows in a seeded order
(:meth:`LevelController.next_index`), so the rows served are a pure function of the seed and the
schedule; its whole state round-trips through ``state_dict`` / ``load_state_dict`` (the recipe's
dataset saves it in verl's ``data.pt`` checkpoint).

>>> c = LevelController({"enable": True, "min_groups": 2})
>>> c.register_family("jigsaw", levels=[0, 1, 2, 3], paper_level=2)
>>> easy = [GroupResult("jigsaw", "n6", 2, "jigsaw", (1.0,) * 8)] * 2
>>> c.update(1, easy)["videossr_adaptive/jigsaw/level"], c.level("jigsaw")
(3.0, 3)
"""

from __future__ import annotations

import copy
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

GROUP_PREFIX = "videossr_groups"  # per task / subtype / level rollout-group statistics
ADAPTIVE_PREFIX = "videossr_adaptive"  # the controller's levels and pass rates
STATE_VERSION = 1

# sampler_kwargs.adaptive (recipes/videossr/config/adaptive/*.yaml): key -> (default, meaning)
OPTIONS: dict[str, tuple[Any, str]] = {
    "enable": (False, "choose the level of the next prompts (needs rows with levels); false: measure only"),
    "target_low": (0.3, "pass rate (mean group reward) below which a family gets one level easier"),
    "target_high": (0.7, "pass rate above which a family gets one level harder"),
    "min_groups": (8, "groups observed at the current level before a decision"),
    "window": (32, "most recent groups at the current level that make the pass rate"),
    "hold_steps": (0, "training steps after a change before the next one may happen"),
    "start": ("paper", "first level: paper (the task's default_level) | lowest | highest | <level number>"),
    "seed": (0, "seed of the order rows of each (family, level) pool are served in"),
    "high_score": (0.5, "a zero-variance group whose common score is >= this counts as all-high"),
}


def adaptive_options(block: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """The defaults of :data:`OPTIONS` updated with ``block``; unknown keys and bad values raise.

    >>> adaptive_options({"target_high": 0.8})["target_high"], adaptive_options(None)["enable"]
    (0.8, False)
    """
    block = dict(block or {})
    unknown = sorted(set(block) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown adaptive option(s) {unknown}; known: {sorted(OPTIONS)}")
    out = {key: default for key, (default, _) in OPTIONS.items()} | block
    if not 0.0 <= float(out["target_low"]) < float(out["target_high"]) <= 1.0:
        raise ValueError(f"need 0 <= target_low < target_high <= 1, got {out['target_low']}, {out['target_high']}")
    for key in ("min_groups", "window"):
        if not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 1:
            raise ValueError(f"adaptive.{key} must be a positive integer, got {out[key]!r}")
    if out["min_groups"] > out["window"]:
        raise ValueError(f"adaptive.min_groups ({out['min_groups']}) cannot exceed window ({out['window']})")
    if not isinstance(out["hold_steps"], int) or out["hold_steps"] < 0:
        raise ValueError(f"adaptive.hold_steps must be a non-negative integer, got {out['hold_steps']!r}")
    start = out["start"]
    if start not in ("paper", "lowest", "highest") and not (isinstance(start, int) and not isinstance(start, bool)):
        raise ValueError(f"adaptive.start must be paper, lowest, highest or a level number, got {start!r}")
    out["enable"] = bool(out["enable"])
    out["seed"] = int(out["seed"])
    return out


@dataclass(frozen=True)
class GroupResult:
    """The scored rollouts of one prompt (a GRPO group).

    ``level`` is -1 and ``family`` "" for a row without a level (the paper's rows); ``parsed``
    holds the reward's per-rollout ``parsed`` flag (``rewards.scoring``) when it reports one;
    ``trained`` is False for a group the group filter (``algorithm.filter_groups``) evicted.
    """

    task: str
    subtype: str
    level: int
    family: str
    scores: tuple[float, ...]
    parsed: Optional[tuple[float, ...]] = None
    trained: bool = True
    key: str = ""  # orders groups deterministically (the row's sample id)

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores)) if self.scores else 0.0

    @property
    def zero_variance(self) -> bool:
        """All n rollouts scored exactly the same (verl's DAPO rule: std == 0 with n > 1)."""
        return len(self.scores) > 1 and max(self.scores) == min(self.scores)


def _scopes(group: GroupResult) -> list[str]:
    scopes = ["all", group.task, f"{group.task}/{group.subtype}"]
    if group.level >= 0:
        scopes.append(f"{group.task}/{group.subtype}/l{group.level}")
    return scopes


def group_metrics(groups: Iterable[GroupResult], high_score: float = 0.5,
                  prefix: str = GROUP_PREFIX) -> dict[str, float]:
    """Per scope (``all``, ``<task>``, ``<task>/<subtype>``, ``<task>/<subtype>/l<k>``) of the
    groups generated this step: ``reward_mean`` (over rollouts), ``zero_var_frac``,
    ``all_high_frac``, ``all_low_frac`` (of groups), ``parse_fail_rate`` (of rollouts, when the
    reward reports ``parsed``) and ``groups``; plus ``all/trained_groups``, ``all/filtered_groups``
    and ``all/informative_samples`` (rollouts of trained groups that carry a GRPO signal).

    >>> m = group_metrics([GroupResult("counting", "easy", -1, "", (1.0, 1.0)),
    ...                    GroupResult("counting", "easy", -1, "", (0.0, 1.0))])
    >>> m["videossr_groups/counting/easy/zero_var_frac"], m["videossr_groups/all/all_high_frac"]
    (0.5, 0.5)
    """
    acc: dict[str, dict[str, float]] = {}
    trained = filtered = informative = 0
    for g in groups:
        zero = g.zero_variance
        high = zero and g.scores[0] >= high_score
        if g.trained:
            trained += 1
            informative += 0 if zero else len(g.scores)
        else:
            filtered += 1
        for scope in _scopes(g):
            a = acc.setdefault(scope, {"groups": 0, "rollouts": 0, "reward": 0.0, "zero": 0, "high": 0,
                                       "parsed_n": 0, "parse_fail": 0.0})
            a["groups"] += 1
            a["rollouts"] += len(g.scores)
            a["reward"] += float(sum(g.scores))
            a["zero"] += zero
            a["high"] += high
            if g.parsed is not None:
                a["parsed_n"] += len(g.parsed)
                a["parse_fail"] += float(sum(1.0 - float(p) for p in g.parsed))
    out: dict[str, float] = {}
    for scope in sorted(acc):
        a = acc[scope]
        base = f"{prefix}/{scope}"
        out[f"{base}/groups"] = float(a["groups"])
        out[f"{base}/reward_mean"] = a["reward"] / a["rollouts"] if a["rollouts"] else 0.0
        out[f"{base}/zero_var_frac"] = a["zero"] / a["groups"]
        out[f"{base}/all_high_frac"] = a["high"] / a["groups"]
        out[f"{base}/all_low_frac"] = (a["zero"] - a["high"]) / a["groups"]
        if a["parsed_n"]:
            out[f"{base}/parse_fail_rate"] = a["parse_fail"] / a["parsed_n"]
    if acc:
        out[f"{prefix}/all/trained_groups"] = float(trained)
        out[f"{prefix}/all/filtered_groups"] = float(filtered)
        out[f"{prefix}/all/informative_samples"] = float(informative)
    return out


class LevelController:
    """Chooses each family's difficulty level from the recent group results (module docstring)."""

    def __init__(self, options: Optional[Mapping[str, Any]] = None):
        self.options = adaptive_options(options)
        self.levels: dict[str, list[int]] = {}  # family -> levels present, ascending
        self.current: dict[str, int] = {}
        self.windows: dict[str, deque] = {}
        self.since_change: dict[str, int] = {}  # steps since the family's last change; -1: none yet
        self.pools: dict[str, dict[int, list[int]]] = {}  # family -> level -> row indices
        self.cursors: dict[str, dict[int, list[int]]] = {}  # family -> level -> [wrap, position]
        self.last_step = 0
        self._orders: dict[tuple[str, int, int], np.ndarray] = {}

    @property
    def enabled(self) -> bool:
        return self.options["enable"]

    # -- families and pools ----------------------------------------------------------------------
    def _start(self, levels: list[int], paper_level: int) -> int:
        start = self.options["start"]
        if start == "lowest":
            return levels[0]
        if start == "highest":
            return levels[-1]
        want = paper_level if start == "paper" else int(start)
        return min(levels, key=lambda k: (abs(k - want), k))  # the nearest level present (ties: easier)

    def register_family(self, family: str, levels: Sequence[int], paper_level: int = 0) -> None:
        """Make ``family`` known with the ``levels`` its rows have; the first call sets its start."""
        levels = sorted({int(k) for k in levels})
        if not levels:
            raise ValueError(f"family {family!r} has no levels")
        if family in self.levels:
            if levels != self.levels[family]:
                raise ValueError(f"family {family!r} registered with levels {self.levels[family]}, now {levels}")
            return
        self.levels[family] = levels
        self.current[family] = self._start(levels, paper_level)
        self.windows[family] = deque(maxlen=self.options["window"])
        self.since_change[family] = -1

    def attach_pools(self, pools: Mapping[str, Mapping[int, Sequence[int]]], paper_levels: Mapping[str, int]) -> None:
        """Row indices per (family, level) of the training dataset; families are registered from them."""
        for family in sorted(pools):
            by_level = {int(k): sorted(int(i) for i in rows) for k, rows in pools[family].items() if rows}
            self.register_family(family, list(by_level), paper_levels.get(family, 0))
            self.pools[family] = by_level
            self.cursors.setdefault(family, {})

    def level(self, family: str) -> int:
        return self.current[family]

    def _order(self, family: str, level: int, wrap: int) -> np.ndarray:
        key = (family, level, wrap)
        if key not in self._orders:
            rng = np.random.default_rng([self.options["seed"], zlib.crc32(family.encode()), level, wrap])
            self._orders = {k: v for k, v in self._orders.items() if k[:2] != key[:2]}  # keep one per pool
            self._orders[key] = rng.permutation(len(self.pools[family][level]))
        return self._orders[key]

    def next_index(self, family: str) -> int:
        """The next dataset row of ``family`` at its current level (each pool walked in a seeded
        order, reshuffled on every pass)."""
        level = self.current[family]
        pool = self.pools[family][level]
        wrap, pos = self.cursors[family].setdefault(level, [0, 0])
        index = pool[int(self._order(family, level, wrap)[pos])]
        pos += 1
        self.cursors[family][level] = [wrap + 1, 0] if pos == len(pool) else [wrap, pos]
        return index

    # -- the rule --------------------------------------------------------------------------------
    def update(self, step: int, groups: Iterable[GroupResult]) -> dict[str, float]:
        """Record one training step's groups, move levels, and return the controller's metrics."""
        if not self.enabled:
            return {}
        self.last_step = int(step)
        for g in sorted(groups, key=lambda g: (g.family, g.key, g.scores)):
            if g.family in self.current and g.level == self.current[g.family]:
                self.windows[g.family].append(g.mean)
        opt, changes, out = self.options, 0, {}
        for family in sorted(self.current):
            if self.since_change[family] >= 0:
                self.since_change[family] += 1
            held = 0 <= self.since_change[family] <= opt["hold_steps"]
            window, levels = self.windows[family], self.levels[family]
            rate = float(np.mean(window)) if window else None
            at = levels.index(self.current[family])
            if rate is not None and len(window) >= opt["min_groups"] and not held:
                move = 1 if rate > opt["target_high"] else -1 if rate < opt["target_low"] else 0
                if move and 0 <= at + move < len(levels):
                    self.current[family] = levels[at + move]
                    self.windows[family] = deque(maxlen=opt["window"])
                    self.since_change[family] = 0
                    changes += 1
            out[f"{ADAPTIVE_PREFIX}/{family}/level"] = float(self.current[family])
            if rate is not None:
                out[f"{ADAPTIVE_PREFIX}/{family}/pass_rate"] = rate
        out[f"{ADAPTIVE_PREFIX}/level_changes"] = float(changes)
        return out

    # -- checkpoint --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything that decides the next levels and rows (plain Python values)."""
        return {
            "version": STATE_VERSION,
            "options": copy.deepcopy(self.options),
            "levels": copy.deepcopy(self.levels),
            "current": dict(self.current),
            "windows": {f: list(w) for f, w in self.windows.items()},
            "since_change": dict(self.since_change),
            "cursors": copy.deepcopy(self.cursors),
            "last_step": self.last_step,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; the families must match the ones registered now."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"adaptive controller state version {state.get('version')!r}, expected {STATE_VERSION}")
        levels = {f: [int(k) for k in v] for f, v in state["levels"].items()}
        if self.levels and levels != self.levels:
            raise ValueError(f"the checkpoint's families/levels {levels} differ from this dataset's {self.levels}")
        self.levels = levels
        self.current = {f: int(k) for f, k in state["current"].items()}
        self.windows = {f: deque((float(x) for x in w), maxlen=self.options["window"])
                        for f, w in state["windows"].items()}
        self.since_change = {f: int(n) for f, n in state["since_change"].items()}
        self.cursors = {f: {int(k): [int(a), int(b)] for k, (a, b) in c.items()} for f, c in state["cursors"].items()}
        self.last_step = int(state["last_step"])


# -- one controller per trainer process ------------------------------------------------------------
# verl builds the replay buffer (which owns the controller) before the datasets, in the same
# process (verl/trainer/ppo/v1/trainer_base.py: PPOTrainer.__init__, then init() -> _init_dataloader).
_ACTIVE: Optional[LevelController] = None


def install(controller: Optional[LevelController]) -> None:
    """Make ``controller`` the one this process's training dataset follows (None: none)."""
    global _ACTIVE
    _ACTIVE = controller


def active() -> Optional[LevelController]:
    return _ACTIVE
