"""Simulated GRPO training: zero-variance groups under the paper's fixed mix, adaptive levels, DAPO.

A simulated policy answers the real task families of VideoSSR-30K (the mix's proportions, the
difficulty ladders the tasks declare, ``data_prep.tasks``) with pass probability
``sigmoid(skill[task] - offset[family] - rung * level)``: harder levels pass less often, and each
task's skill grows with every *informative* group it trains on (GRPO learns nothing from a group
whose n rollouts all score the same). Rewards are 0/1 per rollout, n rollouts per prompt, a batch
of prompts per step. Four runs, each from the same start:

* ``fixed``: the paper's levels for the whole run (counting easy, jigsaw 6 clips, grounding 8-16
  frames), what ``videossr30k`` trains on;
* ``adaptive``: ``recipes.videossr.adaptive.controller.LevelController`` (the class the trainer
  runs, with the ``+adaptive=levels`` preset's options) picks each family's level every step;
* ``dynamic``: the fixed levels with DAPO-style dynamic sampling (verl's ``algorithm.filter_groups``):
  zero-variance groups are dropped and each earns two fresh prompts (verl's sync refill rule) until
  the batch holds only informative groups, up to ``--max-gen-batches`` batches of prompts a step;
* ``adaptive_dynamic``: both.

Reported per run: the fraction of zero-variance groups among the groups generated each step,
the informative samples trained per step (rollouts of groups with a GRPO signal) and the
rollouts generated per step (the price of dynamic sampling). The goal (issue 17): adaptive keeps
the zero-variance fraction below 20% at every step where the fixed mix exceeds 50%.

    python bench/bench_adaptive.py [--steps 300] [--seed 0] [--json PATH] [--plot PNG]

Runs in a few seconds on one CPU; the same seed gives the same numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data_prep.builders.mixes import load_mix
from data_prep.tasks.registry import get_task, level_family
from recipes.videossr.adaptive.controller import GroupResult, LevelController, adaptive_options

GOAL_FIXED_OVER, GOAL_ADAPTIVE_UNDER = 0.5, 0.2
# the +adaptive=levels preset's controller options (recipes/videossr/config/adaptive/levels.yaml)
PRESET = {"enable": True, "target_low": 0.3, "target_high": 0.7, "min_groups": 8, "window": 32, "hold_steps": 0,
          "start": "paper"}


@dataclass(frozen=True)
class Scenario:
    """The simulated model. Logit units: skill - difficulty = 0 passes half the time."""

    # start: skill minus the paper level's difficulty, per family (the paper chose levels that
    # start informative: pass rates 0.6-0.8)
    start_margin: dict = field(default_factory=lambda: {
        "counting": 0.5, "jigsaw": 0.4, "grounding/channel_swap": 1.4, "grounding/rotate_180": 1.2,
        "grounding/zoom_out": 0.9, "grounding/mirror": 0.6})
    rung: float = 1.0  # difficulty added by one level
    learning_rate: float = 0.0006  # skill gained per informative group trained on (per task)


def families_of_the_mix() -> dict[str, float]:
    """VideoSSR-30K's families with their share of the prompts."""
    mix = load_mix("videossr30k")
    total = sum(e.count for e in mix.entries)
    shares: dict[str, float] = {}
    for e in mix.entries:
        task = get_task(e.task)
        family = level_family(e.task, "" if task.levels_set_subtype else e.subtype)
        shares[family] = shares.get(family, 0.0) + e.count / total
    return shares


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class Simulation:
    def __init__(self, strategy: str, scenario: Scenario, seed: int, batch: int, n: int, max_gen_batches: int):
        self.strategy, self.scenario, self.batch, self.n = strategy, scenario, batch, n
        self.max_gen_batches = max_gen_batches
        self.rng = np.random.default_rng([seed, ["fixed", "adaptive", "dynamic", "adaptive_dynamic"].index(strategy)])
        self.shares = families_of_the_mix()
        self.names = sorted(self.shares)
        self.task_of = {f: f.split("/")[0] for f in self.names}
        self.paper = {f: get_task(self.task_of[f]).default_level for f in self.names}
        self.ladder = {f: len(get_task(self.task_of[f]).levels) for f in self.names}
        # difficulty(f, k) = offset[f] + rung * k; skill[task] starts so the paper level has the margin
        self.offset = {f: -scenario.start_margin[f] - scenario.rung * self.paper[f] for f in self.names}
        self.skill = {t: 0.0 for t in set(self.task_of.values())}
        self.controller = None
        if strategy.startswith("adaptive"):
            self.controller = LevelController(adaptive_options(PRESET))
            for f in self.names:
                self.controller.register_family(f, list(range(self.ladder[f])), self.paper[f])

    def level(self, family: str) -> int:
        return self.controller.level(family) if self.controller else self.paper[family]

    def pass_rate(self, family: str, level: int) -> float:
        return sigmoid(self.skill[self.task_of[family]] - self.offset[family] - self.scenario.rung * level)

    def generate(self, count: int) -> list[GroupResult]:
        picks = self.rng.choice(len(self.names), size=count, p=[self.shares[f] for f in self.names])
        groups = []
        for i in picks:
            family = self.names[i]
            level = self.level(family)
            right = self.rng.random(self.n) < self.pass_rate(family, level)
            groups.append(GroupResult(self.task_of[family], family.split("/")[-1], level, family,
                                      tuple(float(r) for r in right)))
        return groups

    def step(self, step: int) -> dict[str, float]:
        generated = self.generate(self.batch)
        if self.strategy.endswith("dynamic"):
            # DAPO as verl 0.9.1's sync ReplayBuffer does it: every evicted zero-variance group earns
            # two fresh prompts, until the batch is full of informative groups (surplus discarded);
            # here at most max_gen_batches batches of prompts per step
            kept = [g for g in generated if not g.zero_variance]
            evicted = len(generated) - len(kept)
            while len(kept) < self.batch and evicted and len(generated) < self.max_gen_batches * self.batch:
                more = self.generate(min(2 * evicted, self.max_gen_batches * self.batch - len(generated)))
                generated += more
                kept += [g for g in more if not g.zero_variance]
                evicted = sum(g.zero_variance for g in more)
            trained = kept[: self.batch]
        else:
            trained = generated
        informative = [g for g in trained if not g.zero_variance]
        for g in informative:  # GRPO: only groups with a signal move the policy
            self.skill[g.task] += self.scenario.learning_rate
        if self.controller is not None:
            self.controller.update(step, generated)
        # families whose hardest level is already too easy: the ladder has run out
        top = [f for f in self.names if self.level(f) == self.ladder[f] - 1
               and self.pass_rate(f, self.ladder[f] - 1) > PRESET["target_high"]]
        return {
            "exhausted_families": float(len(top)),
            "zero_var_frac": sum(g.zero_variance for g in generated) / len(generated),
            "informative_samples": float(len(informative) * self.n),
            "rollouts": float(len(generated) * self.n),
            "mean_pass": float(np.mean([g.mean for g in generated])),
        }


