"""Verifiable rewards of the VideoSSR pretext tasks (grounding, counting, jigsaw).

Public API:
  ``rewards.score(data_source, response, ground_truth, *, parse_mode, reward_mode, format_weight)``
  ``rewards.verl_reward.compute_score``: verl's entry point (``HYDRA_OVERRIDES`` lists the keys)
  ``rewards.priors.answer_priors(rows)``: random-guess and best-constant figures per data_source

>>> score("videossr/jigsaw/n6", "341562", "341562")["acc"]
1.0
"""

from rewards.scoring import RESULT_KEYS, score

__all__ = ["RESULT_KEYS", "score"]
