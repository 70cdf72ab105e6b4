"""Qwen2.5-VL M-RoPE positions as vLLM 0.24 computes them, so the actor scores what vLLM generated from.

verl 0.9.1 computes the actor's positions with transformers' ``Qwen2_5_VLModel.get_rope_index``,
which vLLM does not match for video: transformers truncates ``second_per_grid_ts`` with ``int()``
(0.17 s per temporal patch -> 0: every frame at the same temporal position) and starts the text
after a clip at ``max(h, w) / merge``, while vLLM (``vllm/model_executor/models/qwen2_5_vl.py``,
``get_mrope_input_positions``) uses ``floor(t * second_per_grid_t * tokens_per_second)`` and
starts the text at the clip's largest position + 1. This module is vLLM's rule, written out:

- a text token takes one position ``p`` on all three axes (temporal, height, width), then ``p + 1``;
- a placeholder run of ``t * h * w / merge**2`` pads takes ``p + (floor(ti * s * tps), hi, wi)`` in
  (t, h, w) order, and the next text token ``max + 1``;
- ``s`` (seconds per temporal patch) is rounded to the rollout dtype first, as vLLM casts the
  processor's float outputs to the model dtype (bf16: 0.1667 -> 0.16699).

>>> ids = [7, 9, 9, 9, 9, 8]   # text, one 2x1x2 video (merge 1), text
>>> qwen2_5_vl_positions(ids, video_token_id=9, video_grids=[(2, 1, 2)], seconds_per_grid=[1.0],
...                      tokens_per_second=2, spatial_merge_size=1).tolist()
[[0, 1, 1, 3, 3, 4], [0, 1, 1, 1, 1, 4], [0, 1, 2, 1, 2, 4]]
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch


def round_to_dtype(values: Sequence[float], dtype: str | torch.dtype) -> list[float]:
    """``values`` as ``dtype`` would store them (vLLM keeps processor outputs in the model dtype).

    >>> round_to_dtype([1 / 6], "bfloat16")
    [0.1669921875]
    """
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    return [float(v) for v in torch.tensor(list(values), dtype=torch.float64).to(dtype).tolist()]


def qwen2_5_vl_positions(
    ids: Sequence[int],
    *,
    video_token_id: int,
    video_grids: Sequence[Sequence[int]],
    seconds_per_grid: Sequence[float],
    tokens_per_second: float,
    spatial_merge_size: int,
    image_token_id: Optional[int] = None,
    image_grids: Sequence[Sequence[int]] = (),
) -> np.ndarray:
    """``(3, len(ids))`` positions of one unpadded prompt; media in order of appearance.

    Each pad run must be exactly one media item (a Qwen2.5-VL prompt puts
    ``<|vision_start|>`` / ``<|vision_end|>`` around every item, so runs never touch).
    """
    ids = [int(t) for t in ids]
    out = np.empty((3, len(ids)), dtype=np.int64)
    media = {video_token_id: iter(zip(video_grids, seconds_per_grid))}
    if image_token_id is not None:
        media[image_token_id] = iter((grid, 0.0) for grid in image_grids)
    start, i = 0, 0
    while i < len(ids):
        token = ids[i]
        if token not in media:
            out[:, i] = start
            start, i = start + 1, i + 1
            continue
        try:
            (t, h, w), seconds = next(media[token])
        except StopIteration:
            raise ValueError(f"more placeholder runs of token {token} than grids") from None
        h, w = int(h) // spatial_merge_size, int(w) // spatial_merge_size
        t_idx, h_idx, w_idx = np.indices((int(t), h, w)).reshape(3, -1)
        if token == video_token_id:
            t_idx = np.floor(t_idx * float(seconds) * float(tokens_per_second)).astype(np.int64)
        run = len(t_idx)
        if ids[i:i + run] != [token] * run:
            raise ValueError(f"placeholder run at {i} is not {run} tokens of {token} (grid {t}x{h}x{w})")
        block = np.stack([t_idx, h_idx, w_idx]) + start
        out[:, i:i + run] = block
        start, i = int(block.max()) + 1, i + run
    return out
