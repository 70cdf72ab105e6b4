"""CG-Bench adapter: cgbench_mini.json of CG-Bench/CG-Bench, read as released."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = ("What does the chef add right after the onions?\nA. garlic\nB. salt\nC. tomatoes\nD. butter\nE. pepper\n"
          "Answer with the option letter directly.")


def _row(qid, right, choices=("garlic", "salt", "tomatoes", "butter", "pepper")):
    return {"qid": qid, "video_uid": "e4b5a1", "question": "What does the chef add right after the onions?",
            "choices": list(choices), "right_answer": right, "duration": 1830.2, "domain": "Life",
            "sub_category": "Cooking", "clue_intervals": [[100.0, 130.0]]}


def _release(root, write_json, make_video, rows=None):
    write_json(root / "cgbench_mini.json", rows or [_row(12, "C"), _row(13, "E")])
    make_video(root / "cg_videos_720p" / "e4b5a1.mp4")
    return root


def test_items_prompt_and_scoring(release_root, write_json, make_video):
    bench = get_benchmark("cgbench")
    items = bench.load(_release(release_root, write_json, make_video))
    assert [(i.id, i.answer, i.group) for i in items] == [("12", "C", "Cooking"), ("13", "E", "Cooking")]
    assert items[0].videos == (str(release_root / "cg_videos_720p" / "e4b5a1.mp4"),)
    assert prompt_for(bench, items[0]) == GOLDEN
    assert score_for(bench, items[0], "C").metric == 1.0
    assert score_for(bench, items[0], "tomatoes").metric == 0.0


def test_an_answer_beyond_the_choices_is_malformed(release_root, write_json, make_video):
    _release(release_root, write_json, make_video, [_row(7, "F")])
    with pytest.raises(ValueError, match=r"cgbench_mini\.json item 7: right_answer 'F'"):
        get_benchmark("cgbench").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing cgbench_mini.json .*CG-Bench"):
        get_benchmark("cgbench").load(release_root)
