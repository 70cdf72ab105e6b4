"""A byte-bounded, thread-safe cache of decoded clips for the rollout workers.

verl 0.9.1 decodes a prompt's videos once per rollout SESSION (``rollout.n`` times per prompt), and
the n sessions of one prompt start together. A plain "look up, else decode" cache would miss n
times at once, so a key being decoded is marked in flight and the other sessions wait for that one
decode instead of starting their own.

>>> cache = ClipCache(max_bytes=1 << 20)
>>> cache.get_or_compute(("a",), lambda: (torch.zeros(2, 3, 4, 4), {"fps": 2.0}))[0].shape
torch.Size([2, 3, 4, 4])
>>> cache.stats()["decodes"], cache.get_or_compute(("a",), lambda: 1 / 0)[1], cache.stats()["hits"]
(1, {'fps': 2.0}, 1)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Any, Callable, Hashable

import torch


def _nbytes(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.element_size() * value.nelement()
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 0


class ClipCache:
    """LRU cache ``key -> (frames, metadata)`` bounded by the bytes of its tensors.

    Values are returned as stored (tensors are shared, never copied): consumers only read them.
    A failing ``compute`` is not cached; its exception reaches every waiting caller.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._in_flight: dict[Hashable, Future] = {}
        self._bytes = 0
        self._hits = 0
        self._decodes = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self._hits += 1
                return self._items[key][0]
            waiting = self._in_flight.get(key)
            if waiting is None:
                waiting = self._in_flight[key] = Future()
                owner = True
            else:
                self._hits += 1  # served by another session's decode
                owner = False
        if not owner:
            return waiting.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._in_flight[key]
            waiting.set_exception(exc)
            raise
        with self._lock:
            self._decodes += 1
            del self._in_flight[key]
            size = _nbytes(value)
            if size <= self.max_bytes:
                self._items[key] = (value, size)
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _, (_, evicted) = self._items.popitem(last=False)
                    self._bytes -= evicted
        waiting.set_result(value)
        return value

    def resize(self, max_bytes: int) -> None:
        """Change the budget (evicting least recently used clips if it shrank)."""
        with self._lock:
            self.max_bytes = int(max_bytes)
            while self._bytes > self.max_bytes and self._items:
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = self._hits = self._decodes = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"clips": len(self._items), "bytes": self._bytes, "hits": self._hits, "decodes": self._decodes}
