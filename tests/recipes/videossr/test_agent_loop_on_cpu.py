"""recipes/videossr/agent_loop.py on CPU, through verl's own AgentLoopWorker and agent-loop registry.

The worker runs verl 0.9.1's ``generate_sequences`` on built rows with the recipe's config and the
tiny models' real processors; only the vLLM server is a recording stand-in (it needs a GPU). The
full comparison with vLLM's own processor runs in ``tests/vllm`` (``make test-vllm``); here every
finding is checked against what verl itself would do with the request.
"""

from __future__ import annotations

import asyncio

import pytest
import torch
from omegaconf import open_dict
from verl.experimental.agent_loop.agent_loop import _agent_loop_registry
from verl.protocol import DataProto
from verl.utils.dataset.rl_dataset import collate_fn
from verl.utils.import_utils import load_class_from_fqn
from verl.workers.rollout.replica import TokenOutput
from verl.workers.rollout.utils import qwen2_5_vl_dedup_image_tokens

from recipes.videossr import agent_loop
from recipes.videossr.compose import compose_recipe
from recipes.videossr.mrope import qwen2_5_vl_positions, round_to_dtype

CONFIGS = {"qwen2_5_vl": "videossr_qwen25vl_7b", "qwen3_vl": "videossr_qwen3vl_8b"}
ROWS = {"videossr/counting/easy": 1, "videossr/jigsaw/n6": 6, "videossr/jigsaw/n8": 8}


class RecordingServer:
    """Stands in for verl's LLM server client: records each request, answers with EOS."""

    def __init__(self, eos: int):
        self.eos, self.requests = eos, []

    async def generate(self, request_id, **kwargs):
        self.requests.append(kwargs)
        return TokenOutput(token_ids=[self.eos], log_probs=[0.0], num_preempted=0)


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def rollout(request, tiny_qwen25vl_dir, tiny_qwen3vl_dir, videossr_data_dir, tmp_path_factory):
    """``(family, worker, run(data_source) -> (request, batch row))`` with the recipe's worker."""
    family = request.param
    model = {"qwen2_5_vl": tiny_qwen25vl_dir, "qwen3_vl": tiny_qwen3vl_dir}[family]
    parquet = videossr_data_dir / "viubench.parquet"
    cfg = compose_recipe(CONFIGS[family], [
        f"data.train_files={parquet}", f"data.val_files={parquet}", f"actor_rollout_ref.model.path={model}",
        f"+data.cache_dir={tmp_path_factory.mktemp('cache')}",
    ])
    worker_cls = load_class_from_fqn(cfg.actor_rollout_ref.rollout.agent.agent_loop_manager_class).HARNESS_WORKER_CLASS
    eos = RecordingServer(0)
    worker = worker_cls(cfg, llm_client=eos)
    eos.eos = worker.tokenizer.eos_token_id
    dataset = worker.dataset_cls(str(parquet), worker.tokenizer, cfg.data, worker.processor)

    def run(source: str):
        index = next(i for i in range(len(dataset)) if dataset[i]["data_source"] == source)
        batch = DataProto.from_single_dict(collate_fn([dataset[index]]))
        batch.meta_info.update({"validate": True, "global_steps": 0})
        out = asyncio.run(worker.generate_sequences(batch))
        return eos.requests[-1], out

    return family, worker, run


def scored_prompt(out):
    prompts, mask = out.batch["prompts"][0], out.batch["attention_mask"][0]
    valid = mask[: prompts.shape[-1]].bool()
    return prompts[valid].tolist(), out.batch["position_ids"][0][:, : prompts.shape[-1]][:, valid], valid


