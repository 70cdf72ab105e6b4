"""ClipCache's byte bound: what it keeps, what it evicts first, and what it never stores."""

from __future__ import annotations

import torch

from recipes.videossr.decode_cache import ClipCache

CLIP_BYTES = 4 * 100  # one float32 clip of 100 values


def clip(value: float):
    return torch.full((100,), value, dtype=torch.float32), {"fps": 2.0}


def fill(cache: ClipCache, keys):
    for key in keys:
        cache.get_or_compute(key, lambda key=key: clip(float(ord(key))))


def cached(cache: ClipCache, key) -> bool:
    """Whether ``key`` is stored (a miss calls compute, which raises here; nothing gets stored)."""

    def not_stored():
        raise KeyError(key)

    try:
        cache.get_or_compute(key, not_stored)
    except KeyError:
        return False
    return True


def test_bytes_stay_within_max_bytes_and_the_least_recently_used_clip_goes_first():
    cache = ClipCache(max_bytes=3 * CLIP_BYTES)
    fill(cache, "abc")
    assert cache.stats() == {"clips": 3, "bytes": 3 * CLIP_BYTES, "hits": 0, "decodes": 3}
    assert cached(cache, "a")  # a is now the most recently used; b the least
    fill(cache, "d")
    stats = cache.stats()
    assert stats["clips"] == 3 and stats["bytes"] == 3 * CLIP_BYTES <= cache.max_bytes
    assert [k for k in "abcd" if cached(cache, k)] == ["a", "c", "d"]


def test_a_clip_larger_than_the_budget_is_returned_but_not_stored():
    cache = ClipCache(max_bytes=3 * CLIP_BYTES)
    fill(cache, "ab")
    big = (torch.zeros(1000), {"fps": 1.0})  # 4000 bytes > 1200
    assert cache.get_or_compute("big", lambda: big) is big
    # Neither stored nor allowed to push out the clips that fit.
    assert cache.stats() == {"clips": 2, "bytes": 2 * CLIP_BYTES, "hits": 0, "decodes": 3}
    assert not cached(cache, "big")
    assert cached(cache, "a") and cached(cache, "b")


def test_resize_evicts_least_recently_used_clips_down_to_the_new_budget():
    cache = ClipCache(max_bytes=4 * CLIP_BYTES)
    fill(cache, "abcd")
    assert cached(cache, "a")  # order of use, oldest first: b c d a
    cache.resize(2 * CLIP_BYTES)
    assert cache.stats()["bytes"] == 2 * CLIP_BYTES and cache.max_bytes == 2 * CLIP_BYTES
    assert [k for k in "abcd" if cached(cache, k)] == ["a", "d"]
