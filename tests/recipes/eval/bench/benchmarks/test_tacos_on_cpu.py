"""TACoS adapter: 2D-TAN test.json, windows in frames converted with the file's fps."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = (
    "Please find the visual event described by a sentence in the video, determining its starting and ending "
    "times. The format should be: 'The event happens in the start time - end time'. For example, The event "
    "'person turn a light on' happens in the 24.3 - 30.4 seonds. Now I will give you the textual sentence: "
    "He took out a cutting board. Please return its start time and end time."
)
RELEASE = {
    "s13-d21.avi": {"num_frames": 3000, "fps": 30.0, "timestamps": [[60, 300], [900, 600]],
                    "sentences": ["He took out a cutting board.", "He washed the carrot."]},
    "s30-d41.avi": {"num_frames": 250, "fps": 25.0, "timestamps": [[200, 300]], "sentences": ["The person leaves."]},
}


def test_items_prompt_and_scoring(release_root, make_video, write_json):
    write_json(release_root / "test.json", RELEASE)
    make_video(release_root / "videos" / "s13-d21.avi")
    bench = get_benchmark("tacos")
    items = bench.load(release_root)
    assert [i.id for i in items] == ["s13-d21.avi#0", "s13-d21.avi#1", "s30-d41.avi#0"]
    assert [i.answer for i in items] == [(2.0, 10.0), (20.0, 30.0), (8.0, 12.0)]  # frame / fps
    assert items[1].meta["reversed"] is True
    assert items[2].meta["beyond_duration"] is True  # 300 frames > 250: kept as annotated
    assert items[0].videos == (str(release_root / "videos" / "s13-d21.avi"),)
    assert prompt_for(bench, items[0]) == GOLDEN
    for output, metric in [("The event happens in the 2 - 10 seconds.", 1.0), ("6.0 - 10.0", 0.5),
                           ("10 - 20", 0.0)]:
        assert score_for(bench, items[0], output).metric == pytest.approx(metric)
    assert score_for(bench, items[0], "").parsed is None


def test_malformed_and_wrong_folder(release_root, write_json):
    with pytest.raises(ReleaseNotFound, match="missing test.json"):
        get_benchmark("tacos").load(release_root)
    (release_root / "videos").mkdir()
    write_json(release_root / "test.json", {"s1.avi": {"num_frames": 9, "fps": 3, "timestamps": [[1]],
                                                       "sentences": ["x"]}})
    with pytest.raises(ValueError, match=r"test.json \(s1.avi\): sentence 0"):
        get_benchmark("tacos").load(release_root)
