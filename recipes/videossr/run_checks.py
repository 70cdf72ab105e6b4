"""Check a finished training run against what it logged: tokens, probabilities, rewards.

    python -m recipes.videossr.run_checks RUN_DIR [--max-probs-diff 1e-3] [--min-pearson 0.99]

Reads what ``launch/train.sh`` wrote under RUN_DIR (every attempt's metrics log and resolved
config) plus, when the run had them on, the rollout trace (``data.videossr.rollout_trace_dir``,
``recipes.videossr.rollout_trace``) and verl's rollout dumps (``trainer.rollout_data_dir``: per step,
the trained samples' keys, decoded responses and the scores the advantages were computed from).

Checks (each prints one line; any failure exits 1):

* ``tokens``: every traced session -- training and validation -- generated from exactly the prompt
  the actor scored (vLLM's expanded prompt ids == the agent loop's prompt ids, position 0 aside);
* ``probabilities``: verl's own rollout-vs-actor metrics of every training step are within the
  bounds (``training/rollout_probs_diff_max`` <= --max-probs-diff,
  ``training/rollout_actor_probs_pearson_corr`` >= --min-pearson; they need
  ``rollout.calculate_log_probs``);
* ``rewards``: every trained sample's score in verl's dump equals the configured reward function
  (``reward.custom_reward_function`` + ``reward_kwargs``, loaded with verl's own loader) applied to the
  traced response (decoded as verl's reward manager decodes it) and ground truth; every dumped
  sample has a trace record.

A check whose inputs the run did not record is reported as ``skipped`` (and fails with --require-all).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from recipes.videossr import rollout_trace
from recipes.videossr.metrics import read_run_metrics

PROBS_DIFF_KEY = "training/rollout_probs_diff_max"
PEARSON_KEY = "training/rollout_actor_probs_pearson_corr"
DEFAULT_MAX_PROBS_DIFF = 1e-3
DEFAULT_MIN_PEARSON = 0.99
SCORE_TOLERANCE = 1e-6


@dataclass
class Check:
    name: str
    ok: Optional[bool]  # None: skipped (nothing recorded)
    summary: str
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        status = {True: "ok", False: "FAILED", None: "skipped"}[self.ok]
        return f"{self.name:<14} {status:<8} {self.summary}"


def latest_config(run_dir: Path):
    """The resolved config of RUN_DIR's last attempt (``config/resolved-<attempt>.yaml``)."""
    from omegaconf import OmegaConf

    configs = sorted((run_dir / "config").glob("resolved-*.yaml"))
    if not configs:
        raise FileNotFoundError(f"{run_dir}/config has no resolved-*.yaml: not a launch/train.sh run folder")
    return OmegaConf.load(configs[-1])


def _select(config, key: str) -> Any:
    from omegaconf import OmegaConf

    return OmegaConf.select(config, key, default=None)


def check_tokens(records: list[dict]) -> Check:
    if not records:
        return Check("tokens", None, "no rollout trace (data.videossr.rollout_trace_dir)")
    problems = []
    for r in records:
        ours, theirs = r["prompt_ids"], r.get("vllm_prompt_ids")
        if theirs is None:
            problems.append(f"{r['key']} (step {r['step']}): vLLM reported no prompt ids")
        elif theirs != ours[1:]:
            first = next((i for i, (a, b) in enumerate(zip(ours[1:], theirs)) if a != b), min(len(ours) - 1, len(theirs)))
            problems.append(f"{r['key']} (step {r['step']}, {r['data_source']}): actor scores {len(ours)} prompt "
                            f"tokens, vLLM ran {len(theirs) + 1}; first difference at position {first + 1}")
    kinds = sorted({r["data_source"] for r in records})
    return Check("tokens", not problems, f"{len(records) - len(problems)}/{len(records)} sessions generated from the "
                 f"scored prompt ({len(kinds)} data sources, validation included)", problems)


def check_probabilities(rows: list[dict], max_diff: float, min_pearson: float) -> Check:
    steps = [r for r in rows if PROBS_DIFF_KEY in r or PEARSON_KEY in r]
    if not steps:
        return Check("probabilities", None, f"no {PROBS_DIFF_KEY} in the metrics (rollout.calculate_log_probs off?)")
    problems = []
    for r in steps:
        diff, corr = r.get(PROBS_DIFF_KEY, math.nan), r.get(PEARSON_KEY, math.nan)
        if not diff <= max_diff:
            problems.append(f"step {r['step']}: {PROBS_DIFF_KEY} = {diff:.3g} > {max_diff:g}")
        if not corr >= min_pearson:
            problems.append(f"step {r['step']}: {PEARSON_KEY} = {corr:.6f} < {min_pearson:g}")
    worst_diff = max(r.get(PROBS_DIFF_KEY, math.nan) for r in steps)
    worst_corr = min(r.get(PEARSON_KEY, math.nan) for r in steps)
    return Check("probabilities", not problems, f"{len(steps)} steps: max diff {worst_diff:.3g} (<= {max_diff:g}), "
                 f"min pearson {worst_corr:.6f} (>= {min_pearson:g})", problems)


