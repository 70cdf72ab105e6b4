"""Score one answer and summarise a run, in two accountings side by side.

``paper``   the released code's: items with status ``error`` or ``missing_video`` and, by default,
            ``unparsable`` (an empty multiple-choice output raised in vqa.py; an answer with no
            ``a - b`` pair was dropped by vtg.py) leave the denominator (``Benchmark.paper_excludes``).
            A pair (VinoGround) with a dropped member is dropped whole.
``strict``  every item counts; anything but ``ok`` scores 0.

Each accounting says how many items it excluded and why, so no number hides its denominator.

>>> records = [{"status": "ok", "metric": 1.0}, {"status": "ok", "metric": 0.0},
...            {"status": "error", "metric": 0.0}, {"status": "unparsable", "metric": 0.0}]
>>> accuracy(records)
{'accuracy': 25.0}
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.spec import Benchmark, Item
from recipes.videossr.eval.downstream.metrics import accuracy_summary, grounding_summary
from recipes.videossr.eval.runner import Scored

ACCOUNTINGS = ("paper", "strict")
DEFAULT_METRIC = {"mc": "accuracy", "tg": "mIoU"}


def prompt_for(bench: Benchmark, item: Item) -> str:
    """The text after the video(s): the benchmark's own prompt, else the protocol's for its kind."""
    if bench.prompt is not None:
        return bench.prompt(item)
    if bench.kind == "mc":
        return protocol.multiple_choice_prompt(item.question)
    return protocol.grounding_prompt(item.question)


def score_mc(item: Item, output: str) -> Scored:
    """vqa.py: the output's first character against the answer; empty output -> unparsable.

    >>> item = Item("q", ("v",), "Q", "B")
    >>> [score_mc(item, o).metric for o in ("B", "B. dog", "(B", "b", "A")]
    [1.0, 1.0, 0.0, 0.0, 0.0]
    >>> score_mc(item, "").parsed is None
    True
    """
    predicted = protocol.first_character(output)
    if predicted is None:
        return Scored(0.0, None)
    return Scored(float(predicted == item.answer), predicted)


def score_tg(item: Item, output: str) -> Scored:
    """vtg.py: IoU of the first ``a - b`` pair with the ground truth; no pair -> unparsable."""
    predicted = protocol.first_interval(output)
    if predicted is None:
        return Scored(0.0, None, {"iou": 0.0})
    iou = protocol.interval_iou(predicted, tuple(map(float, item.answer)))
    return Scored(iou, list(predicted), {"iou": iou})


def score_for(bench: Benchmark, item: Item, output: str) -> Scored:
    if bench.score is not None:
        return bench.score(item, output)
    return score_mc(item, output) if bench.kind == "mc" else score_tg(item, output)


def accuracy(records: list[dict[str, Any]]) -> dict[str, float]:
    """Percent of records whose metric is 1 (multiple choice)."""
    return {"accuracy": accuracy_summary([float(r["metric"]) for r in records])["accuracy"]}


def grounding(records: list[dict[str, Any]]) -> dict[str, float]:
    """mIoU and R@0.3/0.5/0.7 in percent over the records (metric = IoU).

    >>> grounding([{"metric": 1.0}, {"metric": 0.4}, {"metric": 0.0}, {"metric": 0.0}])["R@0.3"]
    50.0
    """
    summary = grounding_summary([float(r["metric"]) for r in records])
    return {k: v for k, v in summary.items() if k != "n"}  # the accounting reports n itself


def pair_score(records: list[dict[str, Any]]) -> dict[str, float]:
    """VinoGround's text score: percent of pairs whose every member is right; plus per-item accuracy.

    >>> pair_score([{"pair": "1", "metric": 1.0}, {"pair": "1", "metric": 1.0},
    ...             {"pair": "2", "metric": 1.0}, {"pair": "2", "metric": 0.0}])
    {'text_score': 50.0, 'pairs': 2, 'accuracy': 75.0}
    """
    pairs: dict[str, list[float]] = defaultdict(list)
    for r in records:
        pairs[str(r["pair"])].append(float(r["metric"]))
    right = sum(1 for members in pairs.values() if all(m == 1.0 for m in members))
    return {"text_score": 100.0 * right / len(pairs) if pairs else 0.0, "pairs": len(pairs), **accuracy(records)}


def summarize_records(bench: Benchmark, records: list[dict[str, Any]]) -> dict[str, float]:
    if bench.summarize is not None:
        return bench.summarize(records)
    return accuracy(records) if bench.kind == "mc" else grounding(records)


def headline(bench: Benchmark) -> str:
    """The summary key a table shows for this benchmark."""
    return bench.metric or DEFAULT_METRIC[bench.kind]


def account(bench: Benchmark, records: list[dict[str, Any]], accounting: str) -> dict[str, Any]:
    """Metrics over the records one accounting keeps, with what it excluded and why."""
    if accounting not in ACCOUNTINGS:
        raise ValueError(f"accounting must be one of {ACCOUNTINGS}, got {accounting!r}")
    if accounting == "strict":
        kept, excluded = list(records), Counter()
    else:
        drop = set(bench.paper_excludes)
        kept = [r for r in records if r["status"] not in drop]
        excluded = Counter(r["status"] for r in records if r["status"] in drop)
        sizes = Counter(str(r["pair"]) for r in records if r.get("pair"))
        kept_sizes = Counter(str(r["pair"]) for r in kept if r.get("pair"))
        partial = {p for p, size in kept_sizes.items() if size < sizes[p]}
        if partial:
            excluded["pair_partner"] = sum(1 for r in kept if str(r.get("pair")) in partial)
            kept = [r for r in kept if str(r.get("pair")) not in partial]
    metrics = summarize_records(bench, kept)
    return {"score": metrics[headline(bench)], "n": len(kept), "excluded": dict(sorted(excluded.items())),
            "metrics": metrics}


def summarize_run(bench: Benchmark, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Both accountings for the whole run and for each group (subset / task type)."""
    out: dict[str, Any] = {a: account(bench, records, a) for a in ACCOUNTINGS}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r.get("group"):
            groups[str(r["group"])].append(r)
    if len(groups) > 1:
        out["groups"] = {g: {a: account(bench, rs, a)["score"] for a in ACCOUNTINGS} | {"items": len(rs)}
                         for g, rs in sorted(groups.items())}
    return out
