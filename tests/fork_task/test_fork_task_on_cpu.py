"""A fork adds a pretext task without editing this repository: only files under ``tests/fork_task/``.

``videossr_fork/arrow_of_time.py`` declares the task (generator, reward, option, VIUBench column);
``arrow_of_time.yaml`` names it by import path. The task then goes the whole way: the builder ->
verl's ``RLHFDataset`` (through ``VideoSSRDataset``) with a real Qwen-VL processor -> its reward
through verl's own reward loader, and in a fresh process that has never heard of it (as verl's Ray
reward worker) -> a VIUBench-style table with its own column and random-guess row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from transformers import AutoProcessor

from data_prep.build import build_dataset, read_rows
from data_prep.builders.mixes import parse_mix
from data_prep.tasks import registry

HERE = Path(__file__).resolve().parent
MIX = HERE / "arrow_of_time.yaml"
TASK_PATH = "videossr_fork.arrow_of_time"
SOURCE = "videossr/arrow_of_time/clip"
REPO = HERE.parent.parent


@pytest.fixture(scope="module")
def fork_on_path():
    """The fork's package importable, as if installed; the registry forgets the task afterwards."""
    sys.path.insert(0, str(HERE))
    yield
    sys.path.remove(str(HERE))
    registry._REGISTRY.pop("arrow_of_time", None)


