"""Golden prompts: the released vqa.py and vtg.py templates, pinned verbatim (vtg.py: no period after the query)."""

from __future__ import annotations

from recipes.videossr.eval.downstream.prompts import grounding_prompt, multiple_choice_prompt


def test_multiple_choice_prompt_golden():
    assert multiple_choice_prompt("Q?\nA. x\nB. y") == "Q?\nA. x\nB. y\nAnswer with the option letter directly."


def test_grounding_prompt_golden():
    assert grounding_prompt("person turns on the light") == (
        "Please find the visual event described by a sentence in the video, determining its starting and ending "
        "times. The format should be: 'The event happens in the start time - end time'. For example, The event "
        "'person turn a light on' happens in the 24.3 - 30.4 seonds. Now I will give you the textual sentence: "
        "person turns on the light Please return its start time and end time."
    )
