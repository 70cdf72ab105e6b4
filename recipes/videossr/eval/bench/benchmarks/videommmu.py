"""VideoMMMU (multiple-choice questions of its three tracks): knowledge from lecture videos (Table 3).

Release: the Hugging Face dataset ``lmms-lab/VideoMMMU`` as downloaded (``huggingface-cli download
--repo-type dataset lmms-lab/VideoMMMU``, zips unpacked in place): one config per track,
``Perception/``, ``Comprehension/``, ``Adaptation/`` each with ``test-*.parquet`` (``id``, ``question``,
``options``, ``answer``, ``question_type``), and the videos unpacked into one folder per discipline,
``<Art|Business|Engineering|Humanities|Medicine|Science>/{id}.mp4`` -- the discipline follows from
the subject inside the id (``validation_<Subject>_<n>``), the mapping lmms-eval's loader uses.

Subset: ``question_type == "multiple-choice"`` only (open-ended questions cannot be scored by the
paper's first-character rule); all three tracks, each its own ``group`` (perception /
comprehension / adaptation), so the breakdown is in summary.json. The same video id recurs in the
three tracks, so an item id is ``{track}/{id}``.

Options are written one per line as ``"A. text"``; options that already start with their letter
(``"A. ..."``, ``"A.text"``) keep it -- the letter is not doubled (lmms-eval's ``parse_options``
makes the same check). The answer is the released letter.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.spec import Benchmark, Item, ReleaseNotFound, read_parquet, require

RELEASE = "lmms-lab/VideoMMMU (Hugging Face dataset, the three track configs + the video zips unpacked)"
TRACKS = ("Perception", "Comprehension", "Adaptation")
COLUMNS = ("id", "question", "options", "answer", "question_type")
LETTERED = re.compile(r"^\s*([A-Z])\.\s*(.*)$", re.DOTALL)

# The discipline folder of each subject (as lmms-eval's videommmu utils lays the videos out).
DISCIPLINES = {
    "Art": ("Art", "Art_Theory", "Design", "Music"),
    "Science": ("Biology", "Chemistry", "Geography", "Math", "Physics"),
    "Humanities": ("History", "Literature", "Sociology", "Psychology"),
    "Engineering": ("Agriculture", "Architecture_and_Engineering", "Computer_Science", "Electronics",
                    "Energy_and_Power", "Materials", "Mechanical_Engineering"),
    "Medicine": ("Basic_Medical_Science", "Clinical_Medicine", "Diagnostics_and_Laboratory_Medicine", "Pharmacy",
                 "Public_Health"),
    "Business": ("Accounting", "Economics", "Finance", "Manage", "Marketing"),
}
FOLDER_OF_SUBJECT = {subject: folder for folder, subjects in DISCIPLINES.items() for subject in subjects}


def option_lines(options, where: str) -> list[str]:
    """The option texts without letters; letters already written must be A, B, C... in order."""
    texts = []
    for k, option in enumerate(options):
        match = LETTERED.match(str(option))
        if match:
            if match.group(1) != protocol.letter_of(k):
                raise ValueError(f"{where}: option {k} is lettered {match.group(1)!r}, expected {protocol.letter_of(k)!r}")
            texts.append(match.group(2).strip())
        else:
            texts.append(str(option).strip())
    return texts



def load(root: Path) -> list[Item]:
    root = Path(root)
    folders = require(root, *TRACKS, what=f"download {RELEASE}")
    items, seen = [], set()
    for track, folder in zip(TRACKS, folders):
        files = sorted(folder.glob("test-*.parquet"))
        if not files:
            raise ReleaseNotFound(f"--root {root}: missing {track}/test-*.parquet (download {RELEASE})")
        for path in files:
            for row in read_parquet(path, COLUMNS):
                if row["question_type"] != "multiple-choice":
                    continue
                where = f"{path} (id {row['id']})"
                vid = str(row["id"])
                subject = "_".join(vid.split("_")[1:-1])
                if subject not in FOLDER_OF_SUBJECT:
                    raise ValueError(f"{where}: unknown subject {subject!r} in the id (expected split_<Subject>_<n>)")
                options = row["options"]
                if not isinstance(options, list) or not options:
                    raise ValueError(f"{where}: a multiple-choice question without options")
                texts = option_lines(options, where)
                answer = str(row["answer"]).strip()
                if answer not in string.ascii_uppercase[: len(texts)] or not answer:
                    raise ValueError(f"{where}: answer {row['answer']!r} is not one of the {len(texts)} option letters")
                item_id = f"{track.lower()}/{vid}"
                if item_id in seen:
                    raise ValueError(f"{where}: duplicate id in track {track}")
                seen.add(item_id)
                items.append(Item(id=item_id, videos=(str(root / FOLDER_OF_SUBJECT[subject] / f"{vid}.mp4"),),
                                  question=protocol.with_options(str(row["question"]).strip(), texts), answer=answer,
                                  group=track.lower(), meta={"video_id": vid, "subject": subject, "track": track}))
    return items


BENCHMARK = Benchmark(
    name="videommmu",
    title="VideoMMMU",
    domain="Complex Reasoning",
    kind="mc",
    release=RELEASE,
    split="test, question_type == multiple-choice, all three tracks (perception/comprehension/adaptation)",
    layout="Perception|Comprehension|Adaptation/test-*.parquet, <Art|Business|Engineering|Humanities|Medicine|Science>/<id>.mp4",
    load=load,
    rule="multiple-choice questions only, all tracks (one group each); options 'A. text' one per line, "
         "released letters not doubled; answer = released letter",
    source="lmms-lab/VideoMMMU; subset ours (paper does not say which tracks; first-char scoring needs MC); "
           "video folders and letter check from lmms-eval's videommmu utils",
    lmms_task="video_mmmu",
    lmms_note="lmms-eval also scores the open-ended questions; adds 'Please directly output the option "
              "letter/data as the answer.' and, for adaptation, a pre-prompt saying the question's image is at "
              "the end of the video; 1024 new tokens; MMMU-style answer extraction",
)
