"""CG-Bench mini (3,000 questions; Table 2, Long Video QA).

Release: the gated Hugging Face dataset ``CG-Bench/CG-Bench`` with its video zips unpacked by the
release's own ``unzip_hf_zip.py``: ``cgbench_mini.json`` (the official 3k mini split, the config
``cg-bench-mini``; ``qid``, ``video_uid``, ``question``, ``choices`` = option texts without
letters, ``right_answer`` = letter, ``duration``, ``domain``, ``sub_category``, ``clue_intervals``)
and ``cg_videos_720p/<video_uid>.mp4``.

Rules: the mini split; the long-video multiple-choice task (whole video, no clue clip, no
subtitles); the choices get letters as ``"A. text"`` lines; the answer letter as released,
checked against the number of choices; ``group`` = ``sub_category``; ``id`` = ``qid``.
"""

from __future__ import annotations

from pathlib import Path

from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require

RELEASE = "Hugging Face dataset CG-Bench/CG-Bench (gated; cgbench_mini.json + cg_videos_720p/ unpacked)"
ANNOTATION = "cgbench_mini.json"
VIDEOS = "cg_videos_720p"


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    rows = read_json(annotation, list, "a list of questions")
    items, seen = [], set()
    for n, row in enumerate(rows):
        try:
            qid, video, question = str(row["qid"]), str(row["video_uid"]), str(row["question"])
            choices, answer = [str(c).strip() for c in row["choices"]], str(row["right_answer"]).strip()
        except (KeyError, TypeError) as error:
            raise ValueError(f"{annotation} item {n}: missing field {error}") from None
        if answer not in [protocol.letter_of(k) for k in range(len(choices))]:
            raise ValueError(f"{annotation} item {qid}: right_answer {answer!r} is not a letter of its "
                             f"{len(choices)} choices")
        if qid in seen:
            raise ValueError(f"{annotation} item {qid}: qid repeats")
        seen.add(qid)
        items.append(Item(id=qid, videos=(str(videos / f"{video}.mp4"),), question=protocol.with_options(question, choices),
                          answer=answer, group=str(row.get("sub_category") or ""),
                          meta={"video_uid": video, "duration": row.get("duration"), "domain": row.get("domain")}))
    return items


BENCHMARK = Benchmark(
    name="cgbench",
    title="CGBench",
    domain="Long Video QA",
    kind="mc",
    release=RELEASE,
    split="cg-bench-mini (cgbench_mini.json, 3,000 questions), long-video multiple choice, no subtitles",
    layout=f"{ANNOTATION}, {VIDEOS}/<video_uid>.mp4",
    load=load,
    rule="mini split; whole video; choices lettered 'A. text'; right_answer letter as released; group = sub_category",
    source="CG-Bench/CG-Bench cgbench_mini.json (long-acc task); prompt and first-character parser from the "
           "released vqa.py",
    lmms_task="cgbench",
    lmms_note="own prompt; extract_mcq_answer (A-N); every item counts",
)