def simulate(steps: int, seed: int, batch: int, n: int, max_gen_batches: int,
             scenario: Scenario = Scenario()) -> dict[str, dict]:
    runs = {}
    for strategy in ("fixed", "adaptive", "dynamic", "adaptive_dynamic"):
        sim = Simulation(strategy, scenario, seed, batch, n, max_gen_batches)
        series = [sim.step(t) for t in range(1, steps + 1)]
        runs[strategy] = {
            "series": {key: [s[key] for s in series] for key in series[0]},
            "final_skill": {t: round(v, 3) for t, v in sorted(sim.skill.items())},
            "final_levels": {f: sim.level(f) for f in sim.names},
            "ladder_top": {f: sim.ladder[f] - 1 for f in sim.names},
        }
    return runs


def figures(runs: dict[str, dict]) -> dict[str, float]:
    fixed = runs["fixed"]["series"]["zero_var_frac"]
    adaptive = runs["adaptive"]["series"]["zero_var_frac"]
    over = [t for t, z in enumerate(fixed) if z > GOAL_FIXED_OVER]
    out = {
        "steps": float(len(fixed)),
        "steps_fixed_over_50": float(len(over)),
        "first_step_fixed_over_50": float(over[0] + 1) if over else -1.0,
        # the goal's figure: the worst adaptive step among those where the fixed mix is over 50%
        "adaptive_zero_var_max_pct_where_fixed_over_50": round(100 * max((adaptive[t] for t in over), default=0.0), 2),
        "adaptive_zero_var_max_pct_after_warmup": round(100 * max(adaptive[20:] or [0.0]), 2),
    }
    exhausted = [t for t, k in enumerate(runs["adaptive"]["series"]["exhausted_families"]) if k > 0]
    out["adaptive_first_step_ladder_exhausted"] = float(exhausted[0] + 1) if exhausted else -1.0
    for name, run in runs.items():
        s = run["series"]
        out[f"{name}_zero_var_mean_pct"] = round(100 * float(np.mean(s["zero_var_frac"])), 2)
        out[f"{name}_zero_var_last50_pct"] = round(100 * float(np.mean(s["zero_var_frac"][-50:])), 2)
        out[f"{name}_informative_per_step"] = round(float(np.mean(s["informative_samples"])), 1)
        out[f"{name}_rollouts_per_step"] = round(float(np.mean(s["rollouts"])), 1)
    out["dynamic_generation_x"] = round(out["dynamic_rollouts_per_step"] / out["fixed_rollouts_per_step"], 3)
    out["adaptive_informative_x"] = round(out["adaptive_informative_per_step"] / out["fixed_informative_per_step"], 3)
    return out


