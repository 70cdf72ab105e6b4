"""Verifiable rewards of the VideoSSR pretext tasks (grounding, counting, jigsaw, and any task a
fork declares, see ``data_prep.tasks.registry``).

Public API:
  ``rewards.score(data_source, response, ground_truth, *, parse_mode, reward_mode, format_weight)``
  ``rewards.verl_reward.compute_score``: verl's entry point (``HYDRA_OVERRIDES`` lists the keys)
  ``rewards.priors.answer_priors(rows)``: random-guess and best-constant figures per data_source

``score`` and ``RESULT_KEYS`` load on first use, so the bottom-layer modules (``rewards.naming``,
``rewards.tasks.base``) import without the router.

>>> from rewards import score
>>> score("videossr/jigsaw/n6", "341562", "341562")["acc"]
1.0
"""

from __future__ import annotations

from typing import Any

__all__ = ["RESULT_KEYS", "score"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rewards import scoring

        return getattr(scoring, name)
    raise AttributeError(f"module 'rewards' has no attribute {name!r}")
