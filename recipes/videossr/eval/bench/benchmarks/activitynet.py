"""ActivityNet Captions val_2: temporal grounding on ActivityNet videos (Table 3).

Release: the ActivityNet Captions annotations (cs.stanford.edu/people/ranjaykrishna/densevid,
``captions.zip``) read as released: ``val_2.json`` = ``{video id: {duration, timestamps [[s, e]],
sentences}}`` with the window in seconds, and the ActivityNet videos as the ActivityNet release
lays them out: ``videos/v_<youtube id>.mp4`` -- the ids in the JSON already carry the ``v_``
prefix (``"v_QOlSCBRmfWY"``), so the file is ``{id}.mp4``.

Split: ``val_2.json`` (about 17k sentences). The annotation ships two validation files and the
paper does not say which it used; in temporal sentence grounding the convention set by 2D-TAN
(and followed by most grounding code) is "val_1 = validation, val_2 = test" (2D-TAN's loaders:
"val_1.json is renamed as val.json, val_2.json is renamed as test.json"), so the test numbers of
the grounding literature are val_2's. ``ANNOTATION`` below is the one line to change for val_1.

One item per sentence (id ``{video id}#{k}``, k = the sentence's index in the video); the sentence is
inserted into vtg.py's prompt as written (stripped). Windows are used as annotated: nothing is
clamped to the duration (ActivityNet has windows that end after ``duration``; they are flagged in
``meta["beyond_duration"]``); a reversed window is ordered the way vtg.py parses a ground truth.
"""

from __future__ import annotations

from pathlib import Path

from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require

RELEASE = "ActivityNet Captions (captions.zip: val_2.json, cs.stanford.edu/people/ranjaykrishna/densevid) + ActivityNet videos"
ANNOTATION = "val_2.json"
VIDEOS = "videos"


def video_file(video_id: str) -> str:
    """The ActivityNet file name of a caption id (ids already carry ``v_``)."""
    return f"{video_id if video_id.startswith('v_') else 'v_' + video_id}.mp4"


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    data = read_json(annotation, dict, "{video id: {duration, timestamps, sentences}}")
    items = []
    for vid, entry in data.items():
        where = f"{annotation} ({vid})"
        try:
            duration, stamps, sentences = entry["duration"], entry["timestamps"], entry["sentences"]
        except (KeyError, TypeError):
            raise ValueError(f"{where}: expected duration, timestamps, sentences") from None
        if not isinstance(stamps, list) or not isinstance(sentences, list) or len(stamps) != len(sentences):
            raise ValueError(f"{where}: timestamps and sentences must be lists of equal length")
        for k, (window, sentence) in enumerate(zip(stamps, sentences)):
            try:
                start, end = float(window[0]), float(window[1])
                if len(window) != 2:
                    raise ValueError
            except (TypeError, ValueError, IndexError):
                raise ValueError(f"{where}: sentence {k}: timestamp must be [start, end], got {window!r}") from None
            if not str(sentence).strip():
                raise ValueError(f"{where}: sentence {k} is empty")
            lo, hi = min(start, end), max(start, end)
            meta = {"video_id": vid, "duration": float(duration), "sentence_index": k}
            if hi > float(duration):
                meta["beyond_duration"] = True
            if start > end:
                meta["reversed"] = True
            items.append(Item(id=f"{vid}#{k}", videos=(str(videos / video_file(vid)),),
                              question=str(sentence).strip(), answer=(lo, hi), meta=meta))
    return items


BENCHMARK = Benchmark(
    name="activitynet",
    title="ActivityNet",
    domain="Temporal Grounding",
    kind="tg",
    release=RELEASE,
    split="val_2 (the grounding test set by the 2D-TAN convention; ~17k sentences)",
    layout=f"{ANNOTATION}, {VIDEOS}/v_<youtube id>.mp4",
    load=load,
    rule="one item per sentence of val_2.json; window in seconds as annotated (not clamped)",
    source="ActivityNet Captions val_2.json; val_2-as-test from 2D-TAN's loaders (paper does not say); "
           "prompt and parser from the released vtg.py",
    lmms_task="",
    lmms_note="no lmms-eval task (timelens_activitynet is a re-annotated set, not val_1/val_2)",
)
