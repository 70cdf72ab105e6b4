"""Video-TT, multiple-choice questions: video understanding beyond the frames (Table 3).

Release: the Hugging Face dataset ``lmms-lab/video-tt`` as downloaded (``huggingface-cli download
--repo-type dataset lmms-lab/video-tt``, video zip unpacked in place): the ``test`` split's parquet
``data/test-*.parquet`` (``video_id``, ``question``, ``question_prompt`` = the options, already
lettered one per line, ``answer`` = letter, ``capability``) and the videos
``Benchmark-AllVideos-LQ/{video_id}.mp4``. The other splits of the same repository (``test_all``,
``test_*_oe``: the open-ended and led questions, judged by GPT in lmms-eval) are not read.

Subset: the ``test`` split = the multiple-choice questions, exactly what lmms-eval's
``videott_single_mc`` evaluates. The question is ``question + "\\n" + question_prompt`` (lmms-eval's
join, without its pre-/post-prompt), then the paper's "Answer with the option letter directly.";
``group`` = ``capability``. The id is ``video_id`` (one MC question per video); a repeated video id
gets ``#k`` (its occurrence) appended, in file order.
"""

from __future__ import annotations

from pathlib import Path

from recipes.videossr.eval.bench.spec import Benchmark, Item, ReleaseNotFound, read_parquet, require

RELEASE = "lmms-lab/video-tt (Hugging Face dataset: data/test-*.parquet + Benchmark-AllVideos-LQ videos)"
VIDEOS = "Benchmark-AllVideos-LQ"
COLUMNS = ("video_id", "question", "question_prompt", "answer", "capability")



def load(root: Path) -> list[Item]:
    root = Path(root)
    _, videos = require(root, "data", VIDEOS, what=f"download {RELEASE}")
    files = sorted((root / "data").glob("test-*.parquet"))
    if not files:
        raise ReleaseNotFound(f"--root {root}: missing data/test-*.parquet (download {RELEASE})")
    items, counts = [], {}
    for path in files:
        for row in read_parquet(path, COLUMNS):
            vid = str(row["video_id"])
            where = f"{path} (video_id {vid})"
            options = str(row["question_prompt"] or "").strip()
            answer = str(row["answer"] or "").strip()
            if not options:
                raise ValueError(f"{where}: empty question_prompt (the options of a multiple-choice question)")
            if len(answer) != 1 or not answer.isupper():
                raise ValueError(f"{where}: answer {row['answer']!r} is not an option letter")
            if f"{answer}." not in options and f"({answer})" not in options:
                raise ValueError(f"{where}: answer {answer!r} is not among the options {options!r}")
            k = counts.get(vid, 0)
            counts[vid] = k + 1
            items.append(Item(id=vid if k == 0 else f"{vid}#{k}", videos=(str(videos / f"{vid}.mp4"),),
                              question=f"{str(row['question']).strip()}\n{options}", answer=answer,
                              group=str(row["capability"] or ""), meta={"video_id": vid}))
    return items


BENCHMARK = Benchmark(
    name="videott",
    title="Video-TT",
    domain="Complex Reasoning",
    kind="mc",
    release=RELEASE,
    split="test (the multiple-choice split, as lmms-eval's videott_single_mc)",
    layout=f"data/test-*.parquet, {VIDEOS}/<video_id>.mp4",
    load=load,
    rule="the MC split only; question + newline + question_prompt (options as released); answer = letter; "
         "group = capability",
    source="lmms-lab/video-tt; subset and join from lmms-eval's videott_single_mc (paper does not say)",
    lmms_task="videott_single_mc",
    lmms_note="lmms-eval's default prompt is '\\n{question}\\n{question_prompt}\\n' (no instruction; the "
              "'Select the best answer ...' wrapper only when a model's kwargs lack pre/post prompts), 16 new "
              "tokens, the first [ABCDE] anywhere in the output (none: wrong)",
)
