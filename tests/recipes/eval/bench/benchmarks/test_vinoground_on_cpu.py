"""VinoGround adapter: the text-score questions, paired, read as released."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import account, prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

QUESTION = ("Which caption best describes this video?\nA. the man eats and then drinks\n"
            "B. the man drinks and then eats")


def _release(root, write_json, make_video, rows=None):
    write_json(root / "vinoground_videos" / "vinoground_textscore.json", rows or [
        {"idx": "0_pos", "question": QUESTION, "GT": "A", "video_name": "vinoground_videos/0_pos.mp4"},
        {"idx": "0_neg", "question": QUESTION, "GT": "B", "video_name": "vinoground_videos/0_neg.mp4"},
        {"idx": "1_pos", "question": QUESTION, "GT": "B", "video_name": "vinoground_videos/1_pos.mp4"},
        {"idx": "1_neg", "question": QUESTION, "GT": "A", "video_name": "vinoground_videos/1_neg.mp4"}])
    make_video(root / "vinoground_videos" / "0_pos.mp4")
    return root


def test_items_pairs_prompt_and_text_score(release_root, write_json, make_video):
    bench = get_benchmark("vinoground")
    items = bench.load(_release(release_root, write_json, make_video))
    assert [(i.id, i.answer, i.pair) for i in items] == [
        ("0_pos_text", "A", "0"), ("0_neg_text", "B", "0"), ("1_pos_text", "B", "1"), ("1_neg_text", "A", "1")]
    assert items[0].videos == (str(release_root / "vinoground_videos" / "0_pos.mp4"),)
    assert prompt_for(bench, items[0]) == QUESTION + "\nAnswer with the option letter directly."
    outputs = ["A", "B", "B", "B"]  # pair 0 both right, pair 1 one wrong
    records = [{"status": "ok", "pair": i.pair, "metric": score_for(bench, i, o).metric}
               for i, o in zip(items, outputs)]
    result = account(bench, records, "paper")
    assert result["score"] == 50.0 and result["metrics"]["accuracy"] == 75.0


def test_a_pair_missing_its_partner_is_malformed(release_root, write_json, make_video):
    _release(release_root, write_json, make_video,
             [{"idx": "3_pos", "question": QUESTION, "GT": "A", "video_name": "vinoground_videos/3_pos.mp4"}])
    with pytest.raises(ValueError, match=r"vinoground_textscore\.json: pair 3 has only its pos question"):
        get_benchmark("vinoground").load(release_root)


def test_a_bad_index_names_the_item(release_root, write_json, make_video):
    _release(release_root, write_json, make_video,
             [{"idx": "3_posx", "question": QUESTION, "GT": "A", "video_name": "v.mp4"}])
    with pytest.raises(ValueError, match=r"vinoground_textscore\.json item '3_posx'"):
        get_benchmark("vinoground").load(release_root)


def test_a_wrong_folder_names_what_is_missing(release_root):
    with pytest.raises(ReleaseNotFound, match="missing vinoground_videos/vinoground_textscore.json .*Vinoground"):
        get_benchmark("vinoground").load(release_root)
