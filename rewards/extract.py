"""Lenient answer extraction: find the text that holds the answer inside a free-form response.

Used only with ``parse_mode="lenient"``; the default ``released`` and the ``strict`` modes read
the whole response.
Order of rules:

1. ``<think>...</think>``: only the text after the last ``</think>`` counts; an unclosed
   ``<think>`` hides everything after it (a truncated chain of thought has no answer).
2. ``<answer>...</answer>`` (any case): each tagged span is a candidate; an unclosed opening tag
   runs to the end; a stray closing tag with no opening one ends a candidate that starts at 0.
   More than ``MAX_ANSWER_TAGS`` tags: no candidate at all (a tag flood is not an answer).
3. Otherwise the text after the last "answer is" / "answer:" (any case), else the whole text.

Every regex here is anchored or literal with bounded repeats, so a 1 MB response is scanned in
linear time. The caller (``rewards.scoring``) parses each candidate and accepts an answer only
when all candidates that parse agree, so several different tagged answers earn nothing.

>>> answer_candidates("<think>maybe 2,1,4</think> <answer>3,1,4</answer>")
['3,1,4']
>>> answer_candidates("The answer is 12.5-20.3.")
[' 12.5-20.3.']
"""

from __future__ import annotations

import itertools
import re
from typing import Callable

MAX_ANSWER_TAGS = 8

_THINK_CLOSE = re.compile(r"(?i)</think>")
_THINK_OPEN = re.compile(r"(?i)<think>")
_ANSWER_TAG = re.compile(r"(?i)<(/?)answer>")
# No leading \b: it defeats the regex engine's fast scan; _is_word_start checks it instead.
_ANSWER_MARKER = re.compile(r"(?i)answer(?:[ \t]{1,3}is\b|[ \t]{0,3}:)")

# Last-match search scans backwards in windows, so a response flooded with markers costs one
# window, not one Python step per marker. Every pattern above matches at most _OVERLAP chars.
_WINDOW = 4096
_OVERLAP = 32


def drop_thinking(text: str) -> str:
    """The part of ``text`` outside any ``<think>`` block (see rule 1).

    >>> drop_thinking("<think>hmm</think>3,1,4"), drop_thinking("<think>3,1,4")
    ('3,1,4', '')
    """
    closed = last_match(_THINK_CLOSE, text)
    if closed:
        text = text[closed.end() :]
    opened = _THINK_OPEN.search(text)
    return text[: opened.start()] if opened else text


def answer_candidates(response: str) -> list[str]:
    """Candidate answer texts of a response, by the rules in the module docstring.

    >>> answer_candidates("<answer>3,1,4</answer><answer>3,1,4</answer>")
    ['3,1,4', '3,1,4']
    """
    text = drop_thinking(response if isinstance(response, str) else "")
    tags = list(itertools.islice(_ANSWER_TAG.finditer(text), 2 * MAX_ANSWER_TAGS + 1))
    if len(tags) > 2 * MAX_ANSWER_TAGS:
        return []
    if tags:
        return _tagged_spans(text, tags)
    marker = last_match(_ANSWER_MARKER, text, accept=_is_word_start)
    return [text[marker.end() :] if marker else text]


def last_match(
    pattern: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], bool] = lambda m: True
) -> re.Match[str] | None:
    """The last match of ``pattern`` in ``text`` that ``accept`` takes (matches of at most 32
    chars), in linear time.

    >>> last_match(re.compile("ab"), "ab ab ab!").start()
    6
    """
    end = len(text)
    while end > 0:
        start = max(0, end - _WINDOW)
        # Search a little past the window so a match is judged on its real right context; keep
        # only matches that start inside the window (later ones were seen in the previous window).
        found = None
        for match in pattern.finditer(text, start, min(len(text), end + _OVERLAP)):
            if match.start() >= end:
                break
            if accept(match):
                found = match
        if found is not None:
            return found
        if start == 0:
            return None
        end = start + _OVERLAP
    return None


def _tagged_spans(text: str, tags: list[re.Match[str]]) -> list[str]:
    spans: list[str] = []
    open_end: int | None = None
    for tag in tags:
        closing = bool(tag.group(1))
        if closing and open_end is not None:
            spans.append(text[open_end : tag.start()])
            open_end = None
        elif closing and not spans:
            spans.append(text[: tag.start()])  # "3,1,4</answer>": the opening tag was left out
        elif not closing:
            if open_end is not None:  # re-opened before closing: keep both, they must agree
                spans.append(text[open_end : tag.start()])
            open_end = tag.end()
    if open_end is not None:
        spans.append(text[open_end:])
    return spans


def _is_word_start(match: re.Match[str]) -> bool:
    """ "answer:" counts, "reanswer:" does not."""
    i = match.start()
    return i == 0 or not match.string[i - 1].isalnum()
