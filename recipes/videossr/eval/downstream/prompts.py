"""Prompts of the paper's downstream evaluation (kept verbatim; golden tests pin them).

>>> multiple_choice_prompt("Which colour?\\nA. red\\nB. blue")
'Which colour?\\nA. red\\nB. blue\\nAnswer with the option letter directly.'
"""

from __future__ import annotations

# The paper: "{question}\nAnswer with the option letter directly."
MC_SUFFIX = "Answer with the option letter directly."

# lmms-eval's charades_sta task (lmms_eval/tasks/charades_sta/charades.yaml, default kwargs),
# verbatim, typo "seonds" included: the paper reports grounding with exactly this prompt.
TG_PRE_PROMPT = (
    "Please find the visual event described by a sentence in the video, determining its starting and "
    "ending times. The format should be: 'The event happens in the start time - end time'. For example, "
    "The event 'person turn a light on' happens in the 24.3 - 30.4 seonds. Now I will give you the "
    "textual sentence: "
)
TG_POST_PROMPT = "Please return its start time and end time."


def multiple_choice_prompt(question: str) -> str:
    """The question (with its options) followed by the paper's answer instruction."""
    return f"{question}\n{MC_SUFFIX}"


def grounding_prompt(query: str) -> str:
    """lmms-eval's charades_sta text: pre-prompt, the query, '. ', post-prompt.

    >>> grounding_prompt("person opens a door").endswith("person opens a door. Please return its start time and end time.")
    True
    """
    return f"{TG_PRE_PROMPT}{query}. {TG_POST_PROMPT}"
