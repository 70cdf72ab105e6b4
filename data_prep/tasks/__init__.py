"""Registry of pretext tasks: ``TASKS[name]`` is a module with ``SUBTYPES`` and ``make_sample``.

Adding a task = one module following ``base.py`` (``SUBTYPES``, ``DEFAULT_SUBTYPE``,
``make_sample(spec, ctx) -> row``) + one line here; its rows get
``data_source = videossr/<task>/<subtype>`` (``rewards.naming``), which the rewards package routes.

>>> sorted(TASKS)
['counting', 'grounding', 'jigsaw']
>>> TASKS["counting"].SUBTYPES["hard"]
'hard'
"""

from __future__ import annotations

from types import ModuleType

from data_prep.tasks import counting, grounding, jigsaw

TASKS: dict[str, ModuleType] = {
    "grounding": grounding,
    "counting": counting,
    "jigsaw": jigsaw,
}


def get_task(name: str) -> ModuleType:
    """The task module called ``name``; ``ValueError`` listing the known ones otherwise."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known: {sorted(TASKS)}")
    return TASKS[name]
