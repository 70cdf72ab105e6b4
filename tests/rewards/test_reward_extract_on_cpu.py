"""Lenient answer extraction: <think> blocks, <answer> tags, "The answer is" markers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards.extract import _ANSWER_MARKER, MAX_ANSWER_TAGS, answer_candidates, drop_thinking, last_match

# response, candidates, why
CASES = [
    ("3,1,4", ["3,1,4"], "plain text is its own candidate"),
    ("<answer>3,1,4</answer>", ["3,1,4"], "tagged"),
    ("<Answer> 3,1,4 </ANSWER>", [" 3,1,4 "], "tags in any case"),
    ("reasoning 2,2,2 <answer>3,1,4</answer> trailing 9", ["3,1,4"], "text outside tags is ignored"),
    ("<answer>3,1,4", ["3,1,4"], "unclosed tag runs to the end"),
    ("3,1,4</answer>", ["3,1,4"], "closing tag without opening tag"),
    ("<answer>1</answer><answer>2</answer>", ["1", "2"], "every tag is a candidate"),
    ("<answer>1<answer>2</answer>", ["1", "2"], "re-opened tag keeps both"),
    ("<think>1,1,1</think>3,1,4", ["3,1,4"], "thinking dropped"),
    ("<think>a</think>x<think>b</think>3,1,4", ["3,1,4"], "after the last </think>"),
    ("<think>3,1,4", [""], "unfinished thinking hides the rest"),
    ("<think>a</think><answer>3,1,4</answer>", ["3,1,4"], "think then answer tag"),
    ("<think><answer>1,1,1</answer></think>3,1,4", ["3,1,4"], "tags inside thinking do not count"),
    ("So the answer is 3,1,4.", [" 3,1,4."], "'answer is' marker"),
    ("Answer: 3,1,4", [" 3,1,4"], "'Answer:' marker"),
    ("answer: 1,1,1. Final answer: 3,1,4", [" 3,1,4"], "last marker wins"),
    ("Reanswer: 3,1,4", ["Reanswer: 3,1,4"], "a marker must start a word"),
    ("The answers: 3,1,4", ["The answers: 3,1,4"], "'answers:' is not the marker"),
]


@pytest.mark.parametrize("response, expected, why", CASES)
def test_answer_candidates(response, expected, why):
    assert answer_candidates(response) == expected, why


def test_a_flood_of_tags_is_no_answer():
    assert answer_candidates("<answer>3,1,4</answer>" * MAX_ANSWER_TAGS) == ["3,1,4"] * MAX_ANSWER_TAGS
    assert answer_candidates("<answer>3,1,4</answer>" * (MAX_ANSWER_TAGS + 1)) == []


def test_drop_thinking_and_non_strings():
    assert drop_thinking("x</think>y") == "y"
    assert answer_candidates(None) == [""]  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["answer:", "answer is ", "Answer :", "xanswer:", "a", " ", "\n", "answers", "9"]),
        max_size=12,
    ),
    st.integers(0, 9000),
)
def test_last_match_agrees_with_a_full_scan_across_window_boundaries(pieces, padding):
    # Padding moves the markers across the 4096-char search windows.
    text = "z" * padding + "".join(pieces) + "z" * (padding % 50)
    accept = lambda m: m.start() == 0 or not text[m.start() - 1].isalnum()  # noqa: E731
    everything = [m for m in _ANSWER_MARKER.finditer(text) if accept(m)]
    found = last_match(_ANSWER_MARKER, text, accept=accept)
    assert (found.span() if found else None) == (everything[-1].span() if everything else None)


def test_last_match_literal():
    assert last_match(re.compile("ab"), "ab" + "x" * 10000 + "ab").start() == 10002
    assert last_match(re.compile("ab"), "x" * 10000) is None
