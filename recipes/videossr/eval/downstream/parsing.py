"""Read an option letter or a time interval out of a model's free-text answer.

Both parsers return ``None`` when there is no unambiguous answer; the caller scores that as 0 and
counts it as unparsable (never drops it).

>>> parse_option_letter("(B) a red car", "ABCD")
'B'
>>> parse_option_letter("The answer is C.", "ABCD")
'C'
>>> parse_interval("The event happens in 12.5 - 20 seconds.")
(12.5, 20.0)
>>> parse_interval("from 00:01:05 to 00:01:10")
(65.0, 70.0)
"""

from __future__ import annotations

import re
import string

_OPTION_LINE = re.compile(r"^\s*\(?([A-Z])[\.\):]\s", re.MULTILINE)
_LEADING = re.compile(r"^\s*(?:the\s+)?(?:correct\s+)?(?:answer|option)\s*(?:is|:)?\s*", re.IGNORECASE)
_FIRST_LETTER = re.compile(r"^\(?([A-Z])(?:\)|\.|:|,|\s|$)")
_KEYWORD_LETTER = re.compile(r"(?:answer|option)\s*(?:is|:)?\s*\(?([A-Z])\b", re.IGNORECASE)
_PAREN_LETTER = re.compile(r"\(([A-Z])\)")

_NUM = r"\d+(?:\.\d+)?"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?"
_UNIT = r"\s*(?:s|sec|secs|second|seconds)?\s*"
_SEP = r"(?:-|–|—|~|to|and|until)"
_CLOCK_PAIR = re.compile(rf"({_CLOCK}){_UNIT}{_SEP}\s*({_CLOCK})")
_NUM_PAIR = re.compile(rf"({_NUM}){_UNIT}{_SEP}\s*({_NUM})")


def option_letters(question: str) -> str:
    """Letters of the options listed in the question ("A. ..." / "(A) ..." lines); all if none.

    >>> option_letters("Q?\\nA. x\\nB. y")
    'AB'
    """
    found = sorted(set(_OPTION_LINE.findall(question)))
    return "".join(found) or string.ascii_uppercase


def parse_option_letter(text: str, valid: str = string.ascii_uppercase) -> str | None:
    """The chosen option letter: a leading letter, "answer is X", or a single "(X)"; else None."""
    stripped = _LEADING.sub("", text.strip(), count=1).strip()
    m = _FIRST_LETTER.match(stripped)
    if m and m.group(1) in valid:
        return m.group(1)
    m = _KEYWORD_LETTER.search(text)
    if m and m.group(1).upper() in valid and m.group(1).isupper():
        return m.group(1)
    letters = {x for x in _PAREN_LETTER.findall(text) if x in valid}
    return letters.pop() if len(letters) == 1 else None


def _clock_seconds(value: str) -> float:
    seconds = 0.0
    for part in value.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def parse_interval(text: str) -> tuple[float, float] | None:
    """The first "start - end" pair in seconds (also "a to b", hh:mm:ss); ordered; else None."""
    lowered = text.lower()
    m = _CLOCK_PAIR.search(lowered)
    if m:
        start, end = _clock_seconds(m.group(1)), _clock_seconds(m.group(2))
    else:
        m = _NUM_PAIR.search(lowered)
        if not m:
            return None
        start, end = float(m.group(1)), float(m.group(2))
    return (start, end) if start <= end else (end, start)


def parse_answer_letter(answer: str) -> str:
    """Normalise a ground-truth option ("B", "(B)", "B. blue") to its letter; ValueError otherwise.

    >>> parse_answer_letter("(C) three")
    'C'
    """
    m = _FIRST_LETTER.match(str(answer).strip())
    if not m:
        raise ValueError(f"multiple-choice answer {answer!r} does not start with an option letter")
    return m.group(1)


def parse_answer_interval(answer) -> tuple[float, float]:
    """Normalise a ground-truth interval ([s, e], "s-e", {"start", "end"}); ValueError otherwise.

    >>> parse_answer_interval([3, 7.5])
    (3.0, 7.5)
    """
    if isinstance(answer, dict) and {"start", "end"} <= set(answer):
        interval = (float(answer["start"]), float(answer["end"]))
    elif isinstance(answer, (list, tuple)) and len(answer) == 2:
        interval = (float(answer[0]), float(answer[1]))
    elif isinstance(answer, str) and parse_interval(answer):
        interval = parse_interval(answer)
    else:
        raise ValueError(f"grounding answer {answer!r} is not [start, end] / 'start-end' in seconds")
    if not interval[0] <= interval[1]:
        raise ValueError(f"grounding answer {answer!r} ends before it starts")
    return interval
