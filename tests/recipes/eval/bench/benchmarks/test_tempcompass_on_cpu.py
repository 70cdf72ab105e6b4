"""TempCompass adapter: the official questions/multi-choice.json, read as released."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = ("What is the direction of the man?\nA. moving towards the camera\nB. moving from right to left\n"
          "C. moving away from the camera\nAnswer with the option letter directly.")


def _release(root, write_json, make_video, annotation=None):
    write_json(root / "questions" / "multi-choice.json", annotation or {
        "1034419625": {
            "action": [{"question": "What is the man doing?\nA. dunking a basketball\nB. dribbling a basketball",
                        "answer": "A. dunking a basketball"}],
            "direction": [{"question": "What is the direction of the man?\nA. moving towards the camera\n"
                                       "B. moving from left to right\nC. moving away from the camera",
                           "answer": "B. moving from left to right"}]},
        "1034419625_reverse": {
            "direction": [{"question": "What is the direction of the man?\nA. moving towards the camera\n"
                                       "B. moving from right to left\nC. moving away from the camera",
                           "answer": "B. moving from right to left"}]},
    })
    make_video(root / "videos" / "1034419625.mp4")
    return root


def test_items_prompt_and_scoring(release_root, write_json, make_video):
    bench = get_benchmark("tempcompass")
    items = bench.load(_release(release_root, write_json, make_video))
    assert [(i.id, i.answer, i.group) for i in items] == [
        ("1034419625/action/0", "A", "action"), ("1034419625/direction/0", "B", "direction"),
        ("1034419625_reverse/direction/0", "B", "direction")]
    assert items[2].videos == (str(release_root / "videos" / "1034419625_reverse.mp4"),)
    assert prompt_for(bench, items[2]) == GOLDEN
    assert score_for(bench, items[2], "B").metric == 1.0
    assert score_for(bench, items[2], "b").metric == 0.0


def test_an_answer_that_is_not_an_option_is_malformed(release_root, write_json, make_video):
    _release(release_root, write_json, make_video,
             {"v1": {"speed": [{"question": "How fast?\nA. slow\nB. fast", "answer": "C. normal"}]}})
    with pytest.raises(ValueError, match=r"multi-choice\.json item v1/speed/0: answer 'C. normal'"):
        get_benchmark("tempcompass").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing questions/multi-choice.json .*TempCompass"):
        get_benchmark("tempcompass").load(release_root)
