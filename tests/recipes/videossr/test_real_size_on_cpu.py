"""The real-size architectures used by the GPU memory check match the published checkpoints."""

from __future__ import annotations

import pytest

from recipes.videossr.real_size import num_parameters

# Parameter totals of the published safetensors (Qwen/Qwen3-VL-8B-Instruct, Qwen/Qwen2.5-VL-7B-Instruct).
PUBLISHED = {"qwen3_vl": 8_767_123_696, "qwen2_5_vl": 8_292_166_656}


@pytest.mark.parametrize("kind", sorted(PUBLISHED))
def test_parameter_count_matches_the_published_checkpoint(kind):
    assert num_parameters(kind) == PUBLISHED[kind]
