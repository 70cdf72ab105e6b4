"""recipes.videossr.run_checks and rollout_trace: each check passes a consistent run and names what
is wrong in an inconsistent one (the real run: make e2e)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from omegaconf import OmegaConf

from recipes.videossr import rollout_trace, run_checks
from rewards.verl_reward import REWARD_FUNCTION_NAME, REWARD_FUNCTION_PATH


def _record(key="u_0_0", step=1, prompt=(1, 2, 3, 4), vllm=(2, 3, 4), response=(5, 6), score=0.0, validate=False):
    return {"step": step, "validate": validate, "key": key, "uid": key.rsplit("_", 2)[0], "session": 0, "index": 0,
            "data_source": "videossr/counting/easy", "ground_truth": "3,1,4", "extra_info": {},
            "prompt_ids": list(prompt), "vllm_prompt_ids": None if vllm is None else list(vllm),
            "response_ids": list(response), "reward_score": score}


def test_vllm_prompt_ids_come_from_verls_prompt_logprob_fields():
    # verl: one [id] per prompt position 1..L-1, then a dummy [0] for the last position
    assert rollout_trace.vllm_prompt_ids({"prompt_ids": [[11], [12], [13], [0]]}) == [11, 12, 13]
    assert rollout_trace.vllm_prompt_ids({}) is None


def test_trace_record_and_torn_lines(tmp_path):
    output = SimpleNamespace(prompt_ids=[1, 2], response_ids=[3], response_logprobs=[-0.5], reward_score=1.0,
                             extra_fields={"reward_extra_info": {"acc": 1.0}})
    kwargs = {"uid": "abc", "session_id": 2, "global_steps": 4, "index": 7, "data_source": "videossr/jigsaw/n6",
              "reward_model": {"ground_truth": "1,2"}, "extra_info": {"index": 7}}
    line = rollout_trace.record(output, False, kwargs, [2])
    assert line["key"] == "abc_2_0" and line["step"] == 4 and line["vllm_prompt_ids"] == [2]
    rollout_trace.append(tmp_path, line)
    path = next(tmp_path.glob(rollout_trace.TRACE_GLOB))
    with open(path, "a") as f:
        f.write('{"step": 5, "tor')  # a writer killed mid-line
    assert list(rollout_trace.read(tmp_path)) == [json.loads(json.dumps(line))]


@pytest.mark.parametrize("vllm, ok, words", [
    ((2, 3, 4), True, "1/1 sessions"),
    ((2, 3, 9), False, "first difference at position 3"),
    ((2, 3, 4, 4, 4), False, "vLLM ran 6"),
    (None, False, "reported no prompt ids"),
])
def test_tokens(vllm, ok, words):
    check = run_checks.check_tokens([_record(vllm=vllm)])
    assert check.ok is ok and words in (check.summary + " ".join(check.problems))


def test_tokens_skipped_without_a_trace():
    assert run_checks.check_tokens([]).ok is None


@pytest.mark.parametrize("diff, corr, ok", [(1e-5, 0.99999, True), (0.2, 0.99999, False), (1e-5, 0.9, False)])
def test_probabilities(diff, corr, ok):
    rows = [{"step": 1, run_checks.PROBS_DIFF_KEY: diff, run_checks.PEARSON_KEY: corr}, {"step": 2}]
    assert run_checks.check_probabilities(rows, 1e-3, 0.999).ok is ok


@pytest.fixture
def reward_config(tiny_qwen3vl_dir):
    return OmegaConf.create({
        "actor_rollout_ref": {"model": {"path": str(tiny_qwen3vl_dir)}},
        "reward": {"custom_reward_function": {"path": REWARD_FUNCTION_PATH, "name": REWARD_FUNCTION_NAME,
                                              "reward_kwargs": {"parse_mode": "released", "reward_mode": "smooth",
                                                                "format_weight": 0.0}}}})


def test_rewards_are_recomputed_from_the_traced_response(reward_config, tiny_qwen3vl_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_qwen3vl_dir))
    right = tokenizer.encode("<answer>3,1,4</answer>", add_special_tokens=False)
    wrong = tokenizer.encode("no answer", add_special_tokens=False)
    records = [_record("a_0_0", response=right), _record("b_0_0", response=wrong)]
    text = [tokenizer.decode(r["response_ids"], skip_special_tokens=True) for r in records]
    good = run_checks.check_rewards(reward_config, records, [
        {"step": 1, "uid": "a_0_0", "output": text[0], "score": 1.0},
        {"step": 1, "uid": "b_0_0", "output": text[1], "score": 0.0}])
    assert good.ok is True, good.problems
    bad = run_checks.check_rewards(reward_config, records, [
        {"step": 1, "uid": "a_0_0", "output": text[0], "score": 0.0},  # trained on a wrong score
        {"step": 1, "uid": "c_0_0", "output": "", "score": 0.0}])      # trained, never traced
    assert bad.ok is False
    assert any("the reward function gives 1.0" in p for p in bad.problems)
    assert any("no trace record" in p for p in bad.problems)
