"""verl integration: verl's own config, loader, reward manager and worker call this package's reward.

Everything here is verl 0.9.1's real code path minus Ray: Hydra composes ``ppo_trainer`` with the
keys the recipes ship (``rewards.verl_reward.HYDRA_OVERRIDES`` / ``RECIPE_YAML``),
``load_reward_manager`` builds the naive reward manager, and a ``DataProto`` with token ids of a
real (locally trained) tokenizer is scored. The 0.8-era keys are shown to fall back to verl's
built-in scorer, which cannot score a ``videossr/...`` row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("verl")
pytest.importorskip("hydra")

from hydra import compose, initialize_config_dir, initialize_config_module  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import PreTrainedTokenizerFast  # noqa: E402
from verl import DataProto  # noqa: E402
from verl.experimental.reward_loop.reward_loop import RewardLoopWorker  # noqa: E402
from verl.trainer.ppo.metric_utils import process_validation_metrics  # noqa: E402
from verl.trainer.ppo.reward import load_reward_manager  # noqa: E402

import rewards.verl_reward as entry  # noqa: E402
from rewards import RESULT_KEYS, score  # noqa: E402

# (data_source, ground truth, response): every task, right / partial / unparsable / tagged answers.
BATCH = [
    ("videossr/grounding/channel_swap", "12.3-20.1", "12.3-20.1"),
    ("videossr/grounding/mirror", "4.0-9.0", "6.0-11.0"),
    ("videossr/counting/easy", "3,1,4", "3,1,5"),
    ("videossr/counting/hard", "12,1,16", "<answer>12,1,16</answer>"),
    ("videossr/jigsaw/n6", "341562", "431562"),
    ("videossr/jigsaw/n8", "73125846", "I think 73125846"),
    ("videossr/jigsaw/n6", "341562", "\u00e9\U0001f600 nothing"),
]
PROMPT_LEN, RESPONSE_LEN = 8, 24


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> Path:
    """A byte-level BPE tokenizer trained offline (any text round-trips), saved like a model's."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|endoftext|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator([r for _, _, r in BATCH] + ["Count the circles, squares and triangles."], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    out = tmp_path_factory.mktemp("tokenizer")
    fast.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tokenizer(tokenizer_dir):
    from verl.utils import hf_tokenizer

    return hf_tokenizer(str(tokenizer_dir))


def compose_ppo(overrides: list[str]):
    with initialize_config_module(config_module="verl.trainer.config", version_base=None):
        return compose(config_name="ppo_trainer", overrides=overrides)


def make_batch(tokenizer, rows=BATCH) -> DataProto:
    """Left-padded prompts + right-padded responses, as verl's rollout hands them to the reward."""
    pad = tokenizer.pad_token_id
    prompts, responses, masks = [], [], []
    for _, _, response in rows:
        p_ids = tokenizer.encode("Answer the question.", add_special_tokens=False)[-PROMPT_LEN:]
        r_ids = tokenizer.encode(response, add_special_tokens=False) + [tokenizer.eos_token_id]
        assert len(r_ids) <= RESPONSE_LEN, response
        prompts.append([pad] * (PROMPT_LEN - len(p_ids)) + p_ids)
        responses.append(r_ids + [pad] * (RESPONSE_LEN - len(r_ids)))
        masks.append(
            [0] * (PROMPT_LEN - len(p_ids))
            + [1] * (len(p_ids) + len(r_ids))
            + [0] * (RESPONSE_LEN - len(r_ids))
        )
    prompts_t, responses_t = torch.tensor(prompts), torch.tensor(responses)
    return DataProto.from_dict(
        tensors={
            "prompts": prompts_t,
            "responses": responses_t,
            "input_ids": torch.cat([prompts_t, responses_t], dim=1),
            "attention_mask": torch.tensor(masks),
        },
        non_tensors={
            "data_source": np.array([d for d, _, _ in rows], dtype=object),
            "reward_model": np.array(
                [{"style": "rule", "ground_truth": g} for _, g, _ in rows], dtype=object
            ),
            "extra_info": np.array([{"index": i, "split": "eval"} for i in range(len(rows))], dtype=object),
        },
    )


def run_manager(manager, batch: DataProto) -> list[dict]:
    return [manager.loop.run_until_complete(manager.run_single(batch[i : i + 1])) for i in range(len(batch))]


def expected(response: str, data_source: str, truth: str, **options) -> dict:
    return score(data_source, response, truth, **options)


def test_shipped_keys_load_this_package_and_score_a_batch(tokenizer):
    cfg = compose_ppo(list(entry.HYDRA_OVERRIDES))
    assert cfg.reward.custom_reward_function.path == "pkg://rewards.verl_reward"
    manager = load_reward_manager(cfg, tokenizer)
    assert type(manager).__name__ == "NaiveRewardManager"
    assert manager.compute_score.args[0] is entry.compute_score  # verl wraps our function with reward_kwargs

    batch = make_batch(tokenizer)
    outputs = run_manager(manager, batch)
    for (data_source, truth, response), out in zip(BATCH, outputs):
        want = expected(response, data_source, truth)
        assert out["reward_score"] == want["score"]
        assert out["reward_extra_info"] == want
        assert tuple(out["reward_extra_info"]) == RESULT_KEYS
    scores = [o["reward_score"] for o in outputs]
    assert scores[0] == 1.0 and scores[1] == pytest.approx(3 / 7) and scores[2] == pytest.approx(11 / 12)
    assert scores[3] == 1.0  # the released counting reward reads every digit run: tags do not matter
    assert scores[5] == 0.0  # ... but the released jigsaw reward needs the bare permutation

    # verl places each score on the last response token
    rm_scores = type(manager).assemble_rm_scores(batch, scores)
    last = batch.batch["attention_mask"][:, PROMPT_LEN:].sum(dim=1) - 1
    assert torch.equal(rm_scores.sum(dim=1), torch.tensor(scores, dtype=torch.float32))
    assert torch.equal(rm_scores[torch.arange(len(batch)), last], torch.tensor(scores, dtype=torch.float32))


