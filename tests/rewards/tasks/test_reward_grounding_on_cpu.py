"""Grounding reward: table of (response, expected score per parse mode, why) against "12.0-20.0"."""

from __future__ import annotations

import pytest

from rewards import score
from rewards.tasks import grounding

DS = "videossr/grounding/mirror"
TRUTH = "12.0-20.0"

# response, strict-mode score, lenient-mode score, why
CASES = [
    ("12.0-20.0", 1.0, 1.0, "canonical answer"),
    ("12-20", 1.0, 1.0, "integers are seconds too"),
    (" 12.0 - 20.0 \n", 1.0, 1.0, "surrounding and inner spaces are part of the format"),
    ("16.0-24.0", 4 / 12, 4 / 12, "overlap 4 s, union 12 s"),
    ("0-48", 8 / 48, 8 / 48, "a superset is penalised by its length"),
    ("0.0-10.0", 0.0, 0.0, "disjoint"),
    ("12.0-12.0", 0.0, 0.0, "zero-length interval overlaps nothing"),
    ("20.0-12.0", 0.0, 0.0, "reversed interval is not an answer"),
    ("-12.0-20.0", 0.0, 0.0, "negative time"),
    ("12.0-20.0-30.0", 0.0, 0.0, "three numbers: which interval?"),
    ("12.0-20.0.", 0.0, 1.0, "trailing punctuation: only lenient reads it"),
    ("12.0s-20.0s", 0.0, 1.0, "units"),
    ("12.0 to 20.0", 0.0, 1.0, "words instead of a dash"),
    ("<answer>12.0-20.0</answer>", 0.0, 1.0, "answer tags"),
    ("<think>maybe 0-5</think>\n12.0-20.0", 0.0, 1.0, "numbers inside <think> do not count"),
    ("<think>12.0-20.0", 0.0, 0.0, "unfinished thinking has no answer"),
    ("The anomaly is from 12.0 to 20.0 seconds.", 0.0, 1.0, "a sentence with one interval"),
    ("The answer is 16.0-24.0.", 0.0, 4 / 12, "'The answer is' then an imperfect interval"),
    ("\uff11\uff12.\uff10-\uff12\uff10.\uff10", 0.0, 1.0, "fullwidth digits: lenient only"),
    ("12.0-20.0, 12.0-20.0", 0.0, 0.0, "the same interval twice is still two intervals"),
    ("0-10, 10-20, 20-30", 0.0, 0.0, "listing intervals earns nothing"),
    ("12.0-99999999999999999999", 8 / (99999999999999999999 - 12), 8 / (99999999999999999999 - 12), "huge"),
    ("", 0.0, 0.0, "empty"),
    ("twelve to twenty", 0.0, 0.0, "no digits"),
]


@pytest.mark.parametrize("response, strict_expected, lenient_expected, why", CASES)
def test_grounding_table(response, strict_expected, lenient_expected, why):
    strict = score(DS, response, TRUTH, parse_mode="strict")
    lenient = score(DS, response, TRUTH, parse_mode="lenient")
    assert strict["score"] == pytest.approx(strict_expected, abs=1e-9), why
    assert lenient["score"] == pytest.approx(lenient_expected, abs=1e-9), why
    assert lenient["acc"] == pytest.approx(lenient_expected, abs=1e-9), "acc is IoU for grounding"


@pytest.mark.parametrize(
    "response, iou, strict_reward",
    [("12.0-20.0", 1.0, 1.0), ("13.0-20.0", 7 / 8, 1.0), ("16.0-24.0", 1 / 3, 0.0), ("16.0-20.0", 0.5, 1.0)],
)
def test_strict_reward_mode_thresholds_iou_at_one_half(response, iou, strict_reward):
    result = score(DS, response, TRUTH, reward_mode="strict")
    assert result["score"] == strict_reward
    assert result["acc"] == pytest.approx(iou)  # acc stays the IoU whatever the training reward


def test_reversed_and_unparsed_answers_report_parsed_zero():
    assert score(DS, "20.0-12.0", TRUTH)["parsed"] == 0.0
    assert score(DS, "12.0-20.0", TRUTH)["pred"] == "12.0-20.0"
    assert score(DS, "12-20", TRUTH, parse_mode="lenient")["pred"] == "12.0-20.0"


@pytest.mark.parametrize("bad", ["", "20.0-12.0", "12.0-12.0", "12.0", "a-b", "12.0--20.0", None])
def test_malformed_ground_truth_raises(bad):
    with pytest.raises(ValueError, match="grounding ground truth"):
        grounding.parse_truth(bad, "mirror")


def test_iou_is_symmetric_and_bounded():
    assert grounding.iou((1.0, 3.0), (2.0, 5.0)) == grounding.iou((2.0, 5.0), (1.0, 3.0)) == 0.25
    assert grounding.iou((0.0, 0.0), (0.0, 0.0)) == 1.0
