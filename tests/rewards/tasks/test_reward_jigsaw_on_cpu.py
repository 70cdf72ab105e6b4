"""Jigsaw reward (paper Eq. 7-8): table of (response, expected score per parse mode, why) against "341562"."""

from __future__ import annotations

import pytest

from rewards import score
from rewards.tasks import jigsaw

DS = "videossr/jigsaw/n6"
TRUTH = "341562"

# response, score per parse mode (released = default, strict, lenient), why.
# Eq. 7-8: E = sum over clip labels of |index in answer - index in truth|, E_max = 6*6//2 = 18.
CASES = [
    ("341562", 1.0, 1.0, 1.0, "canonical answer"),
    (" 341562\n", 1.0, 1.0, 1.0, "surrounding whitespace"),
    ("431562", 1 - 2 / 18, 1 - 2 / 18, 1 - 2 / 18, "labels 4 and 3 one place off each: E = 2"),
    ("341526", 1 - 2 / 18, 1 - 2 / 18, 1 - 2 / 18, "the paper's check value 0.8889 (digit sum: 0.5556)"),
    ("123456", 1 - 12 / 18, 1 - 12 / 18, 1 - 12 / 18, "identity: E = 2+4+2+2+1+1 = 12"),
    ("265143", 0.0, 0.0, 0.0, "the truth reversed: the maximal E = 18"),
    ("436215", 1 - 10 / 18, 1 - 10 / 18, 1 - 10 / 18, "7 - digit: maximal for the digit-sum metric only"),
    ("111111", 0.0, 0.0, 0.0, "repeated digits are not a permutation"),
    ("341560", 0.0, 0.0, 0.0, "digit 0 is not a clip"),
    ("3415627", 0.0, 0.0, 0.0, "answers for more clips than exist"),
    ("34156", 0.0, 0.0, 0.0, "too few clips"),
    ("341562341562", 0.0, 0.0, 0.0, "the answer twice is twelve digits"),
    ("3 4 1 5 6 2", 0.0, 0.0, 1.0, "space separated digits: lenient only"),
    ("[3, 4, 1, 5, 6, 2]", 0.0, 0.0, 1.0, "a list"),
    ("341562.", 0.0, 0.0, 1.0, "trailing punctuation"),
    ("<answer>341562</answer>", 0.0, 0.0, 1.0, "answer tags"),
    ("Order: 341562", 0.0, 0.0, 1.0, "extra text"),
    ("\uff13\uff14\uff11\uff15\uff16\uff12", 0.0, 0.0, 1.0, "fullwidth digits: lenient only"),
    ("341562 or 341526", 0.0, 0.0, 0.0, "two answers"),
    ("<answer>341562</answer><answer>341526</answer>", 0.0, 0.0, 0.0, "two tagged answers"),
    ("Clip 1: 3", 0.0, 0.0, 0.0, "clip labels are digits too: ambiguous"),
    ("", 0.0, 0.0, 0.0, "empty"),
]


@pytest.mark.parametrize("response, released, strict, lenient, why", CASES)
def test_jigsaw_table(response, released, strict, lenient, why):
    for mode, expected in (("released", released), ("strict", strict), ("lenient", lenient)):
        assert score(DS, response, TRUTH, parse_mode=mode)["score"] == pytest.approx(expected, abs=1e-9), (
            mode,
            why,
        )


def test_default_parse_mode_is_the_released_one():
    assert score(DS, "341526", TRUTH) == score(DS, "341526", TRUTH, parse_mode="released")


def test_non_permutation_scores_nothing_and_has_no_format_credit():
    released = score(DS, "111111", TRUTH, format_weight=0.5)
    assert (released["parsed"], released["format"], released["score"]) == (0.0, 0.0, 0.0)
    strict = score(DS, "111111", TRUTH, format_weight=0.5, parse_mode="strict")
    assert (strict["parsed"], strict["format"], strict["score"]) == (1.0, 0.0, 0.0)


def test_acc_and_strict_reward_are_exact_match():
    assert score(DS, "431562", TRUTH)["acc"] == 0.0
    assert score(DS, "431562", TRUTH, reward_mode="strict")["score"] == 0.0
    assert score(DS, "341562", TRUTH, reward_mode="strict")["score"] == 1.0


def test_eight_clips():
    assert score("videossr/jigsaw/n8", "12345687", "12345678")["score"] == pytest.approx(1 - 2 / 32)
    # the paper's 8-clip check value (digit-sum metric: 0.75)
    assert score("videossr/jigsaw/n8", "15827463", "51827463")["score"] == pytest.approx(0.9375)


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
