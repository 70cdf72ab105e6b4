"""Video-MME adapter: the test parquet of lmms-lab/Video-MME, read as released, no subtitles."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = ("When demonstrating the Germany modern Christmas tree is initially decorated with apples, candles and "
          "berries, which kind of the decoration has the largest number?\nA. Apples.\nB. Candles.\nC. Berries.\n"
          "D. The three kinds are of the same number.\nAnswer with the option letter directly.")


def _row(qid, video, duration, answer, options=None):
    return {"video_id": qid[:3], "duration": duration, "domain": "Knowledge", "sub_category": "Humanity & History",
            "url": "https://www.youtube.com/watch?v=" + video, "videoID": video, "question_id": qid,
            "task_type": "Counting Problem",
            "question": "When demonstrating the Germany modern Christmas tree is initially decorated with apples, "
                        "candles and berries, which kind of the decoration has the largest number?",
            "options": options or ["A. Apples.", "B. Candles.", "C. Berries.", "D. The three kinds are of the same number."],
            "answer": answer}


def _release(root, make_video, rows=None):
    path = root / "videomme" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows or [_row("001-1", "fFjv93ACGo8", "short", "C"),
                                                 _row("601-2", "xYz", "long", "A")]), path)
    make_video(root / "data" / "fFjv93ACGo8.mp4")
    (root / "data" / "xYz.mkv").write_bytes(b"")  # a few videos of the release are .mkv / .MP4
    return root


def test_items_prompt_and_scoring(release_root, make_video):
    bench = get_benchmark("videomme")
    items = bench.load(_release(release_root, make_video))
    assert [(i.id, i.answer, i.group) for i in items] == [("001-1", "C", "short"), ("601-2", "A", "long")]
    assert items[0].videos == (str(release_root / "data" / "fFjv93ACGo8.mp4"),)
    assert items[1].videos == (str(release_root / "data" / "xYz.mkv"),)
    assert prompt_for(bench, items[0]) == GOLDEN  # the letters are not doubled
    assert score_for(bench, items[0], "C. Berries.").metric == 1.0
    assert score_for(bench, items[0], "The answer is C").metric == 0.0


def test_options_without_their_letters_are_malformed(release_root, make_video):
    _release(release_root, make_video, [_row("002-3", "v", "short", "A", ["Apples.", "Candles."])])
    with pytest.raises(ValueError, match=r"test-00000-of-00001\.parquet item 002-3: option 0 'Apples.'"):
        get_benchmark("videomme").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing videomme/test-00000-of-00001.parquet .*lmms-lab/Video-MME"):
        get_benchmark("videomme").load(release_root)
