"""LVBench (hour-long videos; Table 2, Long Video QA).

Release: the official annotation ``video_info.meta.jsonl`` of the Hugging Face dataset
``THUDM/LVBench`` (also zai-org/LVBench; github.com/THUDM/LVBench ``data/``): one line per video,
``key`` = the YouTube id, ``qa`` = list of ``{uid, question, answer, question_type,
time_reference}``; the question lists its options inline as ``"(A) text"`` lines; ``answer`` is
the letter. Videos: ``all_videos/<key>.mp4`` (the release's video archive unpacked; the
official ``scripts/download.sh`` fetches the same YouTube ids).

Rules: every question of every video (official ``compute_accuracy``); the ``"(A) text"`` lines
are rewritten as the protocol's ``"A. text"`` lines (question text kept verbatim); the answer
letter as released and checked against the options; ``id`` = ``uid``. ``question_type`` is a
LIST (a question can count in several categories), so it goes to ``meta``, not ``group``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.spec import Benchmark, Item, require

RELEASE = "LVBench video_info.meta.jsonl (Hugging Face THUDM/LVBench) + its videos as all_videos/<key>.mp4"
ANNOTATION = "video_info.meta.jsonl"
VIDEOS = "all_videos"
OPTION = re.compile(r"^\(([A-Z])\)\s*(.*)$")


def split_options(question: str) -> tuple[str, list[str]]:
    """The question text and its ``(A) ...`` option texts; ValueError unless they run A, B, C...

    >>> split_options("Why?\\n(A) x\\n(B) y")
    ('Why?', ['x', 'y'])
    """
    lines = question.strip().split("\n")
    first = next((i for i, line in enumerate(lines) if OPTION.match(line.strip())), None)
    if first is None:
        raise ValueError("no '(A) ...' option lines")
    options = []
    for line in lines[first:]:
        match = OPTION.match(line.strip())
        if not match or match.group(1) != protocol.letter_of(len(options)):
            raise ValueError(f"option line {line!r} out of order")
        options.append(match.group(2).strip())
    return "\n".join(lines[:first]).strip(), options


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    items, seen = [], set()
    for n, line in enumerate(annotation.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            key, qas = str(record["key"]), record["qa"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{annotation}:{n}: not a video record ({error})") from None
        for qa in qas:
            try:
                uid, question, answer = str(qa["uid"]), str(qa["question"]), str(qa["answer"]).strip()
            except (KeyError, TypeError) as error:
                raise ValueError(f"{annotation}:{n} video {key}: missing field {error}") from None
            try:
                text, options = split_options(question)
            except ValueError as error:
                raise ValueError(f"{annotation}:{n} item {uid}: {error}") from None
            if answer not in [protocol.letter_of(k) for k in range(len(options))]:
                raise ValueError(f"{annotation}:{n} item {uid}: answer {answer!r} is not an option letter")
            if uid in seen:
                raise ValueError(f"{annotation}:{n} item {uid}: uid repeats")
            seen.add(uid)
            items.append(Item(id=uid, videos=(str(videos / f"{key}.mp4"),),
                              question=protocol.with_options(text, options), answer=answer,
                              meta={"key": key, "question_type": list(qa.get("question_type") or []),
                                    "time_reference": qa.get("time_reference")}))
    return items


BENCHMARK = Benchmark(
    name="lvbench",
    title="LVBench",
    domain="Long Video QA",
    kind="mc",
    release=RELEASE,
    split="all questions (1,549) of video_info.meta.jsonl",
    layout=f"{ANNOTATION}, {VIDEOS}/<key>.mp4",
    load=load,
    rule="every qa of every video; '(A) x' option lines rewritten as 'A. x'; answer letter as released",
    source="THUDM/LVBench video_info.meta.jsonl and lvbench/metrics/compute_accuracy.py; "
           "prompt and first-character parser from the released vqa.py",
    lmms_task="lvbench",
    lmms_note="prompt ends '\\nAnswer the question with the option letter'; extract_mcq_answer",
)
