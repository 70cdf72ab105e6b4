"""LongVideoBench, validation split (Table 2, Long Video QA).

Release: the Hugging Face dataset ``longvideobench/LongVideoBench`` with its video archive unpacked:
``lvb_val.json`` (1,337 questions: ``id``, ``video_id``, ``video_path``, ``question``,
``candidates`` = option texts, ``correct_choice`` = 0-based INDEX, ``question_category``,
``duration_group``, ...) and ``videos/<video_path>``.

Rules: validation split (the test split has no answers); no subtitles (the paper's vqa.py passes
only the video); the candidates are written as ``"A. text"`` lines; the answer letter is
``letter_of(correct_choice)``; trailing ``"N/A"`` candidates are padding (the parquet form pads
every question to five options with ``"N/A"``) and are dropped, an ``"N/A"`` that is the right
answer or sits between real options is a malformed item; ``group`` = ``question_category``;
``id`` = ``id``.
"""

from __future__ import annotations

from pathlib import Path

from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require

RELEASE = "Hugging Face dataset longvideobench/LongVideoBench (lvb_val.json + videos/ unpacked)"
ANNOTATION = "lvb_val.json"
VIDEOS = "videos"
PADDING = "N/A"


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    rows = read_json(annotation, list, "a list of questions")
    items = []
    for n, row in enumerate(rows):
        try:
            qid, video, question = str(row["id"]), str(row["video_path"]), str(row["question"])
            candidates, right = [str(c).strip() for c in row["candidates"]], int(row["correct_choice"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{annotation} item {n}: missing or bad field {error}") from None
        while candidates and candidates[-1] == PADDING:
            candidates.pop()
        if PADDING in candidates or not 0 <= right < len(candidates):
            raise ValueError(f"{annotation} item {qid}: correct_choice {right} does not name one of the "
                             f"real candidates {candidates}")
        items.append(Item(id=qid, videos=(str(videos / video),), question=protocol.with_options(question, candidates),
                          answer=protocol.letter_of(right), group=str(row.get("question_category") or ""),
                          meta={"video_id": row.get("video_id"), "duration_group": row.get("duration_group")}))
    return items


BENCHMARK = Benchmark(
    name="longvideobench",
    title="LongVideoBench",
    domain="Long Video QA",
    kind="mc",
    release=RELEASE,
    split="validation (lvb_val.json, 1,337 questions), without subtitles",
    layout=f"{ANNOTATION}, {VIDEOS}/<video_path>",
    load=load,
    rule="val split; correct_choice index -> letter; trailing 'N/A' padding options dropped; "
         "group = question_category",
    source="longvideobench/LongVideoBench lvb_val.json; prompt and first-character parser from the released vqa.py",
    lmms_task="longvideobench_val_v",
    lmms_note="prompt ends 'Answer with the option's letter from the given choices directly.'; first [A-E] in "
              "the output; an unparsable answer is replaced by a RANDOM choice",
)
