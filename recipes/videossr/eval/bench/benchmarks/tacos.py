"""TACoS test: temporal grounding on MPII cooking videos (Table 3).

Release: 2D-TAN's ``test.json`` (microsoft/2D-TAN ``data/TACoS/``; 4,083 queries) read as released:
``{video file: {num_frames, fps, timestamps [[start_frame, end_frame]], sentences}}`` -- the keys are
the video FILE names (``"s13-d21.avi"``), and the windows are FRAME numbers; videos from the TACoS
release, ``videos/<name>.avi``.

Frames -> seconds: ``frame / fps`` with the file's own ``fps`` (what 2D-TAN's loader does). One item
per sentence (id ``{video}#{k}``). 2D-TAN additionally drops windows with ``start >= end`` and clamps
to ``[0, num_frames / fps]``; here nothing is dropped or clamped silently: a window past the end is
kept and flagged (``meta["beyond_duration"]``), a reversed one is ordered as vtg.py orders a ground
truth and flagged (``meta["reversed"]``).
"""

from __future__ import annotations

from pathlib import Path

from recipes.videossr.eval.bench.spec import Benchmark, Item, read_json, require

RELEASE = "TACoS (test.json from microsoft/2D-TAN data/TACoS) + the TACoS (MPII Cooking Composite) videos"
ANNOTATION = "test.json"
VIDEOS = "videos"


def load(root: Path) -> list[Item]:
    annotation, videos = require(root, ANNOTATION, VIDEOS, what=f"download {RELEASE}")
    data = read_json(annotation, dict, "{video: {num_frames, fps, timestamps, sentences}}")
    items = []
    for vid, entry in data.items():
        where = f"{annotation} ({vid})"
        try:
            fps, num_frames = float(entry["fps"]), float(entry["num_frames"])
            stamps, sentences = entry["timestamps"], entry["sentences"]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: expected num_frames, fps, timestamps, sentences") from None
        if fps <= 0:
            raise ValueError(f"{where}: fps must be positive, got {fps}")
        if not isinstance(stamps, list) or not isinstance(sentences, list) or len(stamps) != len(sentences):
            raise ValueError(f"{where}: timestamps and sentences must be lists of equal length")
        duration = num_frames / fps
        for k, (window, sentence) in enumerate(zip(stamps, sentences)):
            try:
                if len(window) != 2:
                    raise ValueError
                start, end = float(window[0]) / fps, float(window[1]) / fps
            except (TypeError, ValueError):
                raise ValueError(f"{where}: sentence {k}: timestamp must be [start_frame, end_frame], "
                                 f"got {window!r}") from None
            if not str(sentence).strip():
                raise ValueError(f"{where}: sentence {k} is empty")
            meta = {"video_id": vid, "duration": duration, "fps": fps, "frames": list(window), "sentence_index": k}
            if max(start, end) > duration:
                meta["beyond_duration"] = True
            if start > end:
                meta["reversed"] = True
            items.append(Item(id=f"{vid}#{k}", videos=(str(videos / vid),), question=str(sentence).strip(),
                              answer=(min(start, end), max(start, end)), meta=meta))
    return items


BENCHMARK = Benchmark(
    name="tacos",
    title="TACoS",
    domain="Temporal Grounding",
    kind="tg",
    release=RELEASE,
    split="test (2D-TAN split, 4,083 queries)",
    layout=f"{ANNOTATION}, {VIDEOS}/<name>.avi (names as the JSON keys)",
    load=load,
    rule="one item per sentence; seconds = frame / the file's fps; not clamped, reversed windows ordered",
    source="2D-TAN data/TACoS/test.json and its frame->second rule; prompt and parser from the released vtg.py",
    lmms_task="",
    lmms_note="no lmms-eval task",
)
