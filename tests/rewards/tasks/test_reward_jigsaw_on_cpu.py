"""Jigsaw reward: table of (response, expected score per parse mode, why) against "341562"."""

from __future__ import annotations

import pytest

from rewards import score
from rewards.tasks import jigsaw

DS = "videossr/jigsaw/n6"
TRUTH = "341562"

# response, strict-mode score, lenient-mode score, why   (E_max = 6*6//2 = 18)
CASES = [
    ("341562", 1.0, 1.0, "canonical answer"),
    (" 341562\n", 1.0, 1.0, "surrounding whitespace"),
    ("431562", 1 - 2 / 18, 1 - 2 / 18, "two clips swapped: displacement 2"),
    ("123456", 1 - 12 / 18, 1 - 12 / 18, "identity: |1-3|+|2-4|+|3-1|+|4-5|+|5-6|+|6-2| = 12"),
    ("436215", 0.0, 0.0, "position 7-t of every clip: the maximal displacement 18"),
    ("111111", 0.0, 0.0, "repeated digits are not a permutation"),
    ("341560", 0.0, 0.0, "digit 0 is not a clip"),
    ("3415627", 0.0, 0.0, "answers for more clips than exist"),
    ("34156", 0.0, 0.0, "too few clips"),
    ("341562341562", 0.0, 0.0, "the answer twice is twelve digits"),
    ("3 4 1 5 6 2", 0.0, 1.0, "space separated digits: lenient only"),
    ("[3, 4, 1, 5, 6, 2]", 0.0, 1.0, "a list"),
    ("341562.", 0.0, 1.0, "trailing punctuation"),
    ("<answer>341562</answer>", 0.0, 1.0, "answer tags"),
    ("Order: 341562", 0.0, 1.0, "extra text"),
    ("\uff13\uff14\uff11\uff15\uff16\uff12", 0.0, 1.0, "fullwidth digits: lenient only"),
    ("341562 or 341526", 0.0, 0.0, "two answers"),
    ("<answer>341562</answer><answer>341526</answer>", 0.0, 0.0, "two tagged answers"),
    ("Clip 1: 3", 0.0, 0.0, "clip labels are digits too: ambiguous"),
    ("", 0.0, 0.0, "empty"),
]


@pytest.mark.parametrize("response, strict_expected, lenient_expected, why", CASES)
def test_jigsaw_table(response, strict_expected, lenient_expected, why):
    assert score(DS, response, TRUTH, parse_mode="strict")["score"] == pytest.approx(
        strict_expected, abs=1e-9
    ), why
    assert score(DS, response, TRUTH, parse_mode="lenient")["score"] == pytest.approx(
        lenient_expected, abs=1e-9
    ), why


def test_non_permutation_is_parsed_but_scores_nothing_and_has_no_format_credit():
    result = score(DS, "111111", TRUTH, format_weight=0.5)
    assert (result["parsed"], result["format"], result["score"]) == (1.0, 0.0, 0.0)


def test_acc_and_strict_reward_are_exact_match():
    assert score(DS, "431562", TRUTH)["acc"] == 0.0
    assert score(DS, "431562", TRUTH, reward_mode="strict")["score"] == 0.0
    assert score(DS, "341562", TRUTH, reward_mode="strict")["score"] == 1.0


def test_eight_clips():
    assert score("videossr/jigsaw/n8", "12345687", "12345678")["score"] == pytest.approx(1 - 2 / 32)


@pytest.mark.parametrize(
    "bad, subtype",
    [
        ("", "n6"),
        ("1", "n1"),
        ("112345", "n6"),
        ("1234567890", "n10"),
        ("123456", "n8"),
        ("abcdef", "n6"),
        (None, "n6"),
    ],
)
def test_malformed_ground_truth_raises(bad, subtype):
    with pytest.raises(ValueError, match="jigsaw ground truth"):
        jigsaw.parse_truth(bad, subtype)
