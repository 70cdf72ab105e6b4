"""Option-letter and interval parsing: (input, expected, why) tables."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.downstream.parsing import (
    option_letters,
    parse_answer_interval,
    parse_answer_letter,
    parse_interval,
    parse_option_letter,
)

LETTERS = [
    ("B", "B", "bare letter"),
    ("B.", "B", "letter with period"),
    ("(C) the red car", "C", "parenthesised letter with option text"),
    ("D: dog", "D", "letter with colon"),
    ("Answer: A", "A", "answer prefix"),
    ("The answer is C.", "C", "sentence"),
    ("The correct option is (B)", "B", "keyword + parentheses"),
    ("I think it is (D), because", "D", "single parenthesised letter in free text"),
    ("E", None, "not an option of this question"),
    ("", None, "empty"),
    ("\n\n", None, "whitespace only"),
    ("A or B", "A", "leading letter wins"),
    ("Either (A) or (B)", None, "two parenthesised letters: ambiguous"),
    ("a", None, "lowercase is not an option letter"),
]


@pytest.mark.parametrize("text,expected,why", LETTERS)
def test_parse_option_letter(text, expected, why):
    assert parse_option_letter(text, "ABCD") == expected, why


INTERVALS = [
    ("12.5-20.0", (12.5, 20.0), "bare pair"),
    ("The event happens in the 24.3 - 30.4 seconds.", (24.3, 30.4), "lmms-eval answer format"),
    ("from 3 to 7.5", (3.0, 7.5), "'to' separator"),
    ("between 3s and 5s", (3.0, 5.0), "units and 'and'"),
    ("20 - 10", (10.0, 20.0), "reversed pair is ordered"),
    ("00:01:05 - 00:01:10", (65.0, 70.0), "hh:mm:ss"),
    ("1:05 to 1:10", (65.0, 70.0), "mm:ss"),
    ("at 12 seconds", None, "a single time is not an interval"),
    ("", None, "empty"),
]


@pytest.mark.parametrize("text,expected,why", INTERVALS)
def test_parse_interval(text, expected, why):
    assert parse_interval(text) == expected, why


def test_option_letters_from_question():
    assert option_letters("What?\nA. one\nB. two\nC. three") == "ABC"
    assert option_letters("What?\n(A) one\n(B) two") == "AB"
    assert len(option_letters("no options listed")) == 26


@pytest.mark.parametrize("answer,letter", [("B", "B"), ("(C)", "C"), ("D. four", "D")])
def test_ground_truth_letters(answer, letter):
    assert parse_answer_letter(answer) == letter


@pytest.mark.parametrize("answer", ["two", "", "1"])
def test_bad_ground_truth_letter_raises(answer):
    with pytest.raises(ValueError, match="option letter"):
        parse_answer_letter(answer)


@pytest.mark.parametrize("answer,interval", [([1, 2.5], (1.0, 2.5)), ("3-4", (3.0, 4.0)), ({"start": 0, "end": 1}, (0.0, 1.0))])
def test_ground_truth_intervals(answer, interval):
    assert parse_answer_interval(answer) == interval


@pytest.mark.parametrize("answer", [[5, 1], [1], "soon"])
def test_bad_ground_truth_interval_raises(answer):
    with pytest.raises(ValueError):
        parse_answer_interval(answer)
