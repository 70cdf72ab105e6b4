"""Pretext tasks: one module per task, each ending with its declaration ``TASK = PretextTask(...)``.

``TASKS`` holds the shipped tasks' declarations by name; ``get_task`` also resolves a task named by
import path (a fork's ``my_lab.tasks.arrow_of_time``, see ``registry``). A declaration carries
``subtypes``, ``default_subtype``, ``options`` and ``make_sample(spec, ctx) -> row``; its rows get
``data_source = videossr/<task>/<subtype>`` (``rewards.naming``), which the reward router routes.

>>> {"counting", "grounding", "jigsaw"} <= set(TASKS)
True
>>> TASKS["counting"].subtypes["hard"]
'hard'
"""

from __future__ import annotations

from data_prep.tasks.registry import (
    PretextTask,
    find_task,
    get_task,
    known_tasks,
    register_task,
    register_tasks,
    shipped_tasks,
)

TASKS: dict[str, PretextTask] = shipped_tasks()

__all__ = [
    "TASKS",
    "PretextTask",
    "find_task",
    "get_task",
    "known_tasks",
    "register_task",
    "register_tasks",
    "shipped_tasks",
]
