"""Video-TT adapter: the multiple-choice test split of lmms-lab/video-tt."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = ("Why does the man fall?\nA. He slips.\nB. He is pushed.\nC. He faints.\nD. He jumps.\n"
          "Answer with the option letter directly.")


def _release(root, rows):
    (root / "Benchmark-AllVideos-LQ").mkdir(exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), root / "data" / "test-00000-of-00001.parquet")
    pq.write_table(pa.Table.from_pylist([{"video_id": "oe"}]), root / "data" / "test_all-00000-of-00001.parquet")
    return root


def _row(vid, answer="B", capability="Objective Causality"):
    return {"video_id": vid, "question": "Why does the man fall?",
            "question_prompt": "A. He slips.\nB. He is pushed.\nC. He faints.\nD. He jumps.",
            "answer": answer, "capability": capability, "question_type": "multiple-choice"}


def test_items_prompt_and_scoring(release_root, make_video):
    _release(release_root, [_row("0Xq3uh5IkBU"), _row("zzz", "D", "Event Counting"), _row("zzz", "A")])
    make_video(release_root / "Benchmark-AllVideos-LQ" / "0Xq3uh5IkBU.mp4")
    bench = get_benchmark("videott")
    items = bench.load(release_root)
    assert [i.id for i in items] == ["0Xq3uh5IkBU", "zzz", "zzz#1"]  # test_all split not read
    assert [(i.answer, i.group) for i in items] == [("B", "Objective Causality"), ("D", "Event Counting"),
                                                    ("A", "Objective Causality")]
    assert items[0].videos == (str(release_root / "Benchmark-AllVideos-LQ" / "0Xq3uh5IkBU.mp4"),)
    assert prompt_for(bench, items[0]) == GOLDEN
    for output, metric in [("B", 1.0), ("B. He is pushed.", 1.0), ("The answer is B", 0.0), ("A", 0.0)]:
        assert score_for(bench, items[0], output).metric == metric


def test_malformed_answer_names_file_and_item(release_root):
    _release(release_root, [_row("v1", answer="He is pushed")])
    with pytest.raises(ValueError, match=r"test-00000-of-00001.parquet \(video_id v1\)"):
        get_benchmark("videott").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing data"):
        get_benchmark("videott").load(release_root)
    (release_root / "data").mkdir()
    (release_root / "Benchmark-AllVideos-LQ").mkdir()
    with pytest.raises(ReleaseNotFound, match=r"missing data/test-\*.parquet"):
        get_benchmark("videott").load(release_root)
