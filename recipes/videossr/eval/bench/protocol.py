"""The paper's downstream protocol, from the released ``eval/vqa.py`` and ``eval/vtg.py`` (kept verbatim).

Frames: fps 2, at most 32 / 48 / 64 frames (one run per budget), 128*128..512*512 pixels per frame.
Decoding: greedy, 128 new tokens, no system prompt. vqa.py asks greedy; vtg.py does not pass
``do_sample=False`` (so it followed the checkpoint's generation_config): here every benchmark is greedy.

Multiple choice: the options are written into the question one per line as ``"A. text"``
(``OPTION_FORMAT``), then ``"\\nAnswer with the option letter directly."``; the prediction is the
output's first character, compared with the answer letter as is (vqa.py neither strips nor
upper-cases the output: ``"(A"`` and ``"a"`` are wrong, an empty output is an error).

Temporal grounding: vtg.py's prompt exactly (its typo "seonds", and no period after the query); the
first ``a - b`` pair of numbers in the output (``min``, ``max``); IoU with the ground truth.

>>> multiple_choice_prompt(with_options("What is shown?", ["a cat", "a dog"]))
'What is shown?\\nA. a cat\\nB. a dog\\nAnswer with the option letter directly.'
>>> first_character("B. a dog"), first_character("")
('B', None)
>>> first_interval("The event happens in the 24.3 - 30.4 seonds.")
(24.3, 30.4)
"""

from __future__ import annotations

import re
import string
from typing import Sequence

from recipes.videossr.eval.downstream import metrics as downstream_metrics

FPS = 2.0
FRAME_BUDGETS = (32, 48, 64)
MAX_PIXELS = 512 * 512
MIN_PIXELS = 128 * 128
MAX_NEW_TOKENS = 128

MC_TEMPLATE = "{question}\nAnswer with the option letter directly."  # vqa.py PROMPT_TEMPLATE
OPTION_FORMAT = "{letter}. {text}"  # one option per line after the question

# vtg.py PROMPT_TEMPLATE, byte for byte ("seonds" and the missing period after {question} included).
TG_TEMPLATE = (
    "Please find the visual event described by a sentence in the video, determining its starting and "
    "ending times. The format should be: 'The event happens in the start time - end time'. For example, "
    "The event 'person turn a light on' happens in the 24.3 - 30.4 seonds. Now I will give you the "
    "textual sentence: {question} Please return its start time and end time."
)
# vtg.py parse_timestamp_answer: the first match in the stripped output.
TG_PAIR = re.compile(r"(\d+\.?\d*)\s*-\s*(\d+\.?\d*)")

RECALL_THRESHOLDS = downstream_metrics.RECALL_THRESHOLDS  # (0.3, 0.5, 0.7)


def with_options(question: str, options: Sequence[str], letters: str = string.ascii_uppercase) -> str:
    """``question`` followed by one ``"A. option"`` line per option (``OPTION_FORMAT``)."""
    if len(options) > len(letters):
        raise ValueError(f"{len(options)} options but only {len(letters)} letters")
    lines = [OPTION_FORMAT.format(letter=letter, text=str(text).strip()) for letter, text in zip(letters, options)]
    return "\n".join([question.rstrip("\n"), *lines])


def multiple_choice_prompt(question: str) -> str:
    """vqa.py's prompt around a question that already lists its options."""
    return MC_TEMPLATE.format(question=question)


def grounding_prompt(query: str) -> str:
    """vtg.py's prompt around a grounding query (the query is inserted as given).

    >>> grounding_prompt("person opens a door").endswith("sentence: person opens a door Please return its start time and end time.")
    True
    """
    return TG_TEMPLATE.format(question=query)


def first_character(output: str) -> str | None:
    """vqa.py's prediction: ``output[0]``, untouched; None for an empty output (vqa.py: an error)."""
    return output[0] if output else None


def first_interval(output: str) -> tuple[float, float] | None:
    """vtg.py's prediction: the first ``a - b`` pair, ordered; None when there is none."""
    if not output:
        return None
    match = TG_PAIR.search(output.strip())
    if not match:
        return None
    start, end = float(match.group(1)), float(match.group(2))
    return min(start, end), max(start, end)


def interval_iou(pred: tuple[float, float], truth: tuple[float, float]) -> float:
    """vtg.py's temporal IoU (0 when the union is empty): the grounding reward's ``iou``, through the
    downstream metrics' ``interval_iou`` (one definition for training and every evaluation).

    >>> interval_iou((0.0, 10.0), (5.0, 15.0))
    0.3333333333333333
    """
    return downstream_metrics.interval_iou(pred, truth)


def letter_of(index: int, letters: str = string.ascii_uppercase) -> str:
    """The option letter of a 0-based index (``1 -> 'B'``).

    >>> letter_of(2)
    'C'
    """
    if not 0 <= int(index) < len(letters):
        raise ValueError(f"option index {index} out of range")
    return letters[int(index)]


def yes_no_key(answer: str) -> str:
    """The first character a Yes/No answer must start with (``"Yes" -> "Y"``): vqa.py compares the
    output's first character, which can never equal the whole word.

    >>> yes_no_key("No."), yes_no_key(" yes")
    ('N', 'Y')
    """
    word = str(answer).strip().rstrip(".").lower()
    if word not in ("yes", "no"):
        raise ValueError(f"{answer!r} is not Yes/No")
    return word[0].upper()
