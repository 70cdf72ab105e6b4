"""ActivityNet Captions adapter: val_2.json, one item per sentence, seconds as annotated."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench.registry import get_benchmark
from recipes.videossr.eval.bench.scoring import prompt_for, score_for
from recipes.videossr.eval.bench.spec import ReleaseNotFound

GOLDEN = (
    "Please find the visual event described by a sentence in the video, determining its starting and ending "
    "times. The format should be: 'The event happens in the start time - end time'. For example, The event "
    "'person turn a light on' happens in the 24.3 - 30.4 seonds. Now I will give you the textual sentence: "
    "The man then puts the ball in the hole. Please return its start time and end time."
)
RELEASE = {
    "v_uqiMw7tQ1Cc": {"duration": 55.15, "timestamps": [[0.28, 55.15], [13.79, 54.32]],
                      "sentences": ["A weight lifting tutorial is given.", "  The coach helps the guy in red "
                                    "with the proper body placement and lifting technique."]},
    "v_QOlSCBRmfWY": {"duration": 82.73, "timestamps": [[0.83, 19.86], [17.37, 60.81], [56.26, 84.2]],
                      "sentences": ["A young woman is seen standing in a room.", "She then begins dancing.",
                                    " The man then puts the ball in the hole."]},
}


def test_items_prompt_and_scoring(release_root, make_video, write_json):
    write_json(release_root / "val_2.json", RELEASE)
    make_video(release_root / "videos" / "v_QOlSCBRmfWY.mp4")
    bench = get_benchmark("activitynet")
    items = bench.load(release_root)
    assert [i.id for i in items] == ["v_uqiMw7tQ1Cc#0", "v_uqiMw7tQ1Cc#1", "v_QOlSCBRmfWY#0", "v_QOlSCBRmfWY#1",
                                     "v_QOlSCBRmfWY#2"]
    last = items[-1]
    assert last.answer == (56.26, 84.2)  # past the 82.73 s duration: kept, flagged
    assert last.meta["beyond_duration"] is True and "beyond_duration" not in items[2].meta
    assert last.videos == (str(release_root / "videos" / "v_QOlSCBRmfWY.mp4"),)  # the id carries v_ already
    assert prompt_for(bench, last) == GOLDEN
    for output, metric in [("The event happens in the 56.26 - 84.2 seconds", 1.0),
                           ("84.2 - 56.26", 1.0), ("from 0 to 10", 0.0)]:
        assert score_for(bench, last, output).metric == pytest.approx(metric)
    assert score_for(bench, last, "from 0 to 10").parsed is None


def test_malformed_and_wrong_folder(release_root, write_json):
    with pytest.raises(ReleaseNotFound, match="missing val_2.json"):
        get_benchmark("activitynet").load(release_root)
    (release_root / "videos").mkdir()
    write_json(release_root / "val_2.json", {"v_x": {"duration": 5, "timestamps": [[1, 2]], "sentences": []}})
    with pytest.raises(ValueError, match=r"val_2.json \(v_x\)"):
        get_benchmark("activitynet").load(release_root)