def test_the_recipe_selects_the_agent_loop_and_the_manager():
    cfg = compose_recipe("videossr_qwen3vl_8b", ["data.train_files=/d/t.parquet", "data.val_files=/d/v.parquet"])
    agent = cfg.actor_rollout_ref.rollout.agent
    assert agent.default_agent_loop == agent_loop.AGENT_NAME
    assert _agent_loop_registry[agent_loop.AGENT_NAME]["_target_"] == "recipes.videossr.agent_loop.VideoSSRAgentLoop"
    manager = load_class_from_fqn(agent.agent_loop_manager_class, "AgentLoopManager")
    from verl.trainer.ppo.v1.agent_loop_tq import AgentLoopManagerTQ, AgentLoopWorkerTQ

    assert issubclass(manager, AgentLoopManagerTQ)
    built = manager(cfg, llm_client=None)  # __init__ only picks the worker class
    worker = built.agent_loop_workers_class.__ray_actor_class__
    assert issubclass(worker, AgentLoopWorkerTQ.__ray_actor_class__) and issubclass(worker, agent_loop.VideoSSRWorkerMixin)
    with pytest.raises(ValueError, match="V1 trainer"):
        manager(compose_recipe("videossr_qwen3vl_8b", ["data.train_files=/d/t.parquet", "data.val_files=/d/v.parquet",
                                                       "trainer.use_v1=false"]), llm_client=None)


@pytest.mark.parametrize("source", sorted(ROWS))
def test_vllm_receives_a_prompt_that_verls_pad_collapse_leaves_intact(rollout, source):
    """Finding 1: stock verl sends Qwen3-VL's expanded prompt, which the collapse then mangles."""
    family, worker, run = rollout
    request, out = run(source)
    sent = request["prompt_ids"]
    received = qwen2_5_vl_dedup_image_tokens(list(sent), worker.processor)  # what vLLM is handed
    pad = worker.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    assert received.count(pad) == ROWS[source]  # one placeholder per clip, which vLLM expands itself
    scored, _, _ = scored_prompt(out)
    if family == "qwen3_vl":
        assert received == sent  # stock verl sends 24 blocks per clip here, which vLLM misreads
    else:
        assert sent == scored  # Qwen2.5-VL: verl's own ids (one pad run per clip: the collapse is exact)


@pytest.mark.parametrize("source", sorted(ROWS))
def test_the_actor_scores_one_vision_block_per_temporal_patch(rollout, source):
    """Finding 1: the scored Qwen3-VL prompt is vLLM's expansion (no extra outer pair per clip)."""
    family, worker, run = rollout
    request, out = run(source)
    scored, _, _ = scored_prompt(out)
    grids = out.non_tensor_batch["multi_modal_inputs"][0]["video_grid_thw"]
    merge = worker.processor.video_processor.merge_size
    tok = worker.tokenizer.convert_tokens_to_ids
    assert scored.count(tok("<|video_pad|>")) == int(grids.prod(-1).sum()) // merge**2  # features == pads
    blocks = int(grids[:, 0].sum()) if family == "qwen3_vl" else len(grids)
    assert scored.count(tok("<|vision_start|>")) == scored.count(tok("<|vision_end|>")) == blocks


