"""AoTBench adapter: the five data_files/input/*.json of sherryxzh/AoTBench, read as released."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.benchmarks.aotbench import FILES
from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

QUESTION = "Is the video played forward or in reverse?\nA. forward\nB. reverse"


def _release(root, write_json, make_video, ucf=None):
    for name in FILES:
        write_json(root / "data_files" / "input" / f"{name}.json", [])
    write_json(root / "data_files" / "input" / "UCF101.json", ucf or [
        {"qa_idx": 0, "video_name": "videos/UCF101/v_Basketball_g01_c01_rev.mp4", "question": QUESTION, "ans": "B"},
        {"qa_idx": 1, "video_name": "videos/UCF101/v_Basketball_g01_c01.mp4", "question": QUESTION, "ans": "A"}])
    write_json(root / "data_files" / "input" / "AoTBench_QA.json", [
        {"qa_idx": 0, "video_name": "videos/qa/0.mp4", "question": "What happens first?\nA. x\nB. y", "ans": "A"}])
    make_video(root / "videos" / "UCF101" / "v_Basketball_g01_c01.mp4")
    return root


def test_items_prompt_and_scoring(release_root, write_json, make_video):
    bench = get_benchmark("aotbench")
    items = bench.load(_release(release_root, write_json, make_video))
    assert [(i.id, i.answer, i.group) for i in items] == [
        ("UCF101/0", "B", "UCF101"), ("UCF101/1", "A", "UCF101"), ("AoTBench_QA/0", "A", "AoTBench_QA")]
    assert items[0].videos == (str(release_root / "videos/UCF101/v_Basketball_g01_c01_rev.mp4"),)
    assert prompt_for(bench, items[0]) == QUESTION + "\nAnswer with the option letter directly."
    assert score_for(bench, items[0], "B. reverse").metric == 1.0
    assert score_for(bench, items[0], " B").metric == 0.0


def test_a_bad_answer_names_file_and_item(release_root, write_json, make_video):
    _release(release_root, write_json, make_video,
             [{"qa_idx": 7, "video_name": "v.mp4", "question": QUESTION, "ans": "reverse"}])
    with pytest.raises(ValueError, match=r"UCF101\.json item UCF101/7: ans 'reverse'"):
        get_benchmark("aotbench").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing data_files/input/ReverseFilm.json .*sherryxzh/AoTBench"):
        get_benchmark("aotbench").load(release_root)
