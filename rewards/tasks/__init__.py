"""The reward halves of the shipped pretext tasks (``grounding``, ``counting``, ``jigsaw``).

Each module here parses and grades one task's answers and ends with ``REWARD``, a
:class:`~rewards.tasks.base.Reward`. A task's one declaration (generator, options, subtypes,
VIUBench columns and this reward) is ``data_prep.tasks.<name>.TASK``; the registry that the reward
router, the builder and the evaluation read is ``data_prep.tasks.registry``. This package stays
import-light on purpose: it imports nothing from ``data_prep``.

>>> from rewards.tasks import grounding
>>> grounding.REWARD.render((12.5, 20.25))
'12.5-20.2'
"""

from __future__ import annotations

from rewards.tasks.base import Grade, Reward

__all__ = ["Grade", "Reward"]
