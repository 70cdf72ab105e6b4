"""VIUBench per-sample metric: always ``rewards.score(...)["acc"]``, the function training uses.

Going through the rewards package is the point: the training reward and the evaluation metric
parse answers with the same code, so they cannot drift apart. ``acc`` is VIUBench's metric
(counting: per-type exact match averaged over the 3 types; grounding: IoU; jigsaw: exact match);
``parsed`` tells whether the answer could be read at all. ``parse_mode`` defaults to the rewards
package's default, "released": answers are read exactly as the paper's released reward read them.

>>> score_viubench("videossr/counting/easy", "3,1,4", "3,1,4").metric
1.0
>>> score_viubench("videossr/counting/easy", "no idea", "3,1,4").parsed is None
True
"""

from __future__ import annotations

from typing import Any

from recipes.videossr.eval.runner import EvalSample, Scored


def _parsed_value(result: dict[str, Any]) -> Any:
    """The scorer's canonical parsed answer (``pred``), or None when nothing could be parsed."""
    if not result.get("parsed"):  # rewards reports 1.0 / 0.0
        return None
    return result.get("pred") or True


def score_viubench(data_source: str, output: str, ground_truth: str, **score_kwargs: Any) -> Scored:
    """Score one answer with ``rewards.score``: (metric in [0,1], parsed answer or None, reward).

    An unparsable answer scores 0 whatever the scorer's partial credit would say.
    """
    import rewards

    result = rewards.score(data_source, output, ground_truth, **score_kwargs)
    parsed = _parsed_value(result)
    metric = float(result["acc"]) if parsed is not None else 0.0
    return Scored(metric, parsed, {"reward": float(result["score"])})


def viubench_scorer(**score_kwargs: Any):
    """A ``runner.Scorer`` for VIUBench samples (``sample.group`` is the data_source)."""

    def score(sample: EvalSample, output: str) -> Scored:
        info = sample.context.get("extra_info")
        return score_viubench(sample.group, output, sample.answer, extra_info=info, **score_kwargs)

    return score
