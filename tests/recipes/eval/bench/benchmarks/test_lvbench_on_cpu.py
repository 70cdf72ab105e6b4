"""LVBench adapter: the official video_info.meta.jsonl, read as released."""

from __future__ import annotations

import json

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = ("What year appears in the opening caption of the video?\nA. 1636\nB. 1366\nC. 1363\nD. 1633\n"
          "Answer with the option letter directly.")


def _release(root, make_video, question=None):
    records = [{"key": "sQ7ogC4DovU", "type": "cartoon", "video_info": {"duration_minutes": 118.0}, "qa": [
        {"uid": "1", "question": question or "What year appears in the opening caption of the video?\n"
                                             "(A) 1636\n(B) 1366\n(C) 1363\n(D) 1633",
         "answer": "D", "question_type": ["key information retrieval"], "time_reference": "00:15-00:19"},
        {"uid": "2", "question": "Who is the hero?\n(A) a cat\n(B) a dog", "answer": "A",
         "question_type": ["entity recognition", "reasoning"], "time_reference": ""}]},
        {"key": "Dm7AyMcYxEY", "qa": [{"uid": "9", "question": "Why?\n(A) x\n(B) y", "answer": "B",
                                        "question_type": ["reasoning"], "time_reference": ""}]}]
    (root / "video_info.meta.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    make_video(root / "all_videos" / "sQ7ogC4DovU.mp4")
    return root


def test_items_prompt_and_scoring(release_root, make_video):
    bench = get_benchmark("lvbench")
    items = bench.load(_release(release_root, make_video))
    assert [(i.id, i.answer) for i in items] == [("1", "D"), ("2", "A"), ("9", "B")]
    assert items[2].videos == (str(release_root / "all_videos" / "Dm7AyMcYxEY.mp4"),)
    assert items[1].meta["question_type"] == ["entity recognition", "reasoning"]
    assert prompt_for(bench, items[0]) == GOLDEN
    assert score_for(bench, items[0], "D").metric == 1.0
    assert score_for(bench, items[0], "(D) 1633").metric == 0.0


def test_options_out_of_order_are_malformed(release_root, make_video):
    _release(release_root, make_video, "What year?\n(A) 1636\n(C) 1366")
    with pytest.raises(ValueError, match=r"video_info\.meta\.jsonl:1 item 1: option line '\(C\) 1366' out of order"):
        get_benchmark("lvbench").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing video_info.meta.jsonl .*LVBench"):
        get_benchmark("lvbench").load(release_root)
