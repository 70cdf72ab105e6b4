"""One rollout-side GRPO step on CPU with real parts, for both tiny model families:

built rows -> VideoSSRDataset (verl's RLHFDataset) -> verl's multimodal processing (the dataset
classmethod the agent loop calls, once per session) -> verl's Qwen-VL continuous-token builder with
the real processor -> the tiny model's ``generate`` -> this project's reward through verl's reward
manager -> GRPO advantages through verl's ``core_algos``. vLLM itself needs a GPU; ``generate``
stands in for it, fed exactly what verl hands vLLM (prompt ids + the decoded frames).
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch
from transformers import AutoModelForImageTextToText, AutoProcessor
from verl import DataProto
from verl.trainer.ppo import core_algos
from verl.trainer.ppo.reward import load_reward_manager
from verl.utils.dataset.rl_dataset import collate_fn, get_dataset_class
from verl.utils.tokenizer.continuous_token_wiring import create_continuous_token_builder

from recipes.videossr.compose import compose_recipe
from rewards import RESULT_KEYS

N = 4  # rollout.n for the test (the paper uses 8)
RESPONSE_LENGTH = 12
CONFIGS = {"qwen2_5_vl": "videossr_qwen25vl_7b", "qwen3_vl": "videossr_qwen3vl_8b"}


@pytest.fixture(params=sorted(CONFIGS))
def setup(request, tiny_qwen25vl_dir, tiny_qwen3vl_dir, videossr_data_dir, tmp_path):
    kind = request.param
    model_dir = {"qwen2_5_vl": tiny_qwen25vl_dir, "qwen3_vl": tiny_qwen3vl_dir}[kind]
    cfg = compose_recipe(CONFIGS[kind], [
        f"data.train_files={videossr_data_dir / 'viubench.parquet'}",
        f"data.val_files={videossr_data_dir / 'viubench.parquet'}",
        f"actor_rollout_ref.model.path={model_dir}",
        f"actor_rollout_ref.rollout.n={N}",
        f"+data.cache_dir={tmp_path / 'cache'}",
    ])
    return kind, model_dir, cfg


def test_one_rollout_side_grpo_step(setup):
    kind, model_dir, cfg = setup
    processor = AutoProcessor.from_pretrained(model_dir)
    tokenizer = processor.tokenizer
    model = AutoModelForImageTextToText.from_pretrained(model_dir).eval()
    dataset_cls = get_dataset_class(cfg.data)  # the class verl's trainer builds from the config
    dataset = dataset_cls(cfg.data.train_files, tokenizer, cfg.data, processor)
    # One prompt per task, including the 8-clip jigsaw (the largest prompt).
    wanted = ["videossr/grounding/mirror", "videossr/counting/hard", "videossr/jigsaw/n8"]
    picks = [next(i for i in range(len(dataset)) if dataset[i]["data_source"] == ds) for ds in wanted]
    batch = collate_fn([dataset[i] for i in picks])
    assert list(batch["data_source"]) == wanted

    builder = create_continuous_token_builder(tokenizer, hf_model_type=kind, processor=processor)
    assert type(builder).__name__ == "QwenVLContinuousTokenBuilder"
    merge = processor.video_processor.merge_size
    patch = processor.video_processor.patch_size
    video_id = tokenizer.convert_tokens_to_ids("<|video_pad|>")
    dataset_cls._clip_cache.clear()

    responses, masks, uids, rows = [], [], [], []
    for p, messages in enumerate(batch["raw_prompt"]):
        async def sessions():  # the agent loop: rollout.n sessions per prompt, each extracts media
            return await asyncio.gather(*[
                dataset_cls.process_multi_modal_info(messages, image_patch_size=patch, config=cfg.data)
                for _ in range(N)])

        per_session = asyncio.run(sessions())
        images, videos, _ = per_session[0]
        assert images is None
        mm = {}
        prompt_ids = builder.build_initial_tokens(messages, videos=videos, mm_inputs_out=mm)
        grid = mm["video_grid_thw"]
        # Placeholders == features: the invariant whose violation is verl's most common video error.
        assert prompt_ids.count(video_id) == int(grid.prod(-1).sum()) // merge**2
        assert mm["pixel_values_videos"].shape[0] == int(grid.prod(-1).sum())
        assert len(prompt_ids) <= cfg.data.max_prompt_length
        assert grid.shape[0] == len(videos) == (8 if p == 2 else 1)

        inputs = {k: v for k, v in mm.items() if k not in ("attention_mask",)}
        input_ids = torch.tensor([prompt_ids])
        torch.manual_seed(p)
        out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **inputs,
                             max_new_tokens=RESPONSE_LENGTH, do_sample=True, num_return_sequences=N)
        assert out.shape[0] == N and out.shape[1] <= len(prompt_ids) + RESPONSE_LENGTH
        generated = out[:, len(prompt_ids):].tolist()
        # Sample 0 answers with the ground truth, so the group has reward variance to learn from.
        truth = batch["reward_model"][p]["ground_truth"]
        generated[0] = tokenizer.encode(truth, add_special_tokens=False) + [tokenizer.eos_token_id]
        for g in generated:
            g = g[:RESPONSE_LENGTH]
            valid = g.index(tokenizer.eos_token_id) + 1 if tokenizer.eos_token_id in g else len(g)
            responses.append(g[:valid] + [tokenizer.pad_token_id] * (RESPONSE_LENGTH - valid))
            masks.append([1] * valid + [0] * (RESPONSE_LENGTH - valid))
            uids.append(f"prompt-{p}")
            rows.append(p)

    # Every session of a prompt shared one decode per clip.
    stats = dataset_cls.cache_stats()
    assert stats["decodes"] == 1 + 1 + 8 and stats["hits"] == (N - 1) * stats["decodes"]

    # This project's reward through verl's reward manager, one call per sample.
    reward_manager = load_reward_manager(cfg, tokenizer)
    scores = []
    for i, r in enumerate(rows):
        item = DataProto.from_dict(
            tensors={"responses": torch.tensor([responses[i]]), "attention_mask": torch.tensor([masks[i]])},
            non_tensors={key: np.array([batch[key][r]], dtype=object)
                         for key in ("data_source", "reward_model", "extra_info")},
        )
        result = reward_manager.loop.run_until_complete(reward_manager.run_single(item))
        assert set(result["reward_extra_info"]) == set(RESULT_KEYS)  # our reward, not verl's fallback
        assert result["reward_extra_info"]["task"] == wanted[r].split("/")[1]
        assert 0.0 <= result["reward_score"] <= 1.0
        scores.append(result["reward_score"])
    scores = torch.tensor(scores)
    assert len(scores) == len(wanted) * N
    assert torch.all(scores[::N] == 1.0)  # the ground-truth answer of each group scores 1

    # GRPO advantages through verl's core_algos, reward on the last valid response token.
    response_mask = torch.tensor(masks, dtype=torch.float32)
    token_level_rewards = torch.zeros_like(response_mask)
    last = response_mask.sum(-1).long() - 1
    token_level_rewards[torch.arange(len(scores)), last] = scores
    advantages, returns = core_algos.get_adv_estimator_fn("grpo")(
        token_level_rewards=token_level_rewards, response_mask=response_mask, index=np.array(uids, dtype=object))
    assert advantages.shape == returns.shape == (len(wanted) * N, RESPONSE_LENGTH)
    assert torch.all(advantages[response_mask == 0] == 0)
    per_sample = advantages[torch.arange(len(scores)), 0].view(len(wanted), N)
    group_scores = scores.view(len(wanted), N)
    for g in range(len(wanted)):
        if group_scores[g].std() > 0:  # a group with variance: the best answer gets the largest advantage
            assert per_sample[g, 0] == per_sample[g].max() and per_sample[g, 0] > 0
            assert abs(float(per_sample[g].sum())) < 1e-4
