"""TempCompass, multi-choice task (Table 2, General Video QA).

Release: the official annotation ``questions/multi-choice.json`` of github.com/llyx97/TempCompass
(``{video_id: {dimension: [{question, answer}]}}``; the question already lists its options as
``"A. text"`` lines, the answer is ``"B. text"``) and the videos of the Hugging Face dataset
``lmms-lab/TempCompass`` (``videos/<video_id>.mp4``, incl. the ``*_reverse`` ones).

Subset: TempCompass has four task formats (multi-choice, yes/no, caption matching, captioning);
the paper's released vqa.py asks "Answer with the option letter directly." and compares the first
character with an option letter, which fits only the multi-choice task (yes/no has no letters,
caption matching answers "Caption A", captioning is judged by an LLM). This adapter therefore reads
multi-choice only; the paper does not say which task(s) its column averages.

Rules: question verbatim (options are already in the protocol's ``"A. text"`` form); the answer
letter is the answer's first character and must be one of the question's option lines;
``group`` = temporal dimension (action, speed, direction, order, attribute_change);
``id`` = ``<video_id>/<dimension>/<position>``.
"""

from __future__ import annotations

import re
from pathlib import Path

from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require

RELEASE = ("TempCompass: questions/multi-choice.json from github.com/llyx97/TempCompass + "
           "videos/ from the Hugging Face dataset lmms-lab/TempCompass")
ANNOTATION = "questions/multi-choice.json"
VIDEOS = "videos"
OPTION_LINE = re.compile(r"^([A-Z])\. ", re.MULTILINE)


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    data = read_json(annotation, dict, "{video_id: {dimension: [questions]}}")
    items = []
    for video_id, dimensions in data.items():
        if not isinstance(dimensions, dict):
            raise ValueError(f"{annotation} video {video_id}: expected {{dimension: [questions]}}")
        for dim, questions in dimensions.items():
            for n, row in enumerate(questions):
                item_id = f"{video_id}/{dim}/{n}"
                try:
                    question, answer = str(row["question"]), str(row["answer"]).strip()
                except (KeyError, TypeError) as error:
                    raise ValueError(f"{annotation} item {item_id}: missing field {error}") from None
                letters = OPTION_LINE.findall(question)
                if not answer or answer[0] not in letters:
                    raise ValueError(f"{annotation} item {item_id}: answer {answer!r} is not one of the options "
                                     f"{letters} written in the question")
                items.append(Item(id=item_id, videos=(str(videos / f"{video_id}.mp4"),), question=question,
                                  answer=answer[0], group=dim, meta={"video_id": video_id}))
    return items


BENCHMARK = Benchmark(
    name="tempcompass",
    title="TempCompass",
    domain="General Video QA",
    kind="mc",
    release=RELEASE,
    split="multi-choice task (questions/multi-choice.json, all dimensions)",
    layout=f"{ANNOTATION}, {VIDEOS}/<video_id>.mp4",
    load=load,
    rule="multi-choice task only; question verbatim (options inline); letter = answer[0]; group = dimension",
    source="official TempCompass questions/multi-choice.json; the subset is this adapter's reading of the "
           "paper's 'Answer with the option letter directly' (released vqa.py); the paper does not name it",
    lmms_task="tempcompass_multi_choice",
    lmms_note="prompt ends '\\nPlease directly give the best option:'; rule-based matching then a GPT-3.5 judge",
)
