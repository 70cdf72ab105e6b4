"""Video-MME without subtitles (Table 2, Long Video QA).

Release: the Hugging Face dataset ``lmms-lab/Video-MME``: ``videomme/test-00000-of-00001.parquet``
(2,700 questions: ``question_id``, ``videoID``, ``duration`` short/medium/long, ``domain``,
``sub_category``, ``task_type``, ``question``, ``options`` = list of ``"A. text"`` strings,
``answer`` = letter) and the videos of ``videos_chunked_*.zip`` unpacked into ``data/``
(``data/<videoID>.mp4``; a few are ``.MP4``/``.mkv``: the existing one is used).

Rules: no subtitles; the options are written one per line AS GIVEN (they already carry their
``"A. "`` letters, which are checked, not doubled); the answer letter as released; ``group`` =
duration (short / medium / long, the paper's sub-columns); ``id`` = ``question_id``.
"""

from __future__ import annotations

from pathlib import Path

from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.spec import Benchmark, Item, require

RELEASE = "Hugging Face dataset lmms-lab/Video-MME (videomme/ parquet + videos_chunked_*.zip unpacked into data/)"
ANNOTATION = "videomme/test-00000-of-00001.parquet"
VIDEOS = "data"
EXTENSIONS = (".mp4", ".MP4", ".mkv")


def _video(videos: Path, video_id: str) -> Path:
    for ext in EXTENSIONS:
        if (videos / f"{video_id}{ext}").exists():
            return videos / f"{video_id}{ext}"
    return videos / f"{video_id}.mp4"


def load(root: Path) -> list[Item]:
    import pyarrow.parquet as pq

    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    try:
        rows = pq.read_table(annotation).to_pylist()
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise ValueError(f"{annotation}: not a readable parquet file ({error})") from None
    items = []
    for n, row in enumerate(rows):
        try:
            qid, video_id, question = str(row["question_id"]), str(row["videoID"]), str(row["question"])
            options, answer = [str(o).strip() for o in row["options"]], str(row["answer"]).strip()
        except (KeyError, TypeError) as error:
            raise ValueError(f"{annotation} item {n}: missing field {error}") from None
        for k, option in enumerate(options):
            if not option.startswith(f"{protocol.letter_of(k)}. "):
                raise ValueError(f"{annotation} item {qid}: option {k} {option!r} does not start with "
                                 f"'{protocol.letter_of(k)}. '")
        if answer not in [protocol.letter_of(k) for k in range(len(options))]:
            raise ValueError(f"{annotation} item {qid}: answer {answer!r} is not an option letter")
        items.append(Item(id=qid, videos=(str(_video(videos, video_id)),),
                          question="\n".join([question.rstrip("\n"), *options]), answer=answer,
                          group=str(row.get("duration") or ""),
                          meta={"videoID": video_id, "domain": row.get("domain"),
                                "sub_category": row.get("sub_category"), "task_type": row.get("task_type")}))
    return items


BENCHMARK = Benchmark(
    name="videomme",
    title="Video-MME",
    domain="Long Video QA",
    kind="mc",
    release=RELEASE,
    split="test, all durations, without subtitles (2,700 questions)",
    layout=f"{ANNOTATION}, {VIDEOS}/<videoID>.mp4",
    load=load,
    rule="no subtitles; options written as given ('A. ...' lines); answer letter as released; group = duration",
    source="lmms-lab/Video-MME test parquet; prompt and first-character parser from the released vqa.py",
    lmms_task="videomme",
    lmms_note="prompt mentions subtitles / 'Answer with the option's letter'; extract_mcq_answer; every item counts",
)