def plot(runs: dict[str, dict], path: Path, title: str) -> Path:
    from recipes.videossr.metrics import plot_panels

    def series(key: str, scale: float = 1.0):
        return [(name, [(t + 1, v * scale) for t, v in enumerate(run["series"][key])]) for name, run in runs.items()]

    panels = [
        ("zero-variance groups among those generated each step (%)", series("zero_var_frac", 100.0), (0.0, 100.0)),
        ("informative samples trained per step (rollouts of groups with a GRPO signal)",
         series("informative_samples"), None),
        ("rollouts generated per step", series("rollouts"), None),
    ]
    return plot_panels(panels, path, title)


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=64, help="prompts per step (the paper: 64)")
    parser.add_argument("--n", type=int, default=8, help="rollouts per prompt (the paper: 8)")
    parser.add_argument("--max-gen-batches", type=int, default=4, help="DAPO: prompt batches generated per step at most")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (bench/run_all.py)")
    parser.add_argument("--plot", type=Path, default=None, help="also draw the per-step curves into this PNG")
    args = parser.parse_args()

    start = time.perf_counter()
    runs = simulate(args.steps, args.seed, args.batch, args.n, args.max_gen_batches)
    figs = figures(runs)  # no timing in them: the same seed writes the same JSON bytes
    print(f"{args.steps} steps, batch {args.batch} x n={args.n}, seed {args.seed} "
          f"({time.perf_counter() - start:.1f} s)")
    print(f"{'run':<18}{'zero-var mean':>14}{'last 50':>9}{'informative/step':>18}{'rollouts/step':>15}")
    for name in runs:
        print(f"{name:<18}{figs[f'{name}_zero_var_mean_pct']:>13.1f}%{figs[f'{name}_zero_var_last50_pct']:>8.1f}%"
              f"{figs[f'{name}_informative_per_step']:>18.1f}{figs[f'{name}_rollouts_per_step']:>15.1f}")
    print(f"fixed mix over 50% zero-variance at {figs['steps_fixed_over_50']:.0f} steps (first: step "
          f"{figs['first_step_fixed_over_50']:.0f}); adaptive at those steps: at most "
          f"{figs['adaptive_zero_var_max_pct_where_fixed_over_50']:.1f}% (goal < 20%)")
    if figs["adaptive_first_step_ladder_exhausted"] > 0:
        print(f"adaptive: a family's hardest level passes > {PRESET['target_high']} from step "
              f"{figs['adaptive_first_step_ladder_exhausted']:.0f} on (its ladder has run out)")
    for name in ("fixed", "adaptive"):
        print(f"  {name}: final levels {runs[name]['final_levels']}, skill {runs[name]['final_skill']}")
    if args.plot:
        print(f"wrote {plot(runs, args.plot, f'bench_adaptive: {args.steps} simulated steps, seed {args.seed}')}")
    if args.json:
        args.json.write_text(json.dumps({"figures": figs, "runs": {
            name: {k: v for k, v in run.items() if k != "series"} for name, run in runs.items()}},
            indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
