"""Issue 13: the prompt token ids and M-RoPE position ids vLLM generates from must be the ones the
FSDP actor scores -- for every task, both model families and every clip count (1, 6, 8).

Side (a) is verl 0.9.1's own AgentLoopWorker + agent loop + vLLMHttpServer.generate (recording the
request instead of generating); side (b) is vLLM 0.24's own multimodal processor and the model
class's get_mrope_input_positions (``recipes.videossr.agreement``). CPU only, tiny random models.

Known today (the findings, written as the target behaviour so they fail until fixed):
* Qwen3-VL: token ids differ (verl's pad collapse leaves one block per temporal patch; vLLM
  re-expands the first one into the whole clip), verl issue #5024;
* Qwen2.5-VL: ids agree, positions differ (verl never passes second_per_grid_ts to get_rope_index,
  transformers int()-truncates it, vLLM's processor assumes 24 fps).

Run: ``make test-vllm`` (or ``$VLLM_VENV/bin/python -m pytest -q tests/vllm``).
"""

from __future__ import annotations

import pytest

pytest.importorskip(
    "vllm",
    reason="needs vLLM 0.24 in this environment (CPU is enough): make vllm-venv, then make test-vllm",
)

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

FAMILIES = ("qwen2_5_vl", "qwen3_vl")
# VIUBench: one row per subtype in the fixture (tests/conftest.py), clips per prompt in brackets.
SOURCES = {
    "videossr/counting/easy": 1,
    "videossr/counting/hard": 1,
    "videossr/grounding/channel_swap": 1,
    "videossr/grounding/mirror": 1,
    "videossr/grounding/rotate_180": 1,
    "videossr/grounding/shuffle": 1,
    "videossr/grounding/zoom_out": 1,
    "videossr/jigsaw/n6": 6,
    "videossr/jigsaw/n8": 8,
}

_RESULTS: dict = {}


@pytest.fixture(scope="module")
def model_dirs(tiny_qwen25vl_dir, tiny_qwen3vl_dir):
    return {"qwen2_5_vl": tiny_qwen25vl_dir, "qwen3_vl": tiny_qwen3vl_dir}


@pytest.fixture(scope="module")
def agreement(videossr_data_dir, model_dirs):
    """``agreement(family)`` -> ``{data_source: Agreement}`` for the VIUBench fixture rows (cached)."""
    from recipes.videossr.agreement import check_parquet

    def get(family: str):
        if family not in _RESULTS:
            results = check_parquet(videossr_data_dir / "viubench.parquet", [model_dirs[family]], rows_per_source=1)
            _RESULTS[family] = {r.data_source: r for r in results}
        return _RESULTS[family]

    return get


@pytest.mark.parametrize("family", FAMILIES)
def test_rows_cover_every_task_and_clip_count(agreement, family):
    got = {source: r.clips for source, r in agreement(family).items()}
    assert got == SOURCES


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("family", FAMILIES)
def test_prompt_ids_agree(agreement, family, source):
    r = agreement(family)[source]
    assert r.ids_equal, (
        f"{family} {source} ({r.clips} clips): the actor scores {r.trainer_tokens} prompt tokens, vLLM rebuilds "
        f"{r.vllm_tokens} from the {r.sent_tokens} verl sent (first difference at token {r.first_id_mismatch})"
    )


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("family", FAMILIES)
def test_mrope_positions_agree(agreement, family, source):
    r = agreement(family)[source]
    if not r.ids_equal:
        pytest.fail(f"{family} {source}: token ids differ ({r.trainer_tokens} vs {r.vllm_tokens}), "
                    "so the positions cannot agree")
    assert r.positions_differing == 0, (
        f"{family} {source} ({r.clips} clips): positions differ at {r.positions_differing} of "
        f"{r.positions_compared} tokens; second_per_grid_ts in verl's processor output "
        f"{r.trainer_second_per_grid_ts} (get_rope_index is not given it), vLLM's {r.vllm_second_per_grid_ts}"
    )
