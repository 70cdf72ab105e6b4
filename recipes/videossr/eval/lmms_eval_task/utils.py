"""lmms-eval hooks for the VIUBench task (``viubench.yaml``); all scoring is this repo's scorer.

Inputs: ``viubench_doc_to_messages`` (lmms-eval's chat model classes, e.g. ``--model qwen2_5_vl``
and ``qwen3_vl``) gives the model the in-tree conversation (``recipes.videossr.eval.conversation``):
the rows' system turn, the same text parts, and each clip as a pixel-exact video file of the
frames the in-tree path decodes (``recipes.videossr.eval.lmms_task``, which also checks the
requesting model's frame and pixel settings and refuses a mismatch). ``viubench_doc_to_visual`` /
``viubench_doc_to_text`` serve lmms-eval's simple (non-chat) classes, which take no system turn.
Relative frame paths resolve against the media root ``lmms-task`` recorded in
``viubench_task.json`` next to this file (``data_prep.media``).

Scoring: ``viubench_process_results`` scores with ``recipes.videossr.eval.scoring.score_viubench``,
i.e. ``rewards.score`` -- the function behind training rewards and the in-tree runner -- and each
``aggregate_*`` computes one Table 1 column with ``recipes.videossr.eval.table``, so lmms-eval and
``python -m recipes.videossr.eval viubench`` report the same numbers for the same outputs.
A column whose questions are absent (a ``--limit`` run) aggregates to None: results.json has
``null`` and lmms-eval's table ``N/A`` for it, never NaN. The metrics and their
``aggregate_<metric>`` functions come from the tasks' declared columns
(``recipes.videossr.eval.columns.table_headers``); ``viubench.yaml``'s ``metric_list`` must name the
same (YAML cannot compute them; ``tests/recipes/eval/test_eval_lmms_task_on_cpu.py`` checks it).

>>> doc = {"data_source": "videossr/jigsaw/n6", "reward_model": {"ground_truth": "341562"}}
>>> # viubench_process_results(doc, ["341562"])["jig_6"]["metric"] -> 1.0
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from data_prep.media import resolve_videos
from recipes.videossr.eval import lmms_task
from recipes.videossr.eval.columns import table_headers
from recipes.videossr.eval.conversation import build_conversation
from recipes.videossr.eval.scoring import score_viubench
from recipes.videossr.eval.table import row_from_means

# metric name in viubench.yaml -> Table 1 header (subtypes, task averages, Overall)
METRICS = {re.sub(r"[^a-z0-9]+", "_", header.lower()): header for header in table_headers()}

TASK_DIR = Path(__file__).resolve().parent
SETTINGS = lmms_task.read_task_settings(TASK_DIR)  # written by `python -m recipes.videossr.eval lmms-task`
DEFAULT_PATCH_SIZE = 14


def _resolved_videos(doc: dict[str, Any]) -> list[dict[str, Any]]:
    videos = [dict(v) for v in (doc.get("videos") or [])]
    root = SETTINGS.get("media_root")
    if root:
        return resolve_videos(videos, root)
    if any(not Path(p).is_absolute() for v in videos for p in ([v["video"]] if isinstance(v["video"], str) else v["video"])):
        raise ValueError("the rows' frame paths are relative: write the task with `python -m recipes.videossr.eval "
                         "lmms-task --data DATA --out DIR` (it records the media root) and pass --include_path DIR")
    return videos


def _patch_size(model: Any, kwargs: dict | None) -> int:
    default = int((kwargs or {}).get("image_patch_size", DEFAULT_PATCH_SIZE))
    return lmms_task.patch_size_of_model(model, default) if model is not None else default


def _clip_files(doc: dict[str, Any], kwargs: dict | None, system_text: str | None, model_system_prompt: bool):
    """(resolved videos, exact mp4 per clip), after checking the requesting model's settings."""
    videos = _resolved_videos(doc)
    model = lmms_task.requesting_model()
    if model is not None:
        clips = [{**v, "frames": len(v["video"]) + len(v["video"]) % 2} for v in videos]
        lmms_task.check_model(model, clips, system_text, model_system_prompt, SETTINGS.get("model_args", ""))
    patch = _patch_size(model, kwargs)
    return videos, [lmms_task.exact_clip_file(v, patch) for v in videos]