@pytest.mark.parametrize("source", sorted(ROWS))
def test_qwen25vl_request_carries_the_clips_sampling_and_positions_follow_vllm(rollout, source):
    """Finding 2: vLLM's processor sees the true fps; the actor's temporal positions are not all 0."""
    family, worker, run = rollout
    if family != "qwen2_5_vl":
        pytest.skip("Qwen2.5-VL finding")
    request, out = run(source)
    videos = request["video_data"]
    assert request["mm_processor_kwargs"]["video_metadata"] == [dict(meta) for _, meta in videos]
    scored, positions, _ = scored_prompt(out)
    mm = out.non_tensor_batch["multi_modal_inputs"][0]
    vision = worker.processor.config.vision_config
    expected = qwen2_5_vl_positions(
        scored, video_token_id=worker.tokenizer.convert_tokens_to_ids("<|video_pad|>"),
        video_grids=mm["video_grid_thw"].tolist(),
        seconds_per_grid=round_to_dtype(mm["second_per_grid_ts"].tolist(), "bfloat16"),
        tokens_per_second=vision.tokens_per_second, spatial_merge_size=vision.spatial_merge_size)
    assert positions[1:].tolist() == expected.tolist() and positions[0].tolist() == list(range(len(scored)))
    pad = worker.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    first_clip = [i for i, t in enumerate(scored) if t == pad][: int(mm["video_grid_thw"][0].prod()) // 4]
    temporal = {int(positions[1, i]) for i in first_clip}
    patches, seconds = int(mm["video_grid_thw"][0, 0]), float(mm["second_per_grid_ts"][0])
    assert len(temporal) == int((patches - 1) * seconds * vision.tokens_per_second) + 1
    if ROWS[source] == 1:  # 48 frames: the clip spans several positions (transformers' int(0.17 s): one)
        assert len(temporal) > 1


def test_qwen3vl_prompt_refuses_a_placeholder_count_mismatch(tiny_qwen3vl_dir):
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_qwen3vl_dir)
    with pytest.raises(ValueError, match="2 video placeholders for 1 videos"):
        agent_loop.qwen3_vl_prompt(processor, agent_loop.QWEN3_VL_VIDEO * 2, [object()])


def test_other_rollout_engines_are_refused(rollout):
    family, worker, run = rollout
    from omegaconf import OmegaConf

    cfg = OmegaConf.merge(worker.config, {"actor_rollout_ref": {"rollout": {"name": "sglang"}}})
    from verl.experimental.agent_loop.agent_loop import DictConfigWrap

    with pytest.raises(ValueError, match="needs verl's single_turn_agent"):
        agent_loop.VideoSSRAgentLoop(
            trainer_config=DictConfigWrap(cfg), server_manager=None, tokenizer=worker.tokenizer,
            processor=worker.processor, dataset_cls=worker.dataset_cls, data_config=DictConfigWrap(cfg.data),
            hf_model_type=family)


def expected_cache_entries(family: str, clips: int) -> int:
    """Entries left by one prompt: Qwen2.5-VL the builder's and the video features'; Qwen3-VL each
    clip's expansion and the features (per clip for one clip, else only their concatenation)."""
    return 2 if family == "qwen2_5_vl" else clips + 1


def expected_cache_counts(family: str, clips: int, n: int) -> tuple[int, int]:
    """``(misses, hits)`` of the processor cache for one prompt of ``clips`` clips run by n sessions.

    Every miss is one computation for the whole prompt; the video processor runs once per clip.

    - Qwen2.5-VL: verl's builder (1 miss, n - 1 hits), which computes the clips' video features
      (1 miss) that post-processing then reuses (n hits).
    - Qwen3-VL: each clip's expansion (1 miss, n - 1 hits) computes that clip's features (1 miss);
      post-processing reuses them: one clip, the same entry (n hits); several, their concatenation
      (1 miss, n - 1 hits; the per-clip entries are dropped).
    """
    if family == "qwen2_5_vl":
        return 2, (n - 1) + n
    if clips == 1:
        return 2, (n - 1) + n
    return 2 * clips + 1, (n - 1) * clips + (n - 1)


def _generate_repeated(worker, source: str, n: int, cache_mb: int):
    """``generate_sequences`` on one row repeated n times (GRPO's sessions), with the given cache size."""
    from recipes.videossr.processor_cache import PROCESSOR_CACHE

    with open_dict(worker.config.data.videossr):  # the option is not in the shipped YAML (its default: 1024)
        worker.config.data.videossr.processor_cache_mb = cache_mb
    PROCESSOR_CACHE.clear()
    dataset = worker.dataset_cls(str(worker.config.data.train_files), worker.tokenizer, worker.config.data,
                                 worker.processor)
    index = next(i for i in range(len(dataset)) if dataset[i]["data_source"] == source)
    batch = DataProto.from_single_dict(collate_fn([dataset[index] for _ in range(n)]))
    batch.meta_info.update({"validate": True, "global_steps": 0})
    return asyncio.run(worker.generate_sequences(batch)), PROCESSOR_CACHE.stats()


