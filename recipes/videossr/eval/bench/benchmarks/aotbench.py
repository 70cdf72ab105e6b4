"""AoTBench (arrow of time; Table 2, General Video QA).

Release: the Hugging Face dataset ``sherryxzh/AoTBench`` (github.com/zihuixue/seeAoT puts it under
``data/``): five question files ``data_files/input/{ReverseFilm,UCF101,Rtime_t2v,Rtime_v2t,
AoTBench_QA}.json``, each a list of ``{qa_idx, video_name, question, ans}``; ``video_name`` is the
video's path relative to the release folder (extension included); ``question`` already contains
its options; ``ans`` is the option letter.

Rules: all five files (seeAoT ``scripts/eval.sh``); question verbatim, as seeAoT's own evaluation
asks it; the answer letter as released (seeAoT ``read_qa.py`` also compares the first character of
the response with ``ans``); ``group`` = file, so the summary has each file's accuracy next to the
overall one (how the paper averages the five is not shown: the headline is over all questions);
``id`` = ``<file>/<qa_idx>``.
"""

from __future__ import annotations

from pathlib import Path

from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require

RELEASE = "Hugging Face dataset sherryxzh/AoTBench (seeAoT's data/ folder)"
INPUT = "data_files/input"
FILES = ("ReverseFilm", "UCF101", "Rtime_t2v", "Rtime_v2t", "AoTBench_QA")


def load(root: Path) -> list[Item]:
    paths = require(root, *(f"{INPUT}/{name}.json" for name in FILES), what=f"download {RELEASE}")
    root = Path(root)
    items, seen = [], set()
    for name, path in zip(FILES, paths):
        rows = read_json(path, list, "a list of questions")
        for n, row in enumerate(rows):
            try:
                qa_idx, video, question = row["qa_idx"], str(row["video_name"]), str(row["question"])
                answer = str(row["ans"]).strip()
            except (KeyError, TypeError) as error:
                raise ValueError(f"{path} item {n}: missing field {error}") from None
            item_id = f"{name}/{qa_idx}"
            if len(answer) != 1 or not answer.isupper():
                raise ValueError(f"{path} item {item_id}: ans {answer!r} is not an option letter")
            if item_id in seen:
                raise ValueError(f"{path} item {item_id}: qa_idx repeats")
            seen.add(item_id)
            items.append(Item(id=item_id, videos=(str(root / video),), question=question, answer=answer,
                              group=name, meta={"video_name": video}))
    return items


BENCHMARK = Benchmark(
    name="aotbench",
    title="AoTBench",
    domain="General Video QA",
    kind="mc",
    release=RELEASE,
    split="all 5 files: " + ", ".join(FILES),
    layout=f"{INPUT}/<{'|'.join(FILES)}>.json, <video_name> (relative to --root)",
    load=load,
    rule="all 5 files pooled; question verbatim (options inline); ans letter as released; group = file",
    source="seeAoT scripts/eval.sh (the 5 files) and eval/read_qa.py (response[0] == ans); "
           "prompt and parser from the released vqa.py",
    lmms_task="",
    lmms_note="no lmms-eval task; seeAoT's own evaluation asks the question verbatim with 16 frames and 1024 tokens",
)
