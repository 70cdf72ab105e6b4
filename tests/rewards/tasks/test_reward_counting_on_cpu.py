"""Counting reward: table of (response, expected score per parse mode, why) against "3,1,4"."""

from __future__ import annotations

import pytest

from rewards import score
from rewards.tasks import counting

DS = "videossr/counting/easy"
TRUTH = "3,1,4"

# response, strict-mode score, lenient-mode score, why
CASES = [
    ("3,1,4", 1.0, 1.0, "canonical answer"),
    (" 3, 1 ,4\n", 1.0, 1.0, "spaces around commas"),
    ("3,1,5", (1 + 1 + 0.75) / 3, (1 + 1 + 0.75) / 3, "one triangle too many: 1 - 1/4"),
    ("4,1,4", (2 / 3 + 1 + 1) / 3, (2 / 3 + 1 + 1) / 3, "one circle too many: 1 - 1/3"),
    ("2,1,4", (2 / 3 + 1 + 1) / 3, (2 / 3 + 1 + 1) / 3, "one too few costs the same as one too many"),
    ("6,2,8", 0.0, 0.0, "each count off by 100% floors at 0"),
    ("0,0,0", 0.0, 0.0, "nothing counted"),
    ("003,001,004", 1.0, 1.0, "padded zeros are the same numbers (no gain)"),
    ("33,11,44", 0.0, 0.0, "repeated digits are just wrong counts"),
    ("99999999999999999999,1,4", 2 / 3, 2 / 3, "huge count: that type scores 0, no overflow"),
    ("3,1", 0.0, 0.0, "two numbers"),
    ("3,1,4,5", 0.0, 0.0, "four numbers"),
    ("-3,1,4", 0.0, 0.0, "negative count"),
    ("3.0,1,4", 0.0, 0.0, "decimals are not counts"),
    ("3,1,4.", 0.0, 1.0, "trailing punctuation: only lenient reads it"),
    ("<answer>3,1,4</answer>", 0.0, 1.0, "answer tags"),
    ("circles: 3, squares: 1, triangles: 4", 0.0, 1.0, "labelled counts in the asked order"),
    ("The answer is 3, 1, 4.", 0.0, 1.0, "'The answer is'"),
    ("I see 2 circles... The answer is 3,1,4", 0.0, 1.0, "the last 'answer is' wins"),
    ("<think>2,2,2?</think>3,1,4", 0.0, 1.0, "numbers in <think> are ignored"),
    ("\uff13,\uff11,\uff14", 0.0, 1.0, "fullwidth digits: lenient only"),
    ("\u0663,\u0661,\u0664", 0.0, 1.0, "Arabic-Indic digits: lenient only"),
    ("3,1,4 or 3,1,5", 0.0, 0.0, "two answers"),
    ("1,2,3,4,5,6,7,8,9", 0.0, 0.0, "listing numbers earns nothing"),
    ("", 0.0, 0.0, "empty"),
]


@pytest.mark.parametrize("response, strict_expected, lenient_expected, why", CASES)
def test_counting_table(response, strict_expected, lenient_expected, why):
    assert score(DS, response, TRUTH, parse_mode="strict")["score"] == pytest.approx(
        strict_expected, abs=1e-9
    ), why
    assert score(DS, response, TRUTH, parse_mode="lenient")["score"] == pytest.approx(
        lenient_expected, abs=1e-9
    ), why


@pytest.mark.parametrize(
    "response, acc, strict_reward",
    [("3,1,4", 1.0, 1.0), ("3,1,5", 2 / 3, 0.0), ("3,2,5", 1 / 3, 0.0), ("1,2,3", 0.0, 0.0)],
)
def test_acc_is_per_type_exact_match_and_strict_reward_all_or_nothing(response, acc, strict_reward):
    result = score(DS, response, TRUTH, reward_mode="strict")
    assert result["acc"] == pytest.approx(acc)
    assert result["score"] == strict_reward


def test_zero_true_count_is_exact_match():
    assert score(DS, "0,1,4", "0,1,4")["score"] == 1.0
    assert score(DS, "1,1,4", "0,1,4")["score"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("bad", ["", "3,1", "3,1,4,5", "-3,1,4", "3;1;4", "a,b,c", None])
def test_malformed_ground_truth_raises(bad):
    with pytest.raises(ValueError, match="counting ground truth"):
        counting.parse_truth(bad, "easy")
