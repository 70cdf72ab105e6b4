"""LongVideoBench adapter: lvb_val.json of longvideobench/LongVideoBench, read as released."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = ("What is the color of the cup the woman holds after she sits down?\nA. red\nB. blue\nC. green\nD. white\n"
          "Answer with the option letter directly.")


def _row(qid, candidates, right, category="S2E"):
    return {"id": qid, "video_id": "86CxyhFV9MI", "video_path": "86CxyhFV9MI.mp4", "duration_group": 600,
            "question": "What is the color of the cup the woman holds after she sits down?",
            "candidates": candidates, "correct_choice": right, "question_category": category}


def _release(root, write_json, make_video, rows=None):
    write_json(root / "lvb_val.json", rows or [_row("86CxyhFV9MI_0", ["red", "blue", "green", "white"], 3),
                                               _row("86CxyhFV9MI_1", ["red", "blue", "N/A", "N/A", "N/A"], 1, "E2O")])
    make_video(root / "videos" / "86CxyhFV9MI.mp4")
    return root


def test_items_prompt_and_scoring(release_root, write_json, make_video):
    bench = get_benchmark("longvideobench")
    items = bench.load(_release(release_root, write_json, make_video))
    assert [(i.id, i.answer, i.group) for i in items] == [("86CxyhFV9MI_0", "D", "S2E"), ("86CxyhFV9MI_1", "B", "E2O")]
    assert items[0].videos == (str(release_root / "videos" / "86CxyhFV9MI.mp4"),)
    assert prompt_for(bench, items[0]) == GOLDEN
    assert items[1].question.endswith("\nA. red\nB. blue")  # N/A padding dropped
    assert score_for(bench, items[0], "D. white").metric == 1.0
    assert score_for(bench, items[0], "d").metric == 0.0


def test_a_right_answer_on_padding_is_malformed(release_root, write_json, make_video):
    _release(release_root, write_json, make_video, [_row("x_3", ["red", "blue", "N/A"], 2)])
    with pytest.raises(ValueError, match=r"lvb_val\.json item x_3: correct_choice 2"):
        get_benchmark("longvideobench").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing lvb_val.json .*LongVideoBench"):
        get_benchmark("longvideobench").load(release_root)
