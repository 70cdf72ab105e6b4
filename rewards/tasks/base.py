"""What a task plugs into the reward router: parse the truth, parse an answer, grade it.

A task is one module that builds a :class:`Task` and one line in ``rewards.tasks.TASKS``.
Parsers never raise on a response (they return ``None``); only ``parse_truth`` raises, because a
malformed ground truth is a dataset bug that must stop the run, not a silent zero.

>>> Grade(smooth=0.5, strict=0.0, acc=0.0).smooth
0.5
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional, Sequence

# Caps that keep every parser linear and every value finite whatever the response holds.
MAX_NUMBERS = 64  # a free-text candidate with more numbers than this is unparsable, not scanned on
MAX_NUMBER_CHARS = 32  # "123456789...": a longer digit run is not a plausible number
COUNT_CAP = 10**6  # any count above this is equally wrong for every ground truth we generate

# Unicode-aware on purpose: lenient parsing accepts "３,１,４" (int()/float() read any Nd digit).
_ANY_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ASCII_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")  # same matches on ASCII text, scans faster
_DIGIT_RUN = re.compile(r"\d+")  # Unicode on purpose: the released counting reward's pattern


class Grade(NamedTuple):
    """The three numbers a task reports for one parsed answer, each in [0, 1].

    smooth: the paper's partial-credit reward; strict: the 0/1 ablation reward;
    acc: the VIUBench metric for this sample.
    """

    smooth: float
    strict: float
    acc: float


@dataclass(frozen=True)
class Task:
    """A verifiable pretext task as the reward router sees it.

    Fields (all pure functions):
      name          task name, the middle part of ``videossr/<task>/<subtype>``
      parse_truth   (ground_truth, subtype) -> truth; raises ValueError if malformed
      parse_released (text, truth) -> answer | None; what the paper's released reward accepted
                    (the default: training on it gives the paper's reward on every response)
      parse_exact   (text, truth) -> answer | None; the whole text must be the paper's format,
                    ASCII only (the stricter ``parse_mode="strict"``)
      parse_loose   (text, truth) -> answer | None; exactly one answer found inside free text
      is_valid      (answer, truth) -> bool; e.g. a jigsaw answer is a permutation
      grade         (answer, truth) -> Grade
      render        answer -> canonical answer string (reported as ``pred``)
      prior         (truths, extra_infos) -> dict: random-guess and best-constant figures

    >>> from rewards.tasks import TASKS
    >>> jigsaw = TASKS["jigsaw"]
    >>> truth = jigsaw.parse_truth("2134", "n4")
    >>> jigsaw.grade(jigsaw.parse_released("1234", truth), truth).smooth   # E = 2, E_max = 8
    0.75
    """

    name: str
    parse_truth: Callable[[str, str], Any]
    parse_released: Callable[[str, Any], Optional[Any]]
    parse_exact: Callable[[str, Any], Optional[Any]]
    parse_loose: Callable[[str, Any], Optional[Any]]
    is_valid: Callable[[Any, Any], bool]
    grade: Callable[[Any, Any], Grade]
    render: Callable[[Any], str]
    prior: Callable[[Sequence[Any], Sequence[Mapping[str, Any]]], dict]


def digit_runs(text: str, limit: int) -> Optional[list[str]]:
    """Every run of digits in ``text`` (Python's Unicode ``\\d``), in order, as the released
    counting reward reads them (``re.findall(r"\\d+", response)``); ``None`` once there are more
    than ``limit`` (the scan stops there, so a 1 MB digit flood costs one short scan).

    >>> digit_runs("3 circles, 1 square and 4 triangles", 3), digit_runs("3.5, -1", 3)
    (['3', '1', '4'], ['3', '5', '1'])
    >>> digit_runs("1 2 3 4", 3) is None
    True
    """
    runs = [m.group() for m in itertools.islice(_DIGIT_RUN.finditer(text), limit + 1)]
    return None if len(runs) > limit else runs


class NumberToken(NamedTuple):
    text: str
    start: int
    end: int


def iter_numbers(text: str, limit: int = MAX_NUMBERS) -> Optional[list[NumberToken]]:
    """Decimal numbers in ``text`` in order; ``None`` when there are more than ``limit``.

    The regex has no nested quantifiers, so the scan is linear even on a 1 MB response, and it
    stops after ``limit + 1`` numbers.

    >>> [t.text for t in iter_numbers("from 12.5 s to 20 s")]
    ['12.5', '20']
    """
    found: list[NumberToken] = []
    pattern = _ASCII_NUMBER if text.isascii() else _ANY_NUMBER
    matches: Iterator[re.Match[str]] = pattern.finditer(text)
    for match in matches:
        if len(found) == limit:
            return None
        found.append(NumberToken(match.group(), match.start(), match.end()))
    return found


def is_negated(text: str, token: NumberToken) -> bool:
    """True when ``token`` carries a minus sign ("-3", ", -3"; not the range dash of "2-3", "2s-3s").

    >>> is_negated("a -3", NumberToken("3", 3, 4)), is_negated("2-3", NumberToken("3", 2, 3))
    (True, False)
    """
    i = token.start
    if i == 0 or text[i - 1] not in "-\u2212":
        return False
    return i < 2 or not text[i - 2].isalnum()  # "2-3", "2s-3s": a range dash


def to_count(digits: str) -> int:
    """Integer value of a digit string, capped at ``COUNT_CAP`` (no int() on huge strings).

    >>> to_count("007"), to_count("9" * 5000) == COUNT_CAP, to_count("０" * 20 + "３")
    (7, True, 3)
    """
    if not digits.isascii():  # "３" and every other Unicode decimal digit, as int()/float() read them
        digits = "".join(str(unicodedata.decimal(c)) for c in digits)
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(COUNT_CAP)):
        return COUNT_CAP
    return min(int(significant), COUNT_CAP)
