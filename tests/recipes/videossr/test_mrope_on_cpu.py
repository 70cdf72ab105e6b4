"""recipes/videossr/mrope.py: vLLM 0.24's Qwen2.5-VL M-RoPE rule, on hand-worked prompts.

The same function is compared with vLLM's own ``get_mrope_input_positions`` on real rows in
``tests/vllm`` (``make test-vllm``).
"""

from __future__ import annotations

import pytest

from recipes.videossr.mrope import qwen2_5_vl_positions, round_to_dtype

V, I = 9, 8  # video and image pad ids in these examples


@pytest.mark.parametrize(
    "ids, grids, seconds, tps, merge, expected",
    [
        # text only
        ([1, 2, 3], [], [], 2, 1, [[0, 1, 2]] * 3),
        # one clip of 2 temporal x 1 x 2 patches, 1 s per patch, 2 positions per second
        ([1, V, V, V, V, 2], [(2, 1, 2)], [1.0], 2, 1,
         [[0, 1, 1, 3, 3, 4], [0, 1, 1, 1, 1, 4], [0, 1, 2, 1, 2, 4]]),
        # 0.17 s per patch: floor(t * 0.34) -> 0, 0, 0 (t = 0..2), temporal stays at the start
        ([V, V, V, 5], [(3, 1, 1)], [0.17], 2, 1, [[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]]),
        # spatial merge 2: a 1 x 4 x 2 grid is 1 x 2 x 1 tokens
        ([V, V, 7], [(1, 4, 2)], [1.0], 2, 2, [[0, 0, 2], [0, 1, 2], [0, 0, 2]]),
        # two clips: the second starts after the first's largest position + the text between
        ([V, V, 4, V, V], [(2, 1, 1), (1, 1, 2)], [0.5, 1.0], 2, 1,
         [[0, 1, 2, 3, 3], [0, 0, 2, 3, 3], [0, 0, 2, 3, 4]]),
    ],
)
def test_positions(ids, grids, seconds, tps, merge, expected):
    got = qwen2_5_vl_positions(ids, video_token_id=V, video_grids=grids, seconds_per_grid=seconds,
                               tokens_per_second=tps, spatial_merge_size=merge)
    assert got.tolist() == expected


def test_images_take_no_temporal_scaling():
    got = qwen2_5_vl_positions([I, I, 3, V, V], video_token_id=V, video_grids=[(2, 1, 1)], seconds_per_grid=[2.0],
                               tokens_per_second=2, spatial_merge_size=1, image_token_id=I, image_grids=[(1, 1, 2)])
    assert got.tolist() == [[0, 0, 2, 3, 7], [0, 0, 2, 3, 3], [0, 1, 2, 3, 3]]


@pytest.mark.parametrize(
    "ids, grids, message",
    [([V, V, V], [(1, 1, 2)], "more placeholder runs"), ([V, 1, V], [(1, 1, 2)], "is not 2 tokens")],
)
def test_placeholders_must_match_the_grids(ids, grids, message):
    with pytest.raises(ValueError, match=message):
        qwen2_5_vl_positions(ids, video_token_id=V, video_grids=grids, seconds_per_grid=[1.0] * len(grids),
                             tokens_per_second=2, spatial_merge_size=1)


@pytest.mark.parametrize("dtype, value, stored", [("bfloat16", 1 / 6, 0.1669921875), ("float32", 0.5, 0.5),
                                                  ("bfloat16", 0.22, 0.2197265625)])
def test_seconds_are_rounded_like_the_model_dtype(dtype, value, stored):
    assert round_to_dtype([value], dtype) == [stored]
