"""QVHighlights adapter: the moment_detr val jsonl, several windows per query."""

from __future__ import annotations

import json

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = (
    "Please find the visual event described by a sentence in the video, determining its starting and ending "
    "times. The format should be: 'The event happens in the start time - end time'. For example, The event "
    "'person turn a light on' happens in the 24.3 - 30.4 seonds. Now I will give you the textual sentence: "
    "A family is playing basketball together on a green court outside. Please return its start time and end time."
)
ROWS = [
    {"qid": 9769, "query": "some military patriots takes us through their safety procedures and measures.",
     "duration": 150, "vid": "j7rJstUseKg_360.0_510.0", "relevant_windows": [[36, 54]],
     "relevant_clip_ids": [18, 19, 20, 21, 22, 23, 24, 25, 26], "saliency_scores": [[4, 3, 4]] * 9},
    {"qid": 2, "query": "A family is playing basketball together on a green court outside.",
     "duration": 126, "vid": "bP5KfdFJzC4_660.0_810.0", "relevant_windows": [[0, 16], [80, 90]]},
]


def _release(root, make_video):
    (root / "highlight_val_release.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    make_video(root / "videos" / "bP5KfdFJzC4_660.0_810.0.mp4")
    return root


def test_items_prompt(release_root, make_video):
    bench = get_benchmark("qvhighlights")
    items = bench.load(_release(release_root, make_video))
    assert [i.id for i in items] == ["9769", "2"]
    assert [i.answer for i in items] == [(36.0, 54.0), (0.0, 16.0)]  # the first window
    assert items[1].meta["windows"] == [[0.0, 16.0], [80.0, 90.0]]
    assert items[1].videos == (str(release_root / "videos" / "bP5KfdFJzC4_660.0_810.0.mp4"),)
    assert prompt_for(bench, items[1]) == GOLDEN


@pytest.mark.parametrize("output, iou, best, parsed", [
    ("The event happens in the 0 - 16 seconds.", 1.0, 1.0, [0.0, 16.0]),
    ("The event happens in the 80 - 90 seonds.", 0.0, 1.0, [80.0, 90.0]),  # the second window: iou_best only
    ("The event happens in the 8 - 0 seonds.", 0.5, 0.5, [0.0, 8.0]),
    ("I cannot tell.", 0.0, 0.0, None),
])
def test_scoring(release_root, make_video, output, iou, best, parsed):
    bench = get_benchmark("qvhighlights")
    item = bench.load(_release(release_root, make_video))[1]
    scored = score_for(bench, item, output)
    assert scored.metric == pytest.approx(iou)
    assert scored.extra["iou_best"] == pytest.approx(best)
    assert scored.parsed == parsed


def test_malformed_window_names_file_and_item(release_root):
    (release_root / "videos").mkdir()
    (release_root / "highlight_val_release.jsonl").write_text(json.dumps({**ROWS[0], "relevant_windows": []}))
    with pytest.raises(ValueError, match=r"highlight_val_release.jsonl:1 \(qid 9769\)"):
        get_benchmark("qvhighlights").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing highlight_val_release.jsonl"):
        get_benchmark("qvhighlights").load(release_root)
