"""row_problems on built rows: malformed numbers and unparsable answers are problems, never exceptions."""

from __future__ import annotations

import copy

import pyarrow.parquet as pq
import pytest

from data_prep.media import resolve_videos
from recipes.videossr.row_checks import row_problems


@pytest.fixture(scope="module")
def rows(videossr_data_dir):
    """Built rows with their frame paths resolved, as a reader hands them over (data_prep.media)."""
    return [{**r, "videos": resolve_videos(r["videos"], videossr_data_dir)} for name in ("train.parquet", "viubench.parquet")
            for r in pq.read_table(videossr_data_dir / name).to_pylist()]


def first(rows, task):
    return copy.deepcopy(next(r for r in rows if r["data_source"].startswith(f"videossr/{task}/")))


def test_built_rows_have_no_problems(rows):
    assert {r["data_source"].split("/")[1] for r in rows} == {"grounding", "counting", "jigsaw"}
    assert [row_problems(r) for r in rows] == [[]] * len(rows)


@pytest.mark.parametrize("key, value, problem", [
    ("sample_fps", "fast", "videos[0].sample_fps must be a number > 0, got 'fast'"),
    ("sample_fps", [2.0], "videos[0].sample_fps must be a number > 0, got [2.0]"),
    ("sample_fps", 0.0, "videos[0].sample_fps must be a number > 0, got 0.0"),
    ("min_pixels", "many", "videos[0] needs integers 0 < min_pixels <= max_pixels, got 'many', 65536"),
    ("max_pixels", "1.5e5", "videos[0] needs integers 0 < min_pixels <= max_pixels, got 16384, '1.5e5'"),
    ("max_pixels", 1000, "videos[0] needs integers 0 < min_pixels <= max_pixels, got 16384, 1000"),
])
def test_malformed_video_numbers_are_reported_not_raised(rows, key, value, problem):
    row = first(rows, "grounding")
    row["videos"][0].update({"min_pixels": 16384, "max_pixels": 65536, key: value})
    assert row_problems(row) == [problem]


@pytest.mark.parametrize("task, truth, problem", [
    ("jigsaw", "112345", "jigsaw ground truth '112345' is not a permutation of 1..6"),
    ("jigsaw", "3412", "jigsaw ground truth '3412' has 4 clips but the subtype says 'n6'"),
    ("counting", "3,1", "counting ground truth must look like '3,1,4', got '3,1'"),
    ("grounding", "20.0-10.0", "grounding ground truth must look like '12.3-20.1' with start < end"),
])
def test_a_ground_truth_the_reward_cannot_parse_is_a_problem(rows, task, truth, problem):
    row = first(rows, task)
    row["reward_model"]["ground_truth"] = truth
    (found,) = row_problems(row)
    assert found.startswith(f"reward_model.ground_truth does not parse for the {task} reward: {problem}")


def test_a_task_without_a_reward_is_a_problem(rows):
    row = first(rows, "counting")
    row["data_source"] = "videossr/ordering/easy"
    assert row_problems(row) == [
        "task 'ordering' has no reward (registered tasks: ['counting', 'grounding', 'jigsaw'])"]
