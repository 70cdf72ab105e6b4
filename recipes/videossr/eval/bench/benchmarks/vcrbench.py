"""VCRBench: put the shuffled clips of a procedure back in order (Table 3). NOT multiple choice.

Release: the Hugging Face dataset ``pritamqu/VCRBench`` (365 items) as cloned: ``data.json`` (a list of
``{qid, goal, video_file, ground_truth}``) and ``videos/video_<N>.mp4`` -- the paths the official
code reads (``data/dataset.py``: ``<root>/videos/<video_file>``; ``process.py``: ``<root>/data.json``).

What an item is (official repository pritamqu/VCRBench): ONE video per item, in which the clips of
the procedure were shuffled and concatenated, each preceded by a burnt-in "Clip N" title card; the
model answers the order of the clip numbers. ``ground_truth`` is the true order as 0-indexed clip
numbers; the target is ``ground_truth + 1`` (``prepare_answer``), so ``Item.answer`` is a list of
1-based clip numbers.

Prompt: the official ``PROMPT`` (``data/dataset.py``, mode ``default``) with ``{goal}`` filled in, byte
for byte (the trailing space after the first two sentences included), stripped as the official
inference scripts strip it (``question.strip()``). The paper's "Answer with the option letter"
suffix does not apply.

Parser (official ``process.py``, rewritten): remove ``*``; split the output into sentences at
``.``/``!``/``?`` followed by whitespace and at newlines; in each sentence in turn, split at commas
and take the first integer of every part that has one; the first sentence whose integers are a
permutation of ``1..n`` is the prediction. (The official phrase cascade starts with the empty phrase,
which matches every sentence, so the other phrases are never reached.) No such sentence: the
prediction is ``n`` zeros -- unparsable, scored 0 and COUNTED (``paper_excludes`` keeps it).

Metrics (official ``metrics.py``), in percent: ``accuracy`` = exact order (the paper's number and the
headline), ``step_accuracy`` = correct positions over ALL clips of all items (pooled, not averaged
per item), ``weighted_accuracy`` = mean over goals of each goal's exact accuracy, and the exact
accuracy per number of clips (``accuracy_<n>_clips``). ``group`` = goal.

Token budget: the paper's 128 new tokens (its protocol for every benchmark), not the official 512
(``--model_max_length 512``; lmms-eval's ``vcrbench`` too). The official prompt asks the model to
describe each clip BEFORE the final "Correct order:" line, so at 128 tokens that line can be cut off
and the official rule scores it zeros: the paper's Qwen3-VL-8B 7.4 is near the official random
baseline (7.95), which fits such truncation. For the official setting pass ``--max-new-tokens 512``
(``OFFICIAL_MAX_NEW_TOKENS``); the run folder records the budget, so the two never mix.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require
from recipes.videossr.eval.runner import Scored

RELEASE = "pritamqu/VCRBench (Hugging Face dataset: data.json + videos/)"
ANNOTATION = "data.json"
VIDEOS = "videos"
OFFICIAL_MAX_NEW_TOKENS = 512  # the official inference default (and lmms-eval's); the paper: 128

# data/dataset.py PROMPT (mode "default"), verbatim: note the space before the first two newlines.
PROMPT = (
    "The given video consists of multiple short clips, each showing a different segment needed to complete "
    "the task: {goal}. \n"
    "These clips are randomly shuffled, and your job is to arrange them in the correct order to complete the "
    "task: {goal}. \n"
    "The clip numbers are mentioned at the beginning of each clip as Clip 1, Clip 2, and so on.\n"
    "In order to solve this task, first, you should identify the activity that is performed in each clip, and "
    "then use your reasoning and common sense to arrange these clips to successfully complete the task.\n"
    "\n"
    "The final output should be in this format:\n"
    "\n"
    "Correct order: <mention the Clip numbers separated by a comma>\n"
)
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
NUMBER = re.compile(r"\d+")


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    rows = read_json(annotation, list, "a list of {qid, goal, video_file, ground_truth}")
    items, seen = [], set()
    for n, row in enumerate(rows):
        try:
            qid, goal, video_file, truth = row["qid"], row["goal"], row["video_file"], row["ground_truth"]
        except (KeyError, TypeError):
            raise ValueError(f"{annotation}: entry {n}: expected qid, goal, video_file, ground_truth") from None
        where = f"{annotation} (qid {qid})"
        if not isinstance(truth, list) or sorted(truth) != list(range(len(truth))) or len(truth) < 2:
            raise ValueError(f"{where}: ground_truth must be a 0-indexed order of the clips, got {truth!r}")
        if not str(goal).strip():
            raise ValueError(f"{where}: empty goal")
        if str(qid) in seen:
            raise ValueError(f"{where}: duplicate qid")
        seen.add(str(qid))
        items.append(Item(id=str(qid), videos=(str(videos / str(video_file)),), question=str(goal),
                          answer=[int(t) + 1 for t in truth], group=str(goal),
                          meta={"video_file": video_file, "clips": len(truth), "goal": str(goal)}))
    return items


def prompt(item: Item) -> str:
    """The official prompt around the item's goal, stripped as the official inference does."""
    return PROMPT.format(goal=item.question).strip()