@pytest.mark.parametrize("source", sorted(ROWS))
def test_the_processor_cache_is_byte_identical_and_shared_by_the_sessions(rollout, source):
    """n sessions of a prompt: the same tensors, positions and vLLM requests with the cache as without;
    the processor work is done once per prompt and stage (n - 1 hits each)."""
    family, worker, run = rollout
    n = 4
    recorder = worker.llm_client  # the fixture's RecordingServer
    try:
        mark = len(recorder.requests)
        plain, _ = _generate_repeated(worker, source, n, 0)
        plain_requests = recorder.requests[mark:]
        mark = len(recorder.requests)
        cached, stats = _generate_repeated(worker, source, n, 1024)
        cached_requests = recorder.requests[mark:]
    finally:
        with open_dict(worker.config.data.videossr):
            worker.config.data.videossr.pop("processor_cache_mb", None)
    for name in ("prompts", "responses", "input_ids", "attention_mask", "position_ids"):
        assert torch.equal(plain.batch[name], cached.batch[name]), name
    for a, b in zip(plain.non_tensor_batch["multi_modal_inputs"], cached.non_tensor_batch["multi_modal_inputs"]):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
    assert len(plain_requests) == len(cached_requests) == n
    for a, b in zip(plain_requests, cached_requests):
        assert a["prompt_ids"] == b["prompt_ids"] and a.get("mm_processor_kwargs") == b.get("mm_processor_kwargs")
        assert len(a["video_data"]) == len(b["video_data"]) == ROWS[source]
        for (fa, ma), (fb, mb) in zip(a["video_data"], b["video_data"]):
            assert torch.equal(torch.as_tensor(fa), torch.as_tensor(fb)) and dict(ma) == dict(mb)
    assert (stats["misses"], stats["hits"]) == expected_cache_counts(family, ROWS[source], n)
    assert stats["entries"] == expected_cache_entries(family, ROWS[source])


def test_post_processing_shares_the_video_features_when_the_answers_differ(rollout):
    """Sampled GRPO answers differ: post-processing still computes the clips' features once per prompt."""
    family, worker, run = rollout
    n, source = 4, "videossr/jigsaw/n6"
    recorder = worker.llm_client
    answers = [worker.tokenizer.encode(f" answer {k}", add_special_tokens=False) for k in range(n)]

    def generate(request_id, **kwargs):
        recorder.requests.append(kwargs)
        ids = answers[generate.calls % n] + [recorder.eos]
        generate.calls += 1
        return TokenOutput(token_ids=ids, log_probs=[0.0] * len(ids), num_preempted=0)

    async def agenerate(request_id, **kwargs):
        return generate(request_id, **kwargs)

    try:
        recorder.generate = agenerate
        generate.calls = 0
        plain, _ = _generate_repeated(worker, source, n, 0)
        generate.calls = 0
        cached, stats = _generate_repeated(worker, source, n, 1024)
    finally:
        del recorder.generate
        with open_dict(worker.config.data.videossr):
            worker.config.data.videossr.pop("processor_cache_mb", None)

    def rows(out):
        return {tuple(out.batch["responses"][i].tolist()): i for i in range(len(out))}

    plain_rows, cached_rows = rows(plain), rows(cached)
    assert plain_rows.keys() == cached_rows.keys() and len(plain_rows) == n
    for response, i in plain_rows.items():
        j = cached_rows[response]
        for name in ("prompts", "input_ids", "attention_mask", "position_ids"):
            assert torch.equal(plain.batch[name][i], cached.batch[name][j]), name
        a, b = plain.non_tensor_batch["multi_modal_inputs"][i], cached.non_tensor_batch["multi_modal_inputs"][j]
        assert a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a)
    assert (stats["misses"], stats["hits"]) == expected_cache_counts(family, ROWS[source], n)
    assert stats["entries"] == expected_cache_entries(family, ROWS[source])
