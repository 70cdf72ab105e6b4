"""What the CPU end-to-end run checks beyond ``recipes.videossr.run_checks`` (tests/e2e/cpu_train_e2e.py).

* ``data_order``: the samples each training step used, across a kill and a resume, are the batches
  verl's own sampler (``verl.trainer.ppo.utils.create_rl_sampler``, seeded by ``data.seed``) deals;
* ``grpo_direction``: after one update, the log-probability of the responses with a positive GRPO
  advantage rose relative to those with a negative one (scored with the actor's own inputs, built by
  verl's agent-loop worker through ``recipes.videossr.agreement.trainer_side.TrainerHarness``, under
  the weights before and after the update);
* ``shm_left``: shared-memory entries a run left behind.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable

from recipes.videossr import rollout_trace


def last_attempt_records(trace_dir: Path) -> dict[int, list[dict]]:
    """Training records per step, each step from the last trace file (attempt) that has it."""
    by_step: dict[int, list[dict]] = {}
    files = sorted(Path(trace_dir).glob(rollout_trace.TRACE_GLOB), key=lambda p: p.stat().st_mtime)
    for path in files:  # later attempts overwrite the steps they redid
        steps: dict[int, list[dict]] = defaultdict(list)
        for record in rollout_trace.read_file(path):
            if not record["validate"]:
                steps[record["step"]].append(record)
        by_step.update(steps)
    return by_step


def expected_batches(data_config: Any, row_indices: list[int], steps: int) -> list[list[int]]:
    """The rows (as ``extra_info.index``) of the first ``steps`` batches verl's sampler deals."""
    from verl.trainer.ppo.utils import create_rl_sampler

    order = [row_indices[i] for i in create_rl_sampler(data_config, list(range(len(row_indices))))]
    size = int(data_config.train_batch_size)
    return [sorted(order[k * size:(k + 1) * size]) for k in range(steps)]


def data_order(records: dict[int, list[dict]], expected: list[list[int]], rollout_n: int) -> list[str]:
    problems = []
    for step, rows in enumerate(expected, start=1):
        got = records.get(step, [])
        indices = sorted({r["index"] for r in got})
        if indices != rows:
            problems.append(f"step {step}: trained rows {indices}, verl's sampler deals {rows}")
        elif len(got) != rollout_n * len(rows):
            problems.append(f"step {step}: {len(got)} sessions, expected {rollout_n} per row")
    return problems


def advantage_signs(records: Iterable[dict], reward: Callable[[dict], float]) -> list[tuple[dict, int]]:
    """(record, sign of its GRPO advantage): reward minus its group's mean reward."""
    groups: dict[tuple, list[tuple[dict, float]]] = defaultdict(list)
    for r in records:
        groups[(r["step"], r["uid"])].append((r, reward(r)))
    out = []
    for members in groups.values():
        mean = sum(score for _, score in members) / len(members)
        out += [(r, (score > mean) - (score < mean)) for r, score in members]
    return out


def grpo_direction(deltas: list[tuple[int, float]]) -> tuple[list[str], dict[str, float]]:
    """``deltas``: (advantage sign, log p_after - log p_before) per response."""
    up = [d for sign, d in deltas if sign > 0]
    down = [d for sign, d in deltas if sign < 0]
    if not up or not down:
        return [f"no group with differing rewards ({len(up)} positive, {len(down)} negative advantages)"], {}
    figures = {"positive_mean_delta": sum(up) / len(up), "negative_mean_delta": sum(down) / len(down),
               "positive": len(up), "negative": len(down)}
    problems = []
    if not figures["positive_mean_delta"] > figures["negative_mean_delta"]:
        problems.append(f"log-probability change {figures['positive_mean_delta']:.3g} for positive advantages is "
                        f"not above {figures['negative_mean_delta']:.3g} for negative ones")
    return problems, figures


def response_logprob(model, sample) -> float:
    """Sum of the response tokens' log-probabilities under ``model`` (the actor's inputs of ``sample``)."""
    import torch

    ids = sample.input_ids.unsqueeze(0)
    inputs = {k: v for k, v in sample.multi_modal_inputs.items() if isinstance(v, torch.Tensor)}
    with torch.no_grad():
        logits = model(input_ids=ids, position_ids=sample.position_ids.unsqueeze(1), **inputs).logits[0].float()
    logp = torch.log_softmax(logits[sample.prompt_len - 1:-1], dim=-1)
    return float(logp.gather(-1, ids[0, sample.prompt_len:].unsqueeze(-1)).sum())


def shm_left(before: set[str]) -> list[str]:
    from recipes.videossr import shm

    return sorted(shm.entries() - before - shm.in_use())
