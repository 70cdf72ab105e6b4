"""CVBench adapter: several videos per item, lettered options and Yes/No questions."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = ("Did both videos feature a team successfully scoring a decisive goal or point during the match's closing "
          "moments?\nYes.\nNo.\nAnswer with the option letter directly.")


def _item(i, task, videos, question, options, answer):
    return {"id": i, "task_type": task, **{f"video_{k + 1}": (videos[k] if k < len(videos) else None) for k in range(4)},
            "question": question, "options": options, "answer": answer}


RELEASE = [
    _item(0, "Cross-video Scene Recognition", ["0/0Hd95ulYOT8.mp4", "0/XW-lrijc1oQ.mp4"],
          "Did both videos feature a team successfully scoring a decisive goal or point during the match's closing "
          "moments?", ["Yes.", "No."], "No"),
    _item(1, "Multi-video Attribute Recognition", ["1/a.mp4", "1/b.mp4", "1/c.mp4"], "Which color is shared?",
          ["A. White.", "B. Red.", "C. Blue.", "D.Green."], "C"),
    _item(223, "Cross-video Scene Recognition", ["197/s1.mp4", "197/s2.mp4", "197/s3.mp4", "197/s4.mp4"],
          "Is there snow?", ["A. Yes.", "B. No."], "B"),
    _item(431, "Cross-video Scene Recognition", ["284/x.mp4", "284/y.mp4"], "Which video shows a desert?",
          ["A. Video 1.", "B. Video 2.", "B. Both of them.", "B. None of them."], "A"),
    _item(996, "Cross-video Procedural Transfer", ["98/p.mp4", "98/q.mp4"], "Why does it fly further?",
          ["A. Same color paper, B. Tape on the wings, C. Precise folds, D. Wider wings"], "D"),
    _item(7, "Joint-video Counting", ["7/m.mp4", "7/n.mp4"], "Same number of people?", ["Yes", "No"], "Yes"),
]


def _load(root, write_json, make_video):
    write_json(root / "CVBench.json", RELEASE)
    make_video(root / "CVBench" / "0" / "0Hd95ulYOT8.mp4")
    make_video(root / "CVBench" / "0" / "XW-lrijc1oQ.mp4", seed=1)
    return get_benchmark("cvbench").load(root)


def test_items_and_golden_prompt(release_root, write_json, make_video):
    bench = get_benchmark("cvbench")
    items = _load(release_root, write_json, make_video)
    assert [i.id for i in items] == ["0", "1", "223", "431", "996", "7"]
    assert [i.answer for i in items] == ["N", "C", "B", "A", "D", "Y"]
    assert items[0].videos == (str(release_root / "CVBench" / "0" / "0Hd95ulYOT8.mp4"),
                               str(release_root / "CVBench" / "0" / "XW-lrijc1oQ.mp4"))
    assert len(items[2].videos) == 4 and items[2].group == "Cross-video Scene Recognition"
    assert items[1].question == "Which color is shared?\nA. White.\nB. Red.\nC. Blue.\nD. Green."  # not doubled
    assert items[3].question.endswith("\nA. Video 1.\nB. Video 2.\nC. Both of them.\nD. None of them.")
    assert items[3].meta["relettered"] == ["A", "B", "B", "B"]
    assert items[4].question == ("Why does it fly further?\nA. Same color paper\nB. Tape on the wings\n"
                                 "C. Precise folds\nD. Wider wings")
    assert items[5].question == "Same number of people?\nYes\nNo"
    assert prompt_for(bench, items[0]) == GOLDEN


@pytest.mark.parametrize("index, output, metric", [
    (0, "No.", 1.0), (0, "No", 1.0), (0, "Yes", 0.0), (0, "no", 0.0), (0, "B", 0.0),
    (5, "Yes, both have three.", 1.0),
    (1, "C", 1.0), (1, "C. Blue.", 1.0), (1, "Blue", 0.0),
    (2, "B", 1.0), (2, "No", 0.0),  # a lettered Yes/No item is answered by letter
])
def test_scoring_cases(release_root, write_json, make_video, index, output, metric):
    bench = get_benchmark("cvbench")
    item = _load(release_root, write_json, make_video)[index]
    assert score_for(bench, item, output).metric == metric


def test_malformed_and_wrong_folder(release_root, write_json):
    with pytest.raises(ReleaseNotFound, match="missing CVBench.json"):
        get_benchmark("cvbench").load(release_root)
    (release_root / "CVBench").mkdir()
    write_json(release_root / "CVBench.json", [{**RELEASE[1], "answer": "E"}])
    with pytest.raises(ValueError, match=r"CVBench.json \(id 1\)"):
        get_benchmark("cvbench").load(release_root)
    write_json(release_root / "CVBench.json", [{**RELEASE[1], "video_1": None}])
    with pytest.raises(ValueError, match=r"CVBench.json \(id 1\): video_1..video_4"):
        get_benchmark("cvbench").load(release_root)
