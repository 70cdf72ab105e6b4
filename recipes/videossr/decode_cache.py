"""A byte-bounded, thread-safe cache of decoded clips for the rollout workers.

verl 0.9.1 decodes a prompt's videos once per rollout SESSION (``rollout.n`` times per prompt), and
the n sessions of one prompt start together. A plain "look up, else decode" cache would miss n
times at once, so a key being decoded is marked in flight and the other sessions wait for that one
decode instead of starting their own.

>>> import torch
>>> cache = ClipCache(max_bytes=1 << 20)
>>> cache.get_or_compute(("a",), lambda: (torch.zeros(2, 3, 4, 4), {"fps": 2.0}))[0].shape
torch.Size([2, 3, 4, 4])
>>> cache.stats()["decodes"], cache.get_or_compute(("a",), lambda: 1 / 0)[1], cache.stats()["hits"]
(1, {'fps': 2.0}, 1)
"""

from __future__ import annotations

from recipes.videossr.processor_cache import ProcessorCache


class ClipCache(ProcessorCache):
    """LRU cache ``key -> (frames, metadata)`` bounded by the bytes of its tensors.

    The in-flight LRU of ``recipes.videossr.processor_cache`` with the decode stage's statistics.
    Values are returned as stored (tensors are shared, never copied): consumers only read them.
    A failing ``compute`` is not cached; its exception reaches every waiting caller.
    """

    def stats(self) -> dict[str, int]:
        counts = super().stats()
        return {"clips": counts["entries"], "bytes": counts["bytes"], "hits": counts["hits"],
                "decodes": counts["misses"]}