def parse_order(output: str | None, clips: int) -> list[int] | None:
    """The first sentence whose comma-separated parts give a permutation of ``1..clips`` (process.py).

    >>> parse_order("Clip 3 shows frying.\\nCorrect order: Clip 2, Clip 1, Clip 3", 3)
    [2, 1, 3]
    >>> parse_order("Correct order: 1, 2", 3) is None
    True
    """
    text = (output or "").replace("*", "")
    for sentence in SENTENCE_BREAK.split(text):
        order = []
        for part in sentence.split(","):
            match = NUMBER.search(part)
            if match:
                order.append(int(match.group()))
        if len(order) == clips and set(order) == set(range(1, clips + 1)):
            return order
    return None


def score(item: Item, output: str) -> Scored:
    """Exact order (metric) and positions right; an unparsable answer is ``n`` zeros (metric 0)."""
    truth = [int(t) for t in item.answer]
    order = parse_order(output, len(truth))
    right = 0 if order is None else sum(1 for a, b in zip(truth, order) if a == b)
    extra = {"steps": len(truth), "steps_right": right, "goal": item.meta.get("goal", item.question)}
    return Scored(float(order == truth), order, extra)


def _steps(record: dict[str, Any]) -> int:
    """Clips of a record; records that never reached the scorer (errors) are sized by their answer."""
    if record.get("steps"):
        return int(record["steps"])
    answer = record.get("answer")
    if isinstance(answer, (list, tuple)):
        return len(answer)
    return len(NUMBER.findall(str(answer or "")))


def summarize(records: list[dict[str, Any]]) -> dict[str, float]:
    """Official metrics in percent: exact, pooled step, goal-averaged exact, exact per clip count.

    >>> summarize([{"metric": 1.0, "steps": 3, "steps_right": 3, "goal": "a"},
    ...            {"metric": 0.0, "steps": 4, "steps_right": 2, "goal": "b"}])["step_accuracy"]
    71.42857142857143
    """
    n = len(records)
    if not n:
        return {"accuracy": 0.0, "step_accuracy": 0.0, "weighted_accuracy": 0.0}
    steps = sum(_steps(r) for r in records)
    right = sum(int(r.get("steps_right") or 0) for r in records)
    by_goal: dict[str, list[float]] = defaultdict(list)
    by_clips: dict[int, list[float]] = defaultdict(list)
    for r in records:
        by_goal[str(r.get("goal") or r.get("group") or "")].append(float(r["metric"]))
        by_clips[_steps(r)].append(float(r["metric"]))
    out = {
        "accuracy": 100.0 * sum(float(r["metric"]) for r in records) / n,
        "step_accuracy": 100.0 * right / steps if steps else 0.0,
        "weighted_accuracy": sum(100.0 * sum(v) / len(v) for v in by_goal.values()) / len(by_goal),
    }
    for clips, values in sorted(by_clips.items()):
        out[f"accuracy_{clips}_clips"] = 100.0 * sum(values) / len(values)
    return out


BENCHMARK = Benchmark(
    name="vcrbench",
    title="VCRBench",
    domain="Complex Reasoning",
    kind="order",
    release=RELEASE,
    split="test (data.json, 365 items)",
    layout=f"{ANNOTATION}, {VIDEOS}/video_<N>.mp4",
    load=load,
    rule="one item per entry, one video of 'Clip N'-titled shuffled clips; answer = ground_truth + 1; official "
         "prompt, first sentence giving a permutation of 1..n, else zeros (counted); exact-order accuracy",
    source="pritamqu/VCRBench data/dataset.py (prompt, answer), process.py (parser), metrics.py (metrics); "
           "128 new tokens as the paper (the official 512: --max-new-tokens 512)",
    metric="accuracy",
    prompt=prompt,
    score=score,
    summarize=summarize,
    paper_excludes=("error", "missing_video"),
    lmms_task="vcrbench",
    lmms_note="same prompt, parser and metrics, 512 tokens; lmms-eval first reads <answer>/\\boxed{} wrappers "
              "and strips <think> blocks; its model classes add a system prompt and their own frame/pixel settings",
)
