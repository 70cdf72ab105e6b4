"""Charades-STA adapter: the official test annotation, read as released."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = (
    "Please find the visual event described by a sentence in the video, determining its starting and ending "
    "times. The format should be: 'The event happens in the start time - end time'. For example, The event "
    "'person turn a light on' happens in the 24.3 - 30.4 seonds. Now I will give you the textual sentence: "
    "a person is putting a book on a shelf Please return its start time and end time."
)


def _release(root, make_video):
    (root / "charades_sta_test.txt").write_text(
        "3MSZA 24.3 30.4##person turn a light on.\n"
        "AO8RW 0.0 6.9##a person is putting a book on a shelf\n"
    )
    for vid in ("3MSZA", "AO8RW"):
        make_video(root / "Charades_v1_480" / f"{vid}.mp4")
    return root


def test_items_prompt_and_scoring(release_root, make_video):
    bench = get_benchmark("charades")
    items = bench.load(_release(release_root, make_video))
    assert [i.answer for i in items] == [(24.3, 30.4), (0.0, 6.9)]
    assert items[1].videos == (str(release_root / "Charades_v1_480" / "AO8RW.mp4"),)
    assert prompt_for(bench, items[1]) == GOLDEN
    assert score_for(bench, items[1], "The event happens in the 0.0 - 6.9 seconds").metric == pytest.approx(1.0)
    assert score_for(bench, items[1], "at the start").parsed is None


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing charades_sta_test.txt"):
        get_benchmark("charades").load(release_root)
