"""Charades-STA test: temporal grounding on Charades videos (Table 3).

Release: the official annotation ``charades_sta_test.txt`` (jiyanggao/TALL; 3,720 queries), one
line per query ``VID START END##sentence`` in seconds, and the Charades videos (480p release,
``Charades_v1_480/VID.mp4``). The query is inserted into vtg.py's prompt as written.
"""

from __future__ import annotations

from pathlib import Path

from recipes.videossr.eval.bench.spec import Benchmark, Item, require

RELEASE = "Charades-STA (charades_sta_test.txt from jiyanggao/TALL) + Charades_v1_480 videos"
ANNOTATION = "charades_sta_test.txt"
VIDEOS = "Charades_v1_480"


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    items = []
    for n, line in enumerate(annotation.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        head, _, sentence = line.partition("##")
        fields = head.split()
        if len(fields) != 3 or not sentence.strip():
            raise ValueError(f"{annotation}:{n}: expected 'VID START END##sentence', got {line!r}")
        vid, start, end = fields[0], float(fields[1]), float(fields[2])
        items.append(Item(id=f"{n:05d}", videos=(str(videos / f"{vid}.mp4"),), question=sentence.strip(),
                          answer=(start, end), meta={"video_id": vid}))
    return items


BENCHMARK = Benchmark(
    name="charades",
    title="CharadesSTA",
    domain="Temporal Grounding",
    kind="tg",
    release=RELEASE,
    split="test (3,720 queries)",
    layout=f"{ANNOTATION}, {VIDEOS}/<VID>.mp4",
    load=load,
    rule="one item per annotation line; window in seconds as annotated",
    source="official charades_sta_test.txt (TALL); prompt and parser from the released vtg.py",
    lmms_task="temporal_grounding_charades",
    lmms_note="prompt has a period after the query; an unparsable answer scores IoU 0 and counts; "
              "duplicate (video, caption, window) keys collapse",
)
