"""QVHighlights val: moment retrieval (temporal grounding) on YouTube clips (Table 3).

Release: the official moment_detr annotation ``highlight_val_release.jsonl`` (jayleicn/moment_detr
``data/``; 1,550 queries), one JSON object per line with ``qid``, ``query``, ``duration`` (s),
``vid`` = ``{youtube id}_{start}_{end}`` and ``relevant_windows``: a LIST of ``[start, end]`` windows
in seconds (about a third of the queries have two or more); videos from the official
``qvhighlights_videos`` tarball, ``videos/{vid}.mp4``.

Window rule: one item per query (``qid`` is the id); its ground truth is the FIRST window of
``relevant_windows`` as released. The released vtg.py takes exactly one ``"s - e"`` window per
question, so the paper had to pick one; the first is the only choice that needs no extra rule (the
release lists windows in temporal order, so it is the earliest moment). All windows are kept in
``meta["windows"]``, and the score also records ``iou_best``: the IoU with the best-matching window,
which is what moment_detr's own R1@IoU uses (``standalone_eval/eval.py``) -- so the official
multi-window accounting can be recomputed from the records without re-running the model.
Windows are used as annotated (no clamping); a reversed window is ordered the way vtg.py parses a
ground truth (``min``, ``max``).
"""

from __future__ import annotations

import json
from pathlib import Path

from recipes.videossr.eval.bench import protocol, scoring
from recipes.videossr.eval.bench.spec import Benchmark, Item, require
from recipes.videossr.eval.runner import Scored

RELEASE = "QVHighlights (highlight_val_release.jsonl from jayleicn/moment_detr data/) + the official videos tarball"
ANNOTATION = "highlight_val_release.jsonl"
VIDEOS = "videos"


def _window(value, where: str) -> tuple[float, float]:
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise ValueError(f"{where}: a window must be [start, end], got {value!r}")
    try:
        start, end = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        raise ValueError(f"{where}: a window must be two numbers, got {value!r}") from None
    return min(start, end), max(start, end)


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    items, seen = [], set()
    for n, line in enumerate(annotation.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{annotation}:{n}"
        try:
            row = json.loads(line)
            qid, query, vid, windows = row["qid"], row["query"], row["vid"], row["relevant_windows"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{where}: expected a JSON object with qid, query, vid, relevant_windows ({exc})") from None
        where = f"{annotation}:{n} (qid {qid})"
        if not isinstance(windows, list) or not windows:
            raise ValueError(f"{where}: relevant_windows must be a non-empty list of [start, end], got {windows!r}")
        if not str(query).strip():
            raise ValueError(f"{where}: empty query")
        parsed = [_window(w, where) for w in windows]
        item_id = str(qid)
        if item_id in seen:
            raise ValueError(f"{where}: duplicate qid {qid}")
        seen.add(item_id)
        items.append(Item(id=item_id, videos=(str(videos / f"{vid}.mp4"),), question=str(query).strip(),
                          answer=parsed[0],
                          meta={"video_id": vid, "duration": row.get("duration"),
                                "windows": [list(w) for w in parsed]}))
    return items


def score(item: Item, output: str) -> Scored:
    """vtg.py's IoU with the item's (first) window; ``iou_best`` = IoU with the best-matching window."""
    scored = scoring.score_tg(item, output)
    if scored.parsed is None:
        return Scored(scored.metric, None, {"iou": 0.0, "iou_best": 0.0})
    windows = item.meta.get("windows") or [list(item.answer)]
    best = max(protocol.interval_iou(tuple(scored.parsed), (float(s), float(e))) for s, e in windows)
    return Scored(scored.metric, scored.parsed, {"iou": scored.metric, "iou_best": best})


BENCHMARK = Benchmark(
    name="qvhighlights",
    title="QVHighlights",
    domain="Temporal Grounding",
    kind="tg",
    release=RELEASE,
    split="val (1,550 queries)",
    layout=f"{ANNOTATION}, {VIDEOS}/<vid>.mp4",
    load=load,
    score=score,
    rule="one item per query (qid); ground truth = the first of relevant_windows (all windows in meta; "
         "IoU with the best-matching window recorded as iou_best)",
    source="official highlight_val_release.jsonl (moment_detr); first-window rule ours (vtg.py takes one "
           "window; paper does not say); prompt and parser from the released vtg.py",
    lmms_task="",
    lmms_note="no lmms-eval task (timelens_qvhighlights is a re-annotated set, not the official val)",
)
