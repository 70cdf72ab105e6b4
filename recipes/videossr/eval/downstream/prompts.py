"""Prompts of the paper's downstream evaluation: the released vqa.py / vtg.py templates.

One source: ``recipes.videossr.eval.bench.protocol`` (golden tests pin them there and here).

>>> multiple_choice_prompt("Which colour?\\nA. red\\nB. blue")
'Which colour?\\nA. red\\nB. blue\\nAnswer with the option letter directly.'
>>> grounding_prompt("person opens a door").endswith("sentence: person opens a door Please return its start time and end time.")
True
"""

from __future__ import annotations

from recipes.videossr.eval.bench.protocol import MC_TEMPLATE, TG_TEMPLATE, grounding_prompt, multiple_choice_prompt

__all__ = ["MC_TEMPLATE", "TG_TEMPLATE", "grounding_prompt", "multiple_choice_prompt"]
