"""CVBench (cross-video reasoning): questions over two to four videos at once (Table 3).

Release: the videos of the Hugging Face dataset ``Dongyh35/CVBench`` and the item file
``CVBench.json`` (1,000 items; the file the authors' evaluation reads, Hokhim2/CVBench
``Video-R1/src/r1-v/Evaluation/CVBench.json``), laid out as that evaluation expects:
``CVBench.json`` next to ``CVBench/<k>/<name>.mp4`` (``video_k`` fields are paths relative to
``CVBench/``). An item: ``id`` (int), ``task_type`` (15 types), ``video_1..video_4`` (unused ones
``null``), ``question``, ``options``, ``answer``.

Videos: every non-null ``video_k`` in order is one entry of ``Item.videos``, and each video gets the
full frame budget (the paper's 32/48/64 frames PER video; the authors' evaluation also passes each
video as its own visual).

Options, one per line as ``"A. text"``: released letters are kept, never doubled (``"D.No animals"``
is written ``"D. No animals"``); options are lettered by position, so the one item released with
letters out of order (id 431: ``A, B, B, B``; answer ``A``) is re-lettered ``A-D`` and its answer
follows its option (recorded in ``meta["relettered"]``); the one item whose options are a single
comma-joined string
(``["A. x, B. y, C. z, D. w"]``, id 996) is split at ``", B."``, ``", C."``, ... so it reads like the
others. Yes/No questions (136 items, answer ``"Yes"``/``"No"``) are written as released: the question,
then the option lines ``Yes.``/``No.`` (or ``Yes``/``No``) WITHOUT letters, and the answer is its first
character (``protocol.yes_no_key``: the paper compares the output's first character, which can never
equal the word ``"Yes"``); a Yes/No answer over lettered options (``"A. Yes."``) maps to that option's
letter. ``group`` = ``task_type``.
"""

from __future__ import annotations

import re
from pathlib import Path

from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require

RELEASE = "CVBench: Dongyh35/CVBench videos + CVBench.json (Hokhim2/CVBench Video-R1/src/r1-v/Evaluation)"
ANNOTATION = "CVBench.json"
VIDEOS = "CVBench"
VIDEO_FIELDS = ("video_1", "video_2", "video_3", "video_4")
LETTERED = re.compile(r"^\s*([A-Z])\.\s*(.*)$", re.DOTALL)
JOINED = re.compile(r",\s*(?=[B-Z]\.\s)")


def _is_yes_no(text: str) -> bool:
    return str(text).strip().rstrip(".").strip().lower() in ("yes", "no")


def _options(options, where: str) -> tuple[list[str], list[str]]:
    """(texts without letters, the released letters: [] when unlettered)."""
    if not isinstance(options, list) or not options:
        raise ValueError(f"{where}: options must be a non-empty list, got {options!r}")
    if len(options) == 1 and JOINED.search(str(options[0])):
        options = JOINED.split(str(options[0]))
    matches = [LETTERED.match(str(o)) for o in options]
    if not any(matches):
        return [str(o).strip() for o in options], []
    if not all(matches):
        raise ValueError(f"{where}: some options are lettered and some are not: {options!r}")
    return [m.group(2).strip() for m in matches], [m.group(1) for m in matches]


def _answer_letter(answer: str, released: list[str], count: int, where: str) -> str:
    """The letter of the answer's option by position (released letters out of order are re-lettered)."""
    letters = released or [protocol.letter_of(k) for k in range(count)]
    if letters.count(answer) != 1:
        raise ValueError(f"{where}: answer {answer!r} does not name exactly one of the options {letters}")
    return protocol.letter_of(letters.index(answer))


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    rows = read_json(annotation, list, "a list of items")
    items, seen = [], set()
    for n, row in enumerate(rows):
        try:
            qid, question, options, answer = row["id"], row["question"], row["options"], row["answer"]
            task = row["task_type"]
            files = [row.get(f) for f in VIDEO_FIELDS]
        except (KeyError, TypeError, AttributeError):
            raise ValueError(f"{annotation}: entry {n}: expected id, task_type, video_1.., question, options, "
                             "answer") from None
        where = f"{annotation} (id {qid})"
        present = [f for f in files if f]
        if not present or files[: len(present)] != present:
            raise ValueError(f"{where}: video_1..video_4 must be filled in order, got {files}")
        texts, released = _options(options, where)
        answer = str(answer).strip()
        if _is_yes_no(answer) and not released:
            if not all(_is_yes_no(t) for t in texts):
                raise ValueError(f"{where}: a Yes/No answer with options {options!r}")
            key, text = protocol.yes_no_key(answer), "\n".join([str(question).strip(), *texts])
        else:
            if _is_yes_no(answer):  # Yes/No over lettered options ("A. Yes."): that option's letter
                yes_no = [released[k] for k, t in enumerate(texts) if _is_yes_no(t) and
                          protocol.yes_no_key(t) == protocol.yes_no_key(answer)]
                if len(yes_no) != 1:
                    raise ValueError(f"{where}: answer {answer!r} matches no single option of {options!r}")
                answer = yes_no[0]
            key = _answer_letter(answer, released, len(texts), where)
            text = protocol.with_options(str(question).strip(), texts)
        if str(qid) in seen:
            raise ValueError(f"{where}: duplicate id")
        seen.add(str(qid))
        meta = {"answer_released": str(row["answer"]), "videos": len(present)}
        if released and released != [protocol.letter_of(k) for k in range(len(released))]:
            meta["relettered"] = released
        items.append(Item(id=str(qid), videos=tuple(str(videos / f) for f in present), question=text, answer=key,
                          group=str(task), meta=meta))
    return items


BENCHMARK = Benchmark(
    name="cvbench",
    title="CVBench",
    domain="Complex Reasoning",
    kind="mc",
    release=RELEASE,
    split="all 1,000 items (2-4 videos each)",
    layout=f"{ANNOTATION}, {VIDEOS}/<k>/<name>.mp4 (the video_k paths)",
    load=load,
    rule="all videos of an item in order, each with the full frame budget; options 'A. text' one per line "
         "(released letters kept); Yes/No items: 'Yes.'/'No.' lines without letters, answer Y/N "
         "(first character); group = task_type",
    source="Hokhim2/CVBench CVBench.json and its Video-R1 multi-video evaluation; Yes/No mapping ours "
           "(protocol.yes_no_key)",
    lmms_task="",
    lmms_note="no lmms-eval task (lmms-eval's cv_bench is an image benchmark); the authors' fork task 'mvr' "
              "and Video-R1 script use their own prompts (Yes/No items answered as words, a cue about the "
              "'The video X' title frames)",
)