def _system_text(doc: dict[str, Any]) -> str | None:
    systems = [m["content"] for m in doc["prompt"] if m["role"] == "system"]
    return "\n".join(systems) if systems else None


def viubench_process_docs(dataset):
    """The questions of the run: all, or the first ``per_subtype`` of every data_source (stratified)."""
    k = SETTINGS.get("per_subtype")
    if not k:
        return dataset
    return dataset.select(lmms_task.select_per_subtype(dataset["data_source"], int(k)))


def viubench_doc_to_messages(doc: dict[str, Any], lmms_eval_specific_kwargs: dict | None = None) -> list[dict]:
    """The in-tree conversation in lmms-eval's message format (``lmms_eval.protocol.ChatMessages``)."""
    kwargs = lmms_eval_specific_kwargs or {}
    model_system_prompt = bool(kwargs.get("model_system_prompt", False))
    system_text = _system_text(doc)
    videos, files = _clip_files(doc, kwargs, system_text, model_system_prompt)
    messages = []
    clip = 0
    for message in build_conversation({**doc, "videos": videos}):
        if message["role"] == "system" and model_system_prompt:
            continue  # the class prepends it from its system_prompt (checked above)
        parts = message["content"]
        if isinstance(parts, str):
            parts = [{"type": "text", "text": parts}]
        content = []
        for part in parts:
            if part["type"] == "video":
                content.append({"type": "video", "url": files[clip]})
                clip += 1
            else:
                content.append({"type": "text", "text": part["text"]})
        messages.append({"role": message["role"], "content": content})
    return messages


def viubench_doc_to_visual(doc: dict[str, Any], lmms_eval_specific_kwargs: dict | None = None) -> list[str]:
    """One pixel-exact mp4 per clip, in ``<video>`` tag order (jigsaw questions have several)."""
    return _clip_files(doc, lmms_eval_specific_kwargs, None, False)[1]


def viubench_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict | None = None) -> str:
    """The row's user text without ``<video>`` tags (simple model classes place the videos themselves)."""
    users = [m["content"] for m in doc["prompt"] if m["role"] == "user"]
    return "\n".join(users).replace("<video>\n", "").replace("<video>", "").strip()


def viubench_doc_to_target(doc: dict[str, Any]) -> str:
    return str(doc["reward_model"]["ground_truth"])


def viubench_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, dict[str, Any]]:
    """Score the model output; the same per-sample entry is offered to every column's metric."""
    info = doc.get("extra_info")  # routes a fork's task by the import path its rows record
    scored = score_viubench(
        doc["data_source"], results[0], viubench_doc_to_target(doc), extra_info=info if isinstance(info, dict) else None
    )
    entry = {"data_source": doc["data_source"], "metric": scored.metric, "parsed": scored.parsed is not None}
    return {name: entry for name in METRICS}


def _column_value(entries: list[dict[str, Any]], header: str) -> float | None:
    sums: dict[str, list[float]] = {}
    for e in entries:
        sums.setdefault(e["data_source"], []).append(float(e["metric"]))
    return row_from_means("lmms-eval", {ds: sum(v) / len(v) for ds, v in sums.items()}).values[header]


def _aggregator(header: str):
    def aggregate(results: list[dict[str, Any]]) -> float | None:
        return _column_value(results, header)

    aggregate.__name__ = f"aggregate_{header}"
    return aggregate


# aggregate_cnt_e, aggregate_cnt_h, ..., aggregate_overall: one per metric, named as viubench.yaml cites them
for _metric, _header in METRICS.items():
    globals()[f"aggregate_{_metric}"] = _aggregator(_header)
del _metric, _header
