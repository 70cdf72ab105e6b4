"""lmms-eval hooks for the VIUBench task (``viubench.yaml``); all scoring is this repo's scorer.

``viubench_process_results`` scores with ``recipes.videossr.eval.scoring.score_viubench``, i.e.
``rewards.score`` -- the function behind training rewards and the in-tree runner -- and each
``aggregate_*`` computes one Table 1 column with ``recipes.videossr.eval.table``, so lmms-eval and
``python -m recipes.videossr.eval viubench`` report the same numbers for the same outputs.
A column whose questions are absent aggregates to NaN (the in-tree table leaves it empty).
The metrics and their ``aggregate_<metric>`` functions come from the tasks' declared columns
(``recipes.videossr.eval.columns``); ``viubench.yaml``'s ``metric_list`` must name the same
(YAML cannot compute them; ``tests/recipes/eval/test_eval_lmms_task_on_cpu.py`` checks it).

>>> doc = {"data_source": "videossr/jigsaw/n6", "reward_model": {"ground_truth": "341562"}}
>>> # viubench_process_results(doc, ["341562"])["jig_6"]["metric"] -> 1.0
"""

from __future__ import annotations

import re
from typing import Any

from recipes.videossr.eval.clip_video import clip_video_file
from recipes.videossr.eval.columns import OVERALL, SUBTYPE_COLUMNS
from recipes.videossr.eval.scoring import score_viubench
from recipes.videossr.eval.table import row_from_means

# metric name in viubench.yaml -> Table 1 header
METRICS = {re.sub(r"[^a-z0-9]+", "_", c.label.lower()): c.label for c in SUBTYPE_COLUMNS}
METRICS["overall"] = OVERALL


def viubench_doc_to_visual(doc: dict[str, Any]) -> list[str]:
    """One mp4 per clip, in ``<video>`` tag order (jigsaw questions have several)."""
    return [clip_video_file(video) for video in doc["videos"]]


def viubench_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict | None = None) -> str:
    """The row's user text without ``<video>`` tags (lmms-eval places the videos itself)."""
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


def _column_value(entries: list[dict[str, Any]], header: str) -> float:
    sums: dict[str, list[float]] = {}
    for e in entries:
        sums.setdefault(e["data_source"], []).append(float(e["metric"]))
    value = row_from_means("lmms-eval", {ds: sum(v) / len(v) for ds, v in sums.items()}).values[header]
    return float("nan") if value is None else value


def _aggregator(header: str):
    def aggregate(results: list[dict[str, Any]]) -> float:
        return _column_value(results, header)

    aggregate.__name__ = f"aggregate_{header}"
    return aggregate


# aggregate_cnt_e, aggregate_cnt_h, ..., aggregate_overall: one per metric, named as viubench.yaml cites them
for _metric, _header in METRICS.items():
    globals()[f"aggregate_{_metric}"] = _aggregator(_header)
del _metric, _header
