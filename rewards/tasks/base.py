"""The reward half of a pretext task: parse an answer, grade it; everything else has a default.

A task author writes two functions (see :class:`Reward`): ``parse_answer(text, truth)`` (the
whole response is the answer, else ``None``) and ``grade(answer, truth)`` (a number in [0, 1] or a
:class:`Grade`). Parse-mode variants, rendering, validity and the answer priors default to what
those two give. Parsers never raise on a response (they return ``None``); only ``parse_truth``
raises, because a malformed ground truth is a dataset bug that must stop the run, not a silent 0.

The task's declaration (``data_prep.tasks.registry.PretextTask``) carries its ``Reward`` next to
its generator, options and VIUBench columns.

>>> Grade(smooth=0.5, binary=0.0, acc=0.0).smooth
0.5
>>> toy = Reward(parse_answer=lambda text, truth: text.strip() or None,
...              grade=lambda answer, truth: float(answer == truth))
>>> toy.to_grade(toy.parse_answer(" forward ", "forward"), "forward")
Grade(smooth=1.0, binary=1.0, acc=1.0)
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Optional, Sequence

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

    smooth: the paper's partial-credit reward; binary: the 0/1 ablation reward
    (``reward_mode="binary"``); acc: the VIUBench metric for this sample.
    """

    smooth: float
    binary: float
    acc: float


def plain_truth(ground_truth: str, subtype: str) -> str:
    """Default ``parse_truth``: the stripped ground-truth string; ``ValueError`` when empty.

    >>> plain_truth(" forward ", "clip")
    'forward'
    """
    text = ground_truth.strip() if isinstance(ground_truth, str) else ""
    if not text:
        raise ValueError(f"ground truth must be a non-empty string, got {ground_truth!r}")
    return text


def always_valid(answer: Any, truth: Any) -> bool:
    """Default ``is_valid``: every parsed answer is a valid answer.

    >>> always_valid("backward", "forward")
    True
    """
    return True


@dataclass(frozen=True)
class Reward:
    """A verifiable pretext task as the reward router sees it (all fields pure functions).

    Required (what a task author writes):
      parse_answer  (text, truth) -> answer | None; the whole response must be the answer, in the
                    task's format (``parse_mode="strict"``, and the format reward)
      grade         (answer, truth) -> Grade, or one number in [0, 1] (smooth = acc = the number,
                    binary = 1 only when it is 1)

    Optional (defaults in brackets):
      parse_truth   (ground_truth, subtype) -> truth; raises ValueError if malformed [stripped str]
      parse_released (text, truth) -> answer | None; what the paper's released reward accepted
                    (``parse_mode="released"``, the default) [parse_answer]
      parse_loose   (text, truth) -> answer | None; exactly one answer inside free text, run on
                    every candidate ``rewards.extract`` finds (``parse_mode="lenient"``) [parse_answer]
      is_valid      (answer, truth) -> bool; e.g. a jigsaw answer is a permutation [always True]
      render        answer -> canonical answer string (reported as ``pred``) [str]
      answer_space  (truth, extra_info, options) -> every answer a random guess draws from, for
                    the default prior [the distinct truths of the rows]
      prior         (truths, extra_infos, options) -> dict of random-guess and best-constant
                    figures (``rewards.priors``) [exact enumeration over ``answer_space``]

    >>> from data_prep.tasks import get_task
    >>> jigsaw = get_task("jigsaw").reward
    >>> truth = jigsaw.parse_truth("2134", "n4")
    >>> jigsaw.to_grade(jigsaw.released(" 1234", truth), truth).smooth   # E = 2, E_max = 8
    0.75
    """

    parse_answer: Callable[[str, Any], Optional[Any]]
    grade: Callable[[Any, Any], Any]
    parse_truth: Callable[[str, str], Any] = plain_truth
    parse_released: Optional[Callable[[str, Any], Optional[Any]]] = None
    parse_loose: Optional[Callable[[str, Any], Optional[Any]]] = None
    is_valid: Callable[[Any, Any], bool] = always_valid
    render: Callable[[Any], str] = str
    answer_space: Optional[Callable[[Any, Mapping[str, Any], Mapping[str, Any]], Iterable[Any]]] = None
    prior: Optional[Callable[[Sequence[Any], Sequence[Mapping[str, Any]], Mapping[str, Any]], dict]] = None

    def released(self, text: str, truth: Any) -> Optional[Any]:
        """``parse_released``, or ``parse_answer`` when the task has no released reading."""
        return (self.parse_released or self.parse_answer)(text, truth)

    def loose(self, text: str, truth: Any) -> Optional[Any]:
        """``parse_loose``, or ``parse_answer`` on one lenient candidate."""
        return (self.parse_loose or self.parse_answer)(text, truth)

    def to_grade(self, answer: Any, truth: Any) -> Grade:
        """``grade`` as a :class:`Grade` (a plain number becomes smooth = acc, binary = number == 1)."""
        graded = self.grade(answer, truth)
        if isinstance(graded, Grade):
            return graded
        value = min(1.0, max(0.0, float(graded)))
        return Grade(value, 1.0 if value == 1.0 else 0.0, value)

    def priors(self, truths: Sequence[Any], infos: Sequence[Mapping[str, Any]], options: Mapping[str, Any]) -> dict:
        """Random-guess and best-constant figures: the task's ``prior``, else :func:`enumeration_prior`."""
        if self.prior is not None:
            return self.prior(truths, infos, options)
        return enumeration_prior(self, truths, infos, options)


def enumeration_prior(
    reward: Reward, truths: Sequence[Any], infos: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
) -> dict:
    """Exact priors of a task with a finite answer space (the default ``Reward.prior``).

    Random guess: uniform over each row's ``answer_space`` (or over the distinct truths of the
    rows). Constant answers: every answer of any row's space, in first-seen order (ties: the first).

    >>> toy = Reward(parse_answer=lambda t, truth: t.strip() or None, grade=lambda a, t: float(a == t),
    ...              answer_space=lambda truth, info, options: ("forward", "backward"))
    >>> p = enumeration_prior(toy, ["forward", "forward", "backward"], [{}] * 3, {})
    >>> p["random_acc"], p["best_constant"], round(p["best_constant_acc"], 4)
    (0.5, 'forward', 0.6667)
    """
    distinct = list(dict.fromkeys(truths))
    spaces = [
        list(reward.answer_space(truth, info, options)) if reward.answer_space else distinct
        for truth, info in zip(truths, infos)
    ]
    random_score = random_acc = 0.0
    for truth, space in zip(truths, spaces):
        grades = [reward.to_grade(a, truth) for a in space]
        random_score += sum(g.smooth for g in grades) / len(grades)
        random_acc += sum(g.acc for g in grades) / len(grades)
    constants = list(dict.fromkeys(a for space in spaces for a in space))
    mean_score, mean_acc = [], []
    for answer in constants:
        grades = [reward.to_grade(answer, truth) for truth in truths]
        mean_score.append(sum(g.smooth for g in grades) / len(grades))
        mean_acc.append(sum(g.acc for g in grades) / len(grades))
    best = max(range(len(constants)), key=lambda i: (mean_score[i], -i))
    best_acc = max(range(len(constants)), key=lambda i: (mean_acc[i], -i))
    n = len(truths)
    return {
        "random_acc": random_acc / n,
        "random_score": random_score / n,
        "best_constant": reward.render(constants[best]),
        "best_constant_score": mean_score[best],
        "best_constant_acc": mean_acc[best],
        "best_acc_constant": reward.render(constants[best_acc]),
        "best_acc_constant_acc": mean_acc[best_acc],
    }


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
