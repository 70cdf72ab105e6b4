"""What each rollout session generated from and was scored on, one JSON line per trained sample.

Off by default. With ``data.videossr.rollout_trace_dir: DIR`` (``make e2e`` sets it), the recipe's
agent loop asks vLLM for the prompt it actually ran (``prompt_logprobs=0`` returns every prompt
token vLLM expanded, after its own multimodal processing), and the agent-loop worker appends, per
session, after verl computed the reward::

    {"step": 3, "validate": false, "key": "<uid>_<session>_0", "uid": ..., "session": 0, "index": 7,
     "data_source": "videossr/counting/easy", "ground_truth": "3", "extra_info": {...},
     "prompt_ids": [...],            # what the actor scores
     "vllm_prompt_ids": [...],       # what vLLM generated from (position 0 excluded: vLLM gives no
                                     # log-prob, hence no id, for the first prompt token)
     "response_ids": [...], "rollout_log_probs": [...], "reward_score": 0.0, "reward_extra_info": {...}}

to ``DIR/rollout-<pid>.jsonl``. ``key`` is the TransferQueue key verl's trainer uses for the sample
(and writes into ``trainer.rollout_data_dir`` dumps), so a record can be matched with what was
trained. ``python -m recipes.videossr.run_checks`` reads these files.

Cost: vLLM computes a log-probability for every prompt token (one pass over the vocabulary per
prompt token); meant for the CPU end-to-end run and short GPU checks, not for production runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator, Optional

TRACE_GLOB = "rollout-*.jsonl"
PROMPT_CHECK_FIELD = "videossr_vllm_prompt_ids"  # set on the agent loop's output, removed before verl stores it


def trace_dir(data_config: Any) -> Optional[str]:
    """The configured trace folder, or None (``data.videossr.rollout_trace_dir``)."""
    section = (data_config or {}).get("videossr") or {}
    value = section.get("rollout_trace_dir")
    return str(value) if value else None


def vllm_prompt_ids(extra_fields: dict) -> Optional[list[int]]:
    """The prompt ids vLLM ran, from verl's ``extract_prompt_logprobs`` fields (prompt_logprobs=0).

    verl stores, per prompt position 1..L-1, ``[token id]``, then one dummy ``[0]`` for the last
    position; position 0 has no log-prob in vLLM and so no id.
    """
    rows = extra_fields.get("prompt_ids")
    if rows is None:
        return None
    return [int(row[0]) for row in rows[:-1]]


def _plain(value: Any) -> Any:
    """JSON-ready copy of numpy / torch scalars and arrays inside ``value``."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def record(output: Any, validate: bool, kwargs: dict, vllm_ids: Optional[list[int]], index: int = 0) -> dict:
    """The trace line of one agent-loop output (``AgentLoopOutput``) and its prompt's fields."""
    reward_model = kwargs.get("reward_model") or {}
    step = kwargs.get("global_steps")
    extra = output.extra_fields or {}
    return {
        "step": int(_plain(step)) if step is not None else None,
        "validate": bool(validate),
        "key": f"{kwargs['uid']}_{kwargs['session_id']}_{index}",
        "uid": str(kwargs["uid"]),
        "session": int(kwargs["session_id"]),
        "index": _plain(kwargs.get("index")),
        "data_source": str(kwargs.get("data_source")),
        "ground_truth": _plain(reward_model.get("ground_truth")),
        "extra_info": _plain(kwargs.get("extra_info") or {}),
        "prompt_ids": [int(t) for t in output.prompt_ids],
        "vllm_prompt_ids": vllm_ids,
        "response_ids": [int(t) for t in output.response_ids],
        "rollout_log_probs": _plain(output.response_logprobs),
        "reward_score": None if output.reward_score is None else float(output.reward_score),
        "reward_extra_info": _plain(extra.get("reward_extra_info") or {}),
    }


def append(directory: str | os.PathLike, line: dict) -> None:
    """Append one record to this process's file (one writer per file: no interleaving)."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / f"rollout-{os.getpid()}.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(line, sort_keys=True) + "\n")


def read_file(path: str | os.PathLike) -> Iterator[dict]:
    """The records of one file (a torn last line, from a killed writer, is skipped)."""
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue


def read(directory: str | os.PathLike) -> Iterator[dict]:
    """Every record under ``directory``."""
    for path in sorted(Path(directory).glob(TRACE_GLOB)):
        yield from read_file(path)
