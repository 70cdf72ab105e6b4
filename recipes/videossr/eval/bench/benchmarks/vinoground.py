"""VinoGround text score (Table 2, General Video QA).

Release: the Hugging Face dataset ``HanSolo9682/Vinoground`` with ``vinoground_videos.zip``
unpacked in place: ``vinoground_videos/vinoground_textscore.json`` is a list of
``{idx: "<n>_<pos|neg>", question, GT, video_name}``: one video (the positive or the negative
one of pair ``n``) and a question that already lists the two captions as options; ``GT`` is the
right letter; ``video_name`` is relative to the release folder.

Rules: TEXT-score questions only (the video-score ones use concatenated videos); each pair ``n``
must have its ``pos`` and its ``neg`` question; ``pair`` = ``n`` so the headline ``text_score``
is the percent of pairs whose both questions are right (``scoring.pair_score``), as lmms-eval's
``vinoground`` and the VinoGround paper compute it (released vqa.py only gives per-item accuracy,
reported next to it); ``id`` = ``<idx>_text``; question verbatim.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from recipes.videossr.eval.bench.scoring import pair_score
from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require

RELEASE = "Hugging Face dataset HanSolo9682/Vinoground (vinoground_videos.zip unpacked)"
ANNOTATION = "vinoground_videos/vinoground_textscore.json"
INDEX = re.compile(r"^(\d+)_(pos|neg)$")


def load(root: Path) -> list[Item]:
    (annotation,) = require(root, ANNOTATION, what=f"download {RELEASE}")
    root = Path(root)
    rows = read_json(annotation, list, "a list of questions")
    items, members = [], defaultdict(list)
    for n, row in enumerate(rows):
        try:
            idx, question, answer, video = str(row["idx"]), str(row["question"]), str(row["GT"]).strip(), \
                str(row["video_name"])
        except (KeyError, TypeError) as error:
            raise ValueError(f"{annotation} item {n}: missing field {error}") from None
        match = INDEX.match(idx)
        if not match:
            raise ValueError(f"{annotation} item {idx!r}: idx is not '<n>_pos' / '<n>_neg'")
        if len(answer) != 1 or not answer.isupper():
            raise ValueError(f"{annotation} item {idx}: GT {answer!r} is not an option letter")
        pair, side = match.groups()
        if side in members[pair]:
            raise ValueError(f"{annotation} item {idx}: repeated")
        members[pair].append(side)
        items.append(Item(id=f"{idx}_text", videos=(str(root / video),), question=question, answer=answer,
                          pair=pair, meta={"video_name": video}))
    for pair, sides in members.items():
        if len(sides) != 2:
            raise ValueError(f"{annotation}: pair {pair} has only its {sides[0]} question (a text score needs both)")
    return items


BENCHMARK = Benchmark(
    name="vinoground",
    title="VinoGround",
    domain="General Video QA",
    kind="mc",
    release=RELEASE,
    split="text-score questions (vinoground_textscore.json: 500 pairs, 1,000 questions)",
    layout=f"{ANNOTATION}, <video_name> (vinoground_videos/<n>_<pos|neg>.mp4)",
    load=load,
    rule="text-score items only; a pair counts when its pos and neg questions are both right (text_score)",
    source="VinoGround paper / lmms-eval vinoground text score; question and GT from vinoground_textscore.json; "
           "prompt and first-character parser from the released vqa.py",
    metric="text_score",
    summarize=pair_score,
    lmms_task="vinoground",
    lmms_note="prompt adds '\\nPlease only output one English character.'; pred[0].lower() == GT.lower(); "
              "also scores the video-score questions; every pair counts",
)
