"""VCRBench adapter: official prompt, order parser and metrics (not multiple choice)."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import account, prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = (
    "The given video consists of multiple short clips, each showing a different segment needed to complete the "
    "task: Make Banana Ice Cream. \n"
    "These clips are randomly shuffled, and your job is to arrange them in the correct order to complete the "
    "task: Make Banana Ice Cream. \n"
    "The clip numbers are mentioned at the beginning of each clip as Clip 1, Clip 2, and so on.\n"
    "In order to solve this task, first, you should identify the activity that is performed in each clip, and "
    "then use your reasoning and common sense to arrange these clips to successfully complete the task.\n\n"
    "The final output should be in this format:\n\n"
    "Correct order: <mention the Clip numbers separated by a comma>"
)
RELEASE = [
    {"qid": "1", "goal": "Make Banana Ice Cream", "video_file": "video_1.mp4", "ground_truth": [0, 1, 3, 2]},
    {"qid": "2", "goal": "Make Lemonade", "video_file": "video_2.mp4", "ground_truth": [2, 0, 1]},
]


def _items(root, write_json, make_video):
    write_json(root / "data.json", RELEASE)
    make_video(root / "videos" / "video_1.mp4")
    return get_benchmark("vcrbench").load(root)


def test_items_and_golden_prompt(release_root, write_json, make_video):
    bench = get_benchmark("vcrbench")
    items = _items(release_root, write_json, make_video)
    assert [i.id for i in items] == ["1", "2"]
    assert [i.answer for i in items] == [[1, 2, 4, 3], [3, 1, 2]]  # ground_truth + 1
    assert items[0].videos == (str(release_root / "videos" / "video_1.mp4"),)  # one video of all clips
    assert items[0].group == "Make Banana Ice Cream"
    assert prompt_for(bench, items[0]) == GOLDEN
    assert bench.max_new_tokens is None  # the paper's 128; the official 512 is --max-new-tokens 512


@pytest.mark.parametrize("output, parsed, exact, right", [
    ("Correct order: 1, 2, 4, 3", [1, 2, 4, 3], 1.0, 4),                                  # exact
    ("**Correct order:** Clip 1, Clip 2, Clip 4, Clip 3", [1, 2, 4, 3], 1.0, 4),          # markdown, Clip N
    ("Clip 1 peels bananas. Clip 4 blends. Correct order: 2, 1, 4, 3", [2, 1, 4, 3], 0.0, 2),  # partly right
    ("Clip 1: peel, Clip 3: freeze\nCorrect order: 1, 2, 3, 4", [1, 2, 3, 4], 0.0, 2),    # first full sentence wins
    ("Correct order: 1, 2, 4", None, 0.0, 0),                                             # wrong length
    ("Correct order: 1, 2, 2, 3", None, 0.0, 0),                                          # not a permutation
    ("Correct order: 1, 2, 4, 5", None, 0.0, 0),                                          # out of range
    ("I think the banana is peeled first", None, 0.0, 0),                                  # unparsable
    ("", None, 0.0, 0),
])
def test_scoring_cases(release_root, write_json, make_video, output, parsed, exact, right):
    bench = get_benchmark("vcrbench")
    item = _items(release_root, write_json, make_video)[0]
    scored = score_for(bench, item, output)
    assert (scored.parsed, scored.metric, scored.extra["steps_right"], scored.extra["steps"]) == (parsed, exact, right, 4)


def test_summary_counts_unparsable_and_pools_steps():
    bench = get_benchmark("vcrbench")
    records = [
        {"status": "ok", "metric": 1.0, "steps": 4, "steps_right": 4, "goal": "a", "group": "a"},
        {"status": "ok", "metric": 0.0, "steps": 4, "steps_right": 2, "goal": "a", "group": "a"},
        {"status": "unparsable", "metric": 0.0, "steps": 3, "steps_right": 0, "goal": "b", "group": "b"},
        {"status": "error", "metric": 0.0, "answer": [2, 1, 3], "group": "b"},
    ]
    paper = account(bench, records, "paper")
    assert paper["n"] == 3 and paper["excluded"] == {"error": 1}  # unparsable counts (official zeros)
    assert paper["metrics"] == pytest.approx({"accuracy": 100 / 3, "step_accuracy": 100 * 6 / 11,
                                              "weighted_accuracy": 25.0, "accuracy_3_clips": 0.0,
                                              "accuracy_4_clips": 50.0})
    strict = account(bench, records, "strict")
    assert strict["score"] == pytest.approx(25.0)
    assert strict["metrics"]["step_accuracy"] == pytest.approx(100 * 6 / 14)


def test_malformed_and_wrong_folder(release_root, write_json):
    with pytest.raises(ReleaseNotFound, match="missing data.json"):
        get_benchmark("vcrbench").load(release_root)
    (release_root / "videos").mkdir()
    write_json(release_root / "data.json", [{**RELEASE[0], "ground_truth": [1, 2, 3]}])
    with pytest.raises(ValueError, match=r"data.json \(qid 1\): ground_truth"):
        get_benchmark("vcrbench").load(release_root)
