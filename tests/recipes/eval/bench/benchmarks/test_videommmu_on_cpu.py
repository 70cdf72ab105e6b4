"""VideoMMMU adapter: the three track parquets of lmms-lab/VideoMMMU, multiple-choice questions only."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = ("Which concept is shown?\nA. supply\nB. demand\nC. elasticity\n"
          "Answer with the option letter directly.")


def _write(root, track, rows):
    path = root / track / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def _row(vid, question, options, answer, question_type="multiple-choice"):
    return {"id": vid, "question": question, "options": options, "answer": answer, "question_type": question_type,
            "link_selected": "https://example.org"}


def _release(root):
    _write(root, "Perception", [_row("validation_Economics_1", "Which concept is shown?",
                                     ["A. supply", "B. demand", "C. elasticity"], "B")])
    _write(root, "Comprehension", [_row("validation_Economics_1", "What is the price?", [], "12.5", "open"),
                                   _row("validation_Clinical_Medicine_3", "Which organ?", ["heart", "lung"], "A")])
    _write(root, "Adaptation", [_row("validation_Economics_1", "Apply it to <image 1>.",
                                     ["A.rises", "B.falls"], "A")])
    return root


def test_items_prompt_and_scoring(release_root):
    bench = get_benchmark("videommmu")
    items = bench.load(_release(release_root))
    assert [i.id for i in items] == ["perception/validation_Economics_1", "comprehension/validation_Clinical_Medicine_3",
                                     "adaptation/validation_Economics_1"]  # open-ended question left out
    assert [i.group for i in items] == ["perception", "comprehension", "adaptation"]
    assert [i.answer for i in items] == ["B", "A", "A"]
    assert items[1].question == "Which organ?\nA. heart\nB. lung"  # letters added
    assert items[2].question == "Apply it to <image 1>.\nA. rises\nB. falls"  # released letters kept, not doubled
    assert items[0].videos == (str(release_root / "Business" / "validation_Economics_1.mp4"),)
    assert items[1].videos == (str(release_root / "Medicine" / "validation_Clinical_Medicine_3.mp4"),)
    assert prompt_for(bench, items[0]) == GOLDEN
    for output, metric in [("B", 1.0), ("B. demand", 1.0), ("(B)", 0.0), ("b", 0.0), ("A", 0.0)]:
        assert score_for(bench, items[0], output).metric == metric
    assert score_for(bench, items[0], "").parsed is None


def test_malformed_answer_names_file_and_item(release_root):
    _release(release_root)
    _write(release_root, "Perception", [_row("validation_Math_2", "Q?", ["1", "2"], "C")])
    with pytest.raises(ValueError, match=r"Perception/test-00000-of-00001.parquet \(id validation_Math_2\)"):
        get_benchmark("videommmu").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing Perception"):
        get_benchmark("videommmu").load(release_root)