def read_dumps(directory: Path) -> list[dict]:
    """verl's rollout dumps: ``<step>.jsonl`` lines with uid (= the sample's key), output, gts, score, step."""
    lines = []
    for path in sorted(directory.glob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def check_rewards(config, records: list[dict], dumps: list[dict]) -> Check:
    if not dumps:
        return Check("rewards", None, "no rollout dumps (trainer.rollout_data_dir)")
    if not records:
        return Check("rewards", None, "no rollout trace to recompute from (data.videossr.rollout_trace_dir)")
    from transformers import AutoTokenizer
    from verl.trainer.ppo.reward import get_custom_reward_fn

    reward_fn = get_custom_reward_fn(config)
    if reward_fn is None:
        return Check("rewards", False, "reward.custom_reward_function is not set: verl's built-in scorer ran")
    tokenizer = AutoTokenizer.from_pretrained(str(_select(config, "actor_rollout_ref.model.path")))
    traced = {(r["step"], r["key"]): r for r in records if not r["validate"]}
    problems = []
    for d in dumps:
        r = traced.get((d["step"], d["uid"]))
        if r is None:
            problems.append(f"step {d['step']} {d['uid']}: trained, but no trace record")
            continue
        response = tokenizer.decode(r["response_ids"], skip_special_tokens=True)
        result = reward_fn(data_source=r["data_source"], solution_str=response, ground_truth=r["ground_truth"],
                           extra_info=r["extra_info"])
        score = float(result["score"] if isinstance(result, dict) else result)
        if response != d["output"]:
            problems.append(f"step {d['step']} {d['uid']}: the dumped response differs from the traced one")
        if abs(score - float(d["score"])) > SCORE_TOLERANCE:
            problems.append(f"step {d['step']} {d['uid']} ({r['data_source']}): trained on score {d['score']}, "
                            f"the reward function gives {score}")
    steps = sorted({d["step"] for d in dumps})
    return Check("rewards", not problems, f"{len(dumps) - len(problems)}/{len(dumps)} trained samples' scores "
                 f"recomputed from their responses (steps {steps})", problems)


def run_checks(run_dir: str | Path, max_diff: float = DEFAULT_MAX_PROBS_DIFF,
               min_pearson: float = DEFAULT_MIN_PEARSON) -> list[Check]:
    run_dir = Path(run_dir)
    config = latest_config(run_dir)
    trace = _select(config, "data.videossr.rollout_trace_dir")
    dumps = _select(config, "trainer.rollout_data_dir")
    records = list(rollout_trace.read(trace)) if trace and Path(trace).is_dir() else []
    return [
        check_tokens(records),
        check_probabilities(read_run_metrics(run_dir), max_diff, min_pearson),
        check_rewards(config, records, read_dumps(Path(dumps)) if dumps and Path(dumps).is_dir() else []),
    ]


def report(checks: Iterable[Check], max_problems: int = 10) -> str:
    out = []
    for c in checks:
        out.append(c.line())
        out += [f"    {p}" for p in c.problems[:max_problems]]
        if len(c.problems) > max_problems:
            out.append(f"    ... and {len(c.problems) - max_problems} more")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.videossr.run_checks", allow_abbrev=False,
                                     description="check a training run's tokens, probabilities and rewards")
    parser.add_argument("run_dir", type=Path, help="RUN_DIR of launch/train.sh")
    parser.add_argument("--max-probs-diff", type=float, default=DEFAULT_MAX_PROBS_DIFF,
                        help=f"bound on {PROBS_DIFF_KEY} (default {DEFAULT_MAX_PROBS_DIFF:g})")
    parser.add_argument("--min-pearson", type=float, default=DEFAULT_MIN_PEARSON,
                        help=f"bound on {PEARSON_KEY} (default {DEFAULT_MIN_PEARSON:g})")
    parser.add_argument("--require-all", action="store_true", help="a skipped check (nothing recorded) fails")
    args = parser.parse_args(argv)
    try:
        checks = run_checks(args.run_dir, args.max_probs_diff, args.min_pearson)
    except FileNotFoundError as err:
        print(f"run_checks: error: {err}", file=sys.stderr)
        return 2
    print(report(checks))
    failed = any(c.ok is False or (args.require_all and c.ok is None) for c in checks)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