@pytest.fixture(scope="module")
def fork_data(fork_on_path, frames_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fork") / "data"
    summary = build_dataset(frames_dir, out, MIX, progress=False)
    assert summary.rows == 7 and summary.skipped == 0, summary.skip_reasons
    return out / "arrow_of_time.parquet"


def forget_task() -> None:
    """As in a process that never imported the fork's module (verl's reward worker)."""
    registry._REGISTRY.pop("arrow_of_time", None)
    sys.modules.pop(TASK_PATH, None)


def test_rows_of_the_fork_task(fork_data):
    rows = read_rows(fork_data)
    fork = [r for r in rows if r["data_source"] == SOURCE]
    assert len(fork) == 6 and [r["data_source"] for r in rows].count("videossr/jigsaw/n6") == 1
    for row in fork:
        info = row["extra_info"]
        meta = json.loads(info["meta"])
        assert info["task"] == "arrow_of_time" and info["answer"] == row["reward_model"]["ground_truth"]
        assert info["answer"] == ("backward" if meta["backward"] else "forward")
        assert meta["task_module"] == TASK_PATH  # how every reader finds the task
        frames = row["videos"][0]["video"]
        assert frames == sorted(frames, reverse=meta["backward"]) and len(frames) == 48
        assert row["prompt"][1]["content"].endswith("forward or backward.")
    assert {json.loads(r["extra_info"]["meta"])["backward"] for r in fork} == {True, False}  # seeded: both
    jigsaw = next(r for r in rows if r["data_source"] == "videossr/jigsaw/n6")
    assert "task_module" not in json.loads(jigsaw["extra_info"]["meta"])  # shipped tasks' rows unchanged


def test_rows_load_through_verl_rlhf_dataset(fork_data, tiny_qwen3vl_dir, tmp_path):
    from recipes.videossr.dataset import VideoSSRDataset

    processor = AutoProcessor.from_pretrained(tiny_qwen3vl_dir)
    config = OmegaConf.create({
        "max_prompt_length": 100000, "filter_overlong_prompts": False, "return_raw_chat": True,
        "cache_dir": str(tmp_path / "cache"), "video_key": "videos", "image_patch_size": 16,
        "videossr": {"check_frame_files": True},
    })
    forget_task()  # row validation must find the reward from the rows alone
    dataset = VideoSSRDataset([str(fork_data)], processor.tokenizer, config, processor)
    rows = read_rows(fork_data)
    assert len(dataset) == len(rows)
    item = dataset[0]
    assert item["data_source"] == SOURCE
    videos = [c for m in item["raw_prompt"] if isinstance(m["content"], list) for c in m["content"]
              if c.get("type") == "video"]
    assert len(videos) == 1


def _batch(tokenizer, rows, responses):
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    prompt_len, response_len = 8, 16
    prompts, outs, masks = [], [], []
    for response in responses:
        p = tokenizer.encode("Answer the question.", add_special_tokens=False)[-prompt_len:]
        r = tokenizer.encode(response, add_special_tokens=False) + [eos]
        prompts.append([pad] * (prompt_len - len(p)) + p)
        outs.append(r + [pad] * (response_len - len(r)))
        masks.append([0] * (prompt_len - len(p)) + [1] * (len(p) + len(r)) + [0] * (response_len - len(r)))
    from verl import DataProto

    prompts_t, outs_t = torch.tensor(prompts), torch.tensor(outs)
    return DataProto.from_dict(
        tensors={"prompts": prompts_t, "responses": outs_t, "input_ids": torch.cat([prompts_t, outs_t], 1),
                 "attention_mask": torch.tensor(masks)},
        non_tensors={
            "data_source": np.array([r["data_source"] for r in rows], dtype=object),
            "reward_model": np.array([r["reward_model"] for r in rows], dtype=object),
            "extra_info": np.array([r["extra_info"] for r in rows], dtype=object),
        },
    )


def test_reward_through_verl_reward_loader(fork_data, tiny_qwen3vl_dir):
    pytest.importorskip("hydra")
    from hydra import compose, initialize_config_module
    from verl.trainer.ppo.reward import load_reward_manager
    from verl.utils import hf_tokenizer

    import rewards.verl_reward as entry

    with initialize_config_module(config_module="verl.trainer.config", version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=list(entry.HYDRA_OVERRIDES))
    tokenizer = hf_tokenizer(str(tiny_qwen3vl_dir))
    manager = load_reward_manager(cfg, tokenizer)
    rows = [r for r in read_rows(fork_data) if r["data_source"] == SOURCE]
    truths = [r["reward_model"]["ground_truth"] for r in rows]
    flipped = {"forward": "backward", "backward": "forward"}
    responses = [t if i % 3 == 0 else flipped[t] if i % 3 == 1 else "sideways" for i, t in enumerate(truths)]
    forget_task()  # the reward worker learns the task from the rows' extra_info.meta
    batch = _batch(tokenizer, rows, responses)
    outputs = [manager.loop.run_until_complete(manager.run_single(batch[i : i + 1])) for i in range(len(batch))]
    assert [o["reward_score"] for o in outputs] == [1.0, 0.0, 0.0] * 2
    assert [o["reward_extra_info"]["parsed"] for o in outputs] == [1.0, 1.0, 0.0] * 2
    assert {o["reward_extra_info"]["task"] for o in outputs} == {"arrow_of_time"}


def test_reward_in_a_fresh_process_finds_the_task_from_the_row(fork_data):
    row = next(r for r in read_rows(fork_data) if r["data_source"] == SOURCE)
    script = (
        "import json, sys\n"
        "from rewards.verl_reward import compute_score\n"
        "row = json.loads(sys.stdin.read())\n"
        "truth = row['reward_model']['ground_truth']\n"
        "print(json.dumps(compute_score(row['data_source'], truth, truth, row['extra_info'])))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    env.pop(registry.ENV_VAR, None)
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(row), env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["score"] == 1.0 and result["task"] == "arrow_of_time"


def test_reward_option_tasks_registers_by_import_path(fork_on_path):
    import rewards.verl_reward as entry

    forget_task()
    with pytest.raises(ValueError, match="unknown task 'arrow_of_time'"):
        entry.compute_score(SOURCE, "forward", "forward", {"index": 0})  # no meta, no option: unknown
    result = entry.compute_score(SOURCE, "forward", "forward", {"index": 0}, tasks=[TASK_PATH])
    assert result["score"] == 1.0


def test_viubench_style_table_with_its_own_column(fork_data):
    from recipes.videossr.eval.columns import layout, table_headers
    from recipes.videossr.eval.random_guess import best_constant_row, random_guess_row
    from recipes.videossr.eval.scoring import score_viubench
    from recipes.videossr.eval.table import results_row, to_markdown

    rows = read_rows(fork_data)
    table = layout(extra=[TASK_PATH])
    assert table_headers(table)[-3:] == ["AoT", "AoT-Avg", "Overall"]
    assert table_headers(table)[:-3] == table_headers()[:-1]  # the paper's columns, in Table 1 order
    records = []
    for k, row in enumerate(rows):
        truth = row["reward_model"]["ground_truth"]
        answer = truth if k % 2 == 0 else ("forward" if truth == "backward" else "backward")
        scored = score_viubench(row["data_source"], answer, truth, extra_info=row["extra_info"])
        records.append({"group": row["data_source"], "metric": scored.metric, "status": "ok"})
    fork_records = [r for r, row in zip(records, rows) if row["data_source"] == SOURCE]
    result = results_row("model", records, table)
    assert result.values["AoT"] == pytest.approx(100 * sum(r["metric"] for r in fork_records) / 6)
    assert result.values["AoT-Avg"] == result.values["AoT"]
    assert result.values["Overall"] is None  # the other subtypes were not evaluated
    assert result.counts[SOURCE]["n"] == 6
    random = random_guess_row(rows, table)
    assert random.values["AoT"] == pytest.approx(50.0)  # two answers, by enumeration of the answer space
    assert 50.0 <= best_constant_row(rows, table).values["AoT"] <= 100.0
    markdown = to_markdown([result, random], layout=table)
    assert "| AoT | AoT-Avg | Overall |" in markdown.splitlines()[0]


def test_mix_validation_knows_the_fork_options(fork_on_path):
    base = {"name": "m", "split": "eval", "videos": "per_entry", "entries": [{"task": TASK_PATH, "count": 1}]}
    assert parse_mix({**base, "options": {"arrow_of_time": {"p_backward": 0.2}}}).options == {
        "arrow_of_time": {"p_backward": 0.2}}
    with pytest.raises(ValueError, match=r"options.arrow_of_time: unknown \['p_forward'\] \(known: \['p_backward'\]\)"):
        parse_mix({**base, "options": {"arrow_of_time": {"p_forward": 0.2}}})
    with pytest.raises(ValueError, match="p_backward must be a probability"):
        parse_mix({**base, "options": {TASK_PATH: {"p_backward": 2}}})
    with pytest.raises(ValueError, match="cannot import task module 'videossr_fork.nope'"):
        parse_mix({**base, "entries": [{"task": "videossr_fork.nope", "count": 1}]})


def test_a_spec_unpickled_in_a_fresh_process_registers_its_task(fork_on_path):
    # Build workers (spawned processes, Ray tasks) receive pickled specs: the spec brings its task.
    import pickle

    from data_prep.tasks.base import SampleSpec

    spec = SampleSpec("s-arrow_of_time-clip-000000", "arrow_of_time", "clip", "v1", 3, "eval", task_module=TASK_PATH)
    script = (
        "import pickle, sys\n"
        "from data_prep.tasks.registry import get_task\n"
        "spec = pickle.loads(sys.stdin.buffer.read())\n"
        "print(get_task(spec.task).module)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    done = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(spec), env=env, cwd=REPO,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == TASK_PATH
