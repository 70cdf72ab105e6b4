"""Adaptive difficulty (beyond the paper): keep every GRPO group informative during training.

Three pieces, each plugged into verl 0.9.1 through its own extension points (no fork):

* ``controller``: per-step group statistics (zero-variance fraction split into all-high and
  all-low, mean reward, parse failures, per task / subtype / level) and ``LevelController``,
  which moves each family's difficulty level to keep its pass rate in a target band;
* ``replay_buffer.AdaptiveReplayBuffer``: verl's V1 replay buffer (selected with
  ``trainer.v1.sampler.custom_sampler``) that measures every sampled batch (and the groups the
  DAPO filter, ``algorithm.filter_groups``, evicts), returns the statistics with verl's own
  sampling metrics (so they reach every configured logger) and feeds the controller;
* ``dataset.AdaptiveVideoSSRDataset``: the recipe's dataset (``data.custom_cls``) that serves,
  for each index verl's sampler draws, a row of the same family at the controller's level, and
  saves the controller's state in verl's dataloader checkpoint (``data.pt``).

Turn it on with one preset: ``+adaptive=levels`` (``recipes/videossr/config/adaptive/``); see the
README section "Adaptive difficulty (beyond the paper)".
"""