def test_reward_kwargs_reach_the_function(tokenizer):
    overrides = [o for o in entry.HYDRA_OVERRIDES if "reward_kwargs" not in o] + [
        "+reward.custom_reward_function.reward_kwargs.parse_mode=lenient",
        "+reward.custom_reward_function.reward_kwargs.format_weight=0.25",
    ]
    manager = load_reward_manager(compose_ppo(overrides), tokenizer)
    outputs = run_manager(manager, make_batch(tokenizer))
    for (data_source, truth, response), out in zip(BATCH, outputs):
        assert out["reward_extra_info"] == expected(
            response, data_source, truth, parse_mode="lenient", format_weight=0.25
        )
    assert outputs[3]["reward_score"] == pytest.approx(0.75)  # tagged right answer, no format credit


def test_a_typo_in_reward_kwargs_stops_the_run(tokenizer):
    manager = load_reward_manager(
        compose_ppo(
            list(entry.HYDRA_OVERRIDES) + ["+reward.custom_reward_function.reward_kwargs.parse_mod=lenient"]
        ),
        tokenizer,
    )
    with pytest.raises(TypeError, match="parse_mod"):
        run_manager(manager, make_batch(tokenizer, BATCH[:1]))


def test_file_path_form_loads_the_same_reward(tokenizer):
    file_path = Path(entry.__file__).resolve()
    overrides = [f"reward.custom_reward_function.path={file_path}"] + [
        o for o in entry.HYDRA_OVERRIDES if ".path=" not in o
    ]
    outputs = run_manager(load_reward_manager(compose_ppo(overrides), tokenizer), make_batch(tokenizer))
    assert [o["reward_extra_info"] for o in outputs] == [expected(r, d, g) for d, g, r in BATCH]


def test_recipe_yaml_snippet_composes_over_ppo_trainer(tmp_path, tokenizer):
    (tmp_path / "recipe.yaml").write_text(
        "hydra:\n  searchpath:\n    - pkg://verl.trainer.config\n\ndefaults:\n  - ppo_trainer\n  - _self_\n\n"
        + entry.RECIPE_YAML
    )
    with initialize_config_dir(config_dir=str(tmp_path), version_base=None):
        cfg = compose(config_name="recipe")
    assert dict(cfg.reward.custom_reward_function.reward_kwargs) == {
        "parse_mode": "released",
        "reward_mode": "smooth",
        "format_weight": 0.0,
    }
    outputs = run_manager(load_reward_manager(cfg, tokenizer), make_batch(tokenizer))
    assert [o["reward_extra_info"] for o in outputs] == [expected(r, d, g) for d, g, r in BATCH]


def test_legacy_keys_are_ignored_by_verl_and_not_what_we_ship(tokenizer):
    legacy = [
        f"{key}={value}"
        for key, value in zip(entry.LEGACY_KEYS_NOT_TO_USE, ("pkg://rewards.verl_reward", "compute_score"))
    ]
    cfg = compose_ppo(legacy)  # verl accepts the old keys ...
    assert cfg.reward.custom_reward_function.path is None  # ... but never moves them where it reads
    manager = load_reward_manager(cfg, tokenizer)
    with pytest.raises(NotImplementedError):  # verl's built-in scorer knows no videossr data_source
        run_manager(manager, make_batch(tokenizer, BATCH[:1]))
    for override in entry.HYDRA_OVERRIDES:
        key = override.lstrip("+").split("=", 1)[0]
        assert key.startswith("reward.custom_reward_function."), override
    assert entry.RECIPE_YAML.startswith("reward:\n  custom_reward_function:\n")


def test_verl_reward_loop_worker_uses_this_package(tokenizer_dir):
    cfg = compose_ppo(list(entry.HYDRA_OVERRIDES) + [f"actor_rollout_ref.model.path={tokenizer_dir}"])
    worker = RewardLoopWorker(cfg)  # the class verl runs as a Ray actor, built in-process here
    batch = make_batch(worker.input_tokenizer)
    outputs = worker.loop.run_until_complete(worker.compute_score_batch(batch))
    assert [o["reward_extra_info"] for o in outputs] == [expected(r, d, g) for d, g, r in BATCH]


def test_verl_validation_metrics_accept_the_result_keys(tokenizer):
    manager = load_reward_manager(compose_ppo(list(entry.HYDRA_OVERRIDES)), tokenizer)
    rows = BATCH[:3] * 2  # two responses per prompt
    outputs = run_manager(manager, make_batch(tokenizer, rows))
    infos = {key: [o["reward_extra_info"][key] for o in outputs] for key in RESULT_KEYS}
    metrics = process_validation_metrics(
        [d for d, _, _ in rows], [str(i % 3) for i in range(len(rows))], infos
    )
    mirror = metrics["videossr/grounding/mirror"]
    assert mirror["acc"]["mean@2"] == pytest.approx(3 / 7)
    assert "maj@2/mean" in mirror["acc"]  # from the "pred" key
    assert "task" not in mirror and "pred" not in mirror  # strings are carried, not averaged
