"""MVBench adapter: json/<task>.json + video/<folder>/ of OpenGVLab/MVBench (branch main), read as released."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.benchmarks.mvbench import TASKS
from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = ("What happened after the person took the food?\nA. Ate the medicine.\nB. Tidied up the blanket.\n"
          "C. Put down the cup/glass/bottle.\nD. Took the box.\nAnswer with the option letter directly.")


def _release(root, write_json, make_video, **override):
    tasks = {task: [] for task in TASKS}
    tasks["action_sequence"] = [{"video": "3MSZA.mp4", "question": "What happened after the person took the food?",
                                 "candidates": ["Ate the medicine.", "Tidied up the blanket.",
                                                "Put down the cup/glass/bottle.", "Took the box."],
                                 "answer": "Put down the cup/glass/bottle.", "start": 5.2, "end": 17.5}]
    tasks["action_antonym"] = [{"video": "166583.webm", "question": "What is the action performed by the person?",
                                "candidates": ["Pushing something", "Pulling something", "Not sure"],
                                "answer": "Not sure"}]
    tasks["episodic_reasoning"] = [{"video": "castle_s01e01_seg02_clip_00", "question": "Why?",
                                    "candidates": ["a", "b"], "answer": "a", "start": 1.0, "end": 4.0}]
    tasks["object_existence"] = [{"video": "video_10000.mp4", "question": "Is there a cube?",
                                  "candidates": ["yes", "no"], "answer": "no"}]
    tasks.update(override)
    for task, rows in tasks.items():
        write_json(root / "json" / f"{task}.json", rows)
    make_video(root / "video" / "star" / "Charades_v1_480" / "3MSZA.mp4")
    make_video(root / "video" / "data0613" / "clevrer" / "video_validation" / "video_10000.mp4")
    return root


def test_items_prompt_and_scoring(release_root, write_json, make_video):
    bench = get_benchmark("mvbench")
    items = {i.id: i for i in bench.load(_release(release_root, write_json, make_video))}
    assert sorted(items) == ["action_antonym/000", "action_sequence/000", "episodic_reasoning/000",
                             "object_existence/000"]
    seq = items["action_sequence/000"]
    assert (seq.answer, seq.group, seq.clip) == ("C", "action_sequence", {"video_start": 5.2, "video_end": 17.5})
    assert seq.videos == (str(release_root / "video/star/Charades_v1_480/3MSZA.mp4"),)
    assert prompt_for(bench, seq) == GOLDEN
    antonym = items["action_antonym/000"]
    assert (antonym.answer, antonym.clip) == ("C", {})
    assert antonym.videos == (str(release_root / "video/ssv2_video/166583.webm"),)  # own extension kept
    episodic = items["episodic_reasoning/000"]
    assert episodic.videos == (str(release_root / "video/tvqa/frames_fps3_hq/castle_s01e01_seg02_clip_00.mp4"),)
    assert episodic.clip == {"video_start": 1.0, "video_end": 4.0}
    # a replaced clevrer video is read from video/data0613/ when the main folder lacks it
    assert items["object_existence/000"].videos == (
        str(release_root / "video/data0613/clevrer/video_validation/video_10000.mp4"),)
    assert score_for(bench, seq, "C. Put down the cup").metric == 1.0
    assert score_for(bench, seq, "(C)").metric == 0.0


@pytest.mark.parametrize("row, message", [
    ({"video": "v.mp4", "question": "Q", "candidates": ["a", "b"], "answer": "c"}, "not exactly one"),
    ({"video": "v.mp4", "question": "Q", "candidates": ["a", "b"], "answer": "a"}, "numeric start/end"),
    ({"video": "v.mp4", "candidates": ["a", "b"], "answer": "a", "start": 0, "end": 1}, "missing field"),
])
def test_malformed_items_name_file_and_item(release_root, write_json, make_video, row, message):
    _release(release_root, write_json, make_video, action_prediction=[row])
    with pytest.raises(ValueError, match=rf"action_prediction\.json item 0: .*{message}"):
        get_benchmark("mvbench").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing json/action_sequence.json .*OpenGVLab/MVBench"):
        get_benchmark("mvbench").load(release_root)
