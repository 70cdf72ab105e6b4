"""Registry of the pretext tasks the reward router knows, keyed by ``data_source``'s task part.

Adding a task: write ``rewards/tasks/<name>.py`` that builds a ``Task`` (see ``base.py``) and add
it to the tuple below.

>>> sorted(TASKS)
['counting', 'grounding', 'jigsaw']
"""

from __future__ import annotations

from rewards.tasks import counting, grounding, jigsaw
from rewards.tasks.base import Grade, Task

TASKS: dict[str, Task] = {task.name: task for task in (grounding.TASK, counting.TASK, jigsaw.TASK)}

__all__ = ["TASKS", "Grade", "Task"]
