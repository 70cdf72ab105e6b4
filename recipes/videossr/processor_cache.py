"""A byte-bounded, thread-safe cache of HF processor results shared by the rollout sessions of a prompt.

GRPO runs ``rollout.n`` sessions of one prompt in the same agent-loop worker, on the same frame
tensors (``VideoSSRDataset``'s decode cache hands every session the same objects). verl 0.9.1 still
calls the Qwen-VL processor in each session: once to build the prompt, once more in post-processing
(``AgentLoopWorker._compute_multi_modal_inputs``). This cache lets the n sessions share that work.

Keys are content identities: the text or token ids, the ``id()`` of each frame tensor, the clips'
metadata and the processor kwargs. ``recipes.videossr.agent_loop`` caches three things: each
Qwen3-VL clip's expansion, verl's builder result (ids and features) for other families, and the
video processor's features, per clip (computed by the prompt build, reused by post-processing: the
sessions' answers differ, their clips do not; the processor's text side still runs per session).
Bytes are counted per tensor storage, so the builder's features and the video features they are
count once. An entry holds strong references to the objects whose ``id()`` is
in its key, so an id cannot be reused by another tensor while the entry lives. As in
``recipes.videossr.decode_cache``, a key being computed is marked in flight and concurrent identical
requests wait for that one computation.

>>> cache = ProcessorCache(max_bytes=1 << 20)
>>> frames = torch.zeros(2, 3, 4, 4)
>>> key = ("clip", identity(frames))
>>> cache.get_or_compute(key, lambda: [1, 2, 3], refs=(frames,))
[1, 2, 3]
>>> cache.get_or_compute(key, lambda: 1 / 0, refs=(frames,)), cache.stats()["hits"], cache.stats()["misses"]
([1, 2, 3], 1, 1)
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Any, Callable, Hashable, Iterable, Optional

import torch

DEFAULT_MB = 1024  # data.videossr.processor_cache_mb


def _storages(value: Any, found: Optional[dict] = None) -> dict[Hashable, int]:
    """``{storage: bytes}`` of the tensors and arrays in ``value`` (a view counts its whole storage once).

    A torch storage is named by its data pointer (unique while the entry holding it lives), a numpy
    array by the ``id()`` of the array owning its memory.
    """
    found = {} if found is None else found
    if value is None or isinstance(value, (int, float, str, bytes)):
        pass
    elif isinstance(value, torch.Tensor):
        storage = value.untyped_storage()
        found[("pt", value.device.type, storage.data_ptr())] = storage.nbytes()
    elif hasattr(value, "nbytes") and hasattr(value, "base") and not isinstance(value, (str, bytes)):
        owner = value
        while getattr(owner, "base", None) is not None and hasattr(owner.base, "nbytes"):
            owner = owner.base
        found[("np", id(owner))] = int(owner.nbytes)  # numpy arrays
    elif isinstance(value, dict) or hasattr(value, "values") and hasattr(value, "keys"):
        for v in value.values():
            _storages(v, found)
    elif isinstance(value, (tuple, list)):
        for v in value:
            if not isinstance(v, (int, float, str)):  # token ids: nothing to count
                _storages(v, found)
    return found


def identity(value: Any) -> Any:
    """A hashable identity of processor media: ``id()`` of tensors/arrays/images, content of the rest."""
    if isinstance(value, (tuple, list)):
        return tuple(identity(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return ("id", id(value))


def objects(value: Any) -> list:
    """The objects ``identity`` names by ``id()`` (what a cache entry must keep alive)."""
    if isinstance(value, (tuple, list)):
        return [o for v in value for o in objects(v)]
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return []
    return [value]


def kwargs_key(kwargs: Any) -> str:
    return json.dumps(kwargs or {}, sort_keys=True, default=repr)


class ProcessorCache:
    """LRU cache ``key -> value`` bounded by the bytes of the tensors in its values.

    Bytes are counted per tensor storage: entries sharing tensors (a builder's features and the
    video features it was built from) count them once. Values are returned as stored (callers copy
    what they hand on). A failing ``compute`` is not cached; its exception reaches every waiting
    caller. ``max_bytes=0`` disables the cache (every call computes and nothing is kept).
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[Any, tuple, dict]] = OrderedDict()
        self._in_flight: dict[Hashable, Future] = {}
        self._held: dict[Hashable, list[int]] = {}  # storage -> [entries holding it, bytes]
        self._bytes = 0
        self._hits = 0
        self._misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any], refs: Iterable[Any] = ()) -> Any:
        """``compute()``'s value for ``key``; ``refs`` are kept alive as long as the entry is."""
        if self.max_bytes <= 0:
            return compute()
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
                self._hits += 1  # served by another session's computation
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
            self._misses += 1  # computed (a failed computation is neither cached nor counted)
            del self._in_flight[key]
            storages = _storages(value)
            if sum(storages.values()) <= self.max_bytes and key not in self._items:
                self._items[key] = (value, tuple(refs), storages)
                for storage, size in storages.items():
                    held = self._held.setdefault(storage, [0, size])
                    held[0] += 1
                    self._bytes += size if held[0] == 1 else 0
                self._evict()
        waiting.set_result(value)
        return value

    def peek(self, key: Hashable) -> Any:
        """The stored value for ``key`` or None (no computation, no statistics, no LRU update)."""
        with self._lock:
            item = self._items.get(key)
            return None if item is None else item[0]

    def discard(self, key: Hashable) -> None:
        """Drop ``key``'s entry if it is stored."""
        with self._lock:
            item = self._items.pop(key, None)
            if item is not None:
                self._release(item[2])

    def _release(self, storages: dict) -> None:
        for storage in storages:
            held = self._held[storage]
            held[0] -= 1
            if held[0] == 0:
                del self._held[storage]
                self._bytes -= held[1]

    def _evict(self) -> None:
        while self._bytes > self.max_bytes and self._items:
            _, (_, _, storages) = self._items.popitem(last=False)
            self._release(storages)

    def resize(self, max_bytes: int) -> None:
        """Change the budget (evicting least recently used entries if it shrank)."""
        with self._lock:
            self.max_bytes = int(max_bytes)
            self._evict()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._held.clear()
            self._bytes = self._hits = self._misses = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._items), "bytes": self._bytes, "hits": self._hits, "misses": self._misses}


PROCESSOR_CACHE = ProcessorCache(max_bytes=DEFAULT_MB << 20)  # one per worker process


def configure(data_config: Any) -> ProcessorCache:
    """Size the process cache from ``data.videossr.processor_cache_mb`` (missing = the default)."""
    block = (data_config.get("videossr") if data_config is not None else None) or {}
    budget = int(block.get("processor_cache_mb", DEFAULT_MB)) << 20
    if budget != PROCESSOR_CACHE.max_bytes:
        PROCESSOR_CACHE.resize(budget)
    return PROCESSOR_CACHE
