"""recipes/videossr/processor_cache.py: bytes-bounded LRU, id() safety, in-flight sharing, sizing."""

from __future__ import annotations

import gc
import threading
import time

import pytest
import torch
from omegaconf import OmegaConf

from recipes.videossr import processor_cache
from recipes.videossr.dataset import recipe_options
from recipes.videossr.processor_cache import ProcessorCache, identity, objects


def test_hits_and_misses_and_fresh_values():
    cache = ProcessorCache(max_bytes=1 << 20)
    frames = torch.zeros(2, 3, 4, 4)
    calls = []

    def compute():
        calls.append(1)
        return {"pixel_values_videos": torch.ones(4)}

    key = ("mm", identity([(frames, {"fps": 2.0})]))
    first = cache.get_or_compute(key, compute, refs=objects([(frames, {})]))
    again = cache.get_or_compute(key, compute, refs=objects([(frames, {})]))
    assert again is first and len(calls) == 1
    assert cache.stats() == {"entries": 1, "bytes": 16, "hits": 1, "misses": 1}
    other = ("mm", identity([(frames, {"fps": 3.0})]))  # same tensor, other metadata: another entry
    cache.get_or_compute(other, compute)
    assert len(calls) == 2 and cache.stats()["misses"] == 2


def test_eviction_is_by_tensor_bytes_least_recently_used_first():
    cache = ProcessorCache(max_bytes=3 * 400)  # three 100-float32 values
    value = lambda: torch.zeros(100)  # noqa: E731
    for k in "abc":
        cache.get_or_compute(k, value)
    cache.get_or_compute("a", value)  # a becomes most recent
    cache.get_or_compute("d", value)  # evicts b
    assert cache.stats()["entries"] == 3 and cache.stats()["bytes"] == 1200
    misses = cache.stats()["misses"]
    cache.get_or_compute("a", lambda: 1 / 0)
    cache.get_or_compute("b", value)
    assert cache.stats()["misses"] == misses + 1  # b was gone, a was kept
    cache.get_or_compute("big", lambda: torch.zeros(1000))  # larger than the budget: returned, not kept
    assert "big" not in cache._items
    cache.resize(400)
    assert cache.stats()["entries"] == 1 and cache.stats()["bytes"] == 400


def test_an_entry_keeps_its_keys_tensors_alive_so_an_id_cannot_be_reused():
    cache = ProcessorCache(max_bytes=1 << 20)
    frames = torch.zeros(8, 3, 4, 4)
    key = ("clip", identity(frames))
    cache.get_or_compute(key, lambda: (1, 2), refs=objects(frames))
    old_id = id(frames)
    del frames
    gc.collect()
    fresh = [torch.ones(8, 3, 4, 4) for _ in range(200)]  # would reuse the freed address if it were freed
    assert all(id(t) != old_id for t in fresh)
    assert cache._items[key][1][0].sum() == 0  # the entry still holds the original tensor


def test_concurrent_identical_requests_compute_once():
    cache = ProcessorCache(max_bytes=1 << 20)
    started, calls = threading.Event(), []

    def compute():
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return [7]

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [[7]] * 8
    assert cache.stats()["hits"] == 7 and cache.stats()["misses"] == 1


def test_a_failing_computation_reaches_every_waiter_and_is_not_cached():
    cache = ProcessorCache(max_bytes=1 << 20)
    with pytest.raises(ZeroDivisionError):
        cache.get_or_compute("k", lambda: 1 / 0)
    assert cache.get_or_compute("k", lambda: 5) == 5 and cache.stats()["entries"] == 1


def test_zero_disables_the_cache():
    cache = ProcessorCache(max_bytes=0)
    calls = []
    for _ in range(3):
        cache.get_or_compute("k", lambda: calls.append(1) or torch.zeros(1))
    assert len(calls) == 3 and cache.stats() == {"entries": 0, "bytes": 0, "hits": 0, "misses": 0}


def test_the_option_is_read_from_data_videossr_and_accepted_by_the_dataset():
    try:
        assert processor_cache.configure(OmegaConf.create({"videossr": {"processor_cache_mb": 0}})).max_bytes == 0
        assert processor_cache.configure(OmegaConf.create({})).max_bytes == processor_cache.DEFAULT_MB << 20
        assert recipe_options({"videossr": {"processor_cache_mb": 64}})["processor_cache_mb"] == 64
    finally:
        processor_cache.PROCESSOR_CACHE.resize(processor_cache.DEFAULT_MB << 20)


def test_entries_sharing_tensors_count_their_bytes_once():
    cache = ProcessorCache(max_bytes=1 << 20)
    features = {"pixel_values_videos": torch.zeros(100), "video_grid_thw": torch.zeros(2, dtype=torch.int64)}
    cache.get_or_compute("video", lambda: features)
    cache.get_or_compute("builder", lambda: ([1, 2, 3], dict(features)))  # the same tensors
    cache.get_or_compute("view", lambda: features["pixel_values_videos"][:10])  # a view: the same storage
    assert cache.stats()["bytes"] == 400 + 16 and cache.stats()["entries"] == 3
    cache.discard("video")
    cache.discard("view")
    assert cache.stats()["bytes"] == 416  # still held by "builder"
    cache.discard("builder")
    cache.discard("missing")
    assert cache.stats() == {"entries": 0, "bytes": 0, "hits": 0, "misses": 3}


def test_peek_neither_computes_nor_counts():
    cache = ProcessorCache(max_bytes=1 << 20)
    assert cache.peek("k") is None
    value = cache.get_or_compute("k", lambda: [1])
    assert cache.peek("k") is value and cache.stats()["hits"] == 0 and cache.stats()["misses"] == 1


def test_token_ids_are_not_walked_for_bytes():
    cache = ProcessorCache(max_bytes=1 << 20)
    cache.get_or_compute("ids", lambda: tuple(range(100_000)))
    assert cache.stats()["bytes"] == 0 and cache.stats()["entries"] == 1
