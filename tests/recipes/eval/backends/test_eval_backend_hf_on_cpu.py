"""Transformers backend on the tiny Qwen-VL models: batching must not change any answer."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from data_prep.media import resolve_videos
from recipes.videossr.eval.backends import GenerationSettings, load_backend
from recipes.videossr.eval.conversation import build_conversation


@pytest.mark.parametrize("kind", ["tiny_qwen25vl_dir", "tiny_qwen3vl_dir"])
def test_batched_equals_one_by_one(kind, request, viubench_parquet):
    model = request.getfixturevalue(kind)
    rows = [{**r, "videos": resolve_videos(r["videos"], viubench_parquet.parent)}
            for r in pq.read_table(viubench_parquet).to_pylist()]
    # a one-clip question and an 8-clip jigsaw: different prompt lengths -> left padding in the batch
    conversations = [build_conversation(rows[0]), build_conversation(rows[8])]
    backend = load_backend("hf", str(model), GenerationSettings(max_new_tokens=6, device="cpu"))
    batched = backend.generate(conversations)
    single = [backend.generate([c])[0] for c in conversations]
    assert len(batched) == 2 and all(isinstance(t, str) for t in batched)
    assert batched == single
    assert backend.generate(conversations) == batched  # greedy: same answers every time


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        load_backend("tpu", "m", GenerationSettings())
