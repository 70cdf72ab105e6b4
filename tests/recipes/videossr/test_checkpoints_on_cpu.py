"""recipes/videossr/checkpoints.py: retention across resubmissions, the disk requirement, preflight.

Attempts are simulated with verl 0.9.1's own retention code (``BaseCheckpointManager``'s
``ensure_checkpoint_capacity`` / ``register_checkpoint``, a fresh manager per attempt, as each
resubmission builds one) and the trainer's layout: ``global_step_N/actor``, then ``data.pt``, then
the tracker.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from verl.utils.checkpoint.checkpoint_manager import BaseCheckpointManager

from recipes.videossr import checkpoints as ck


class Attempt:
    """One trainer attempt: verl's retention list starts empty, as after every resubmission."""

    def __init__(self, root: Path, keep: int):
        self.root, self.keep = root, keep
        self.manager = object.__new__(BaseCheckpointManager)  # only the retention methods are used
        self.manager.previous_saved_paths = []

    def save(self, step: int, *, crash: bool = False, watcher: bool = False) -> None:
        actor = self.root / f"global_step_{step}" / "actor"
        self.manager.ensure_checkpoint_capacity(self.keep)  # FSDP manager, before writing
        actor.mkdir(parents=True)
        (actor / "model_world_size_1_rank_0.pt").write_bytes(b"w" * 10)
        if watcher:  # the watcher's pass while the save is in progress
            ck.prune(self.root, self.keep, log=lambda _: None)
        if crash:
            return  # killed part-way: no data.pt, no tracker update
        self.manager.register_checkpoint(str(actor), self.keep)
        (actor.parent / "data.pt").write_bytes(b"d")
        (self.root / ck.TRACKER).write_text(str(step))
        if watcher:
            ck.prune(self.root, self.keep, log=lambda _: None)


def on_disk(root: Path) -> dict[int, bool]:
    """{step: has actor/} for every global_step_N folder."""
    tree = ck.scan(root)
    return {s: tree.path(s).joinpath("actor").is_dir() for s in tree.complete + tree.unfinished + tree.leftovers}


def test_verl_alone_keeps_every_attempts_checkpoints(tmp_path):
    """The finding: without the cross-attempt prune, two attempts leave four checkpoints + a leftover."""
    first = Attempt(tmp_path, keep=2)
    for step in (50, 100, 150):
        first.save(step)
    second = Attempt(tmp_path, keep=2)
    for step in (200, 250):
        second.save(step)
    assert on_disk(tmp_path) == {50: False, 100: True, 150: True, 200: True, 250: True}


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_two_attempts_keep_exactly_the_configured_count(tmp_path, keep):
    first = Attempt(tmp_path, keep)
    for step in (50, 100, 150):
        first.save(step, watcher=True)
    first.save(200, crash=True, watcher=True)  # the job died while saving step 200
    assert ck.read_tracker(tmp_path) == 150
    ck.prune(tmp_path, keep, remove_unfinished=True, log=lambda _: None)  # train.sh preflight
    second = Attempt(tmp_path, keep)
    peak = 0
    for step in (200, 250, 300):
        second.save(step, watcher=True)
        peak = max(peak, len(on_disk(tmp_path)))
    assert on_disk(tmp_path) == {s: True for s in (300, 250, 200)[:keep]}
    assert peak <= ck.peak_checkpoints(keep)


@pytest.mark.parametrize(
    "folders, tracker, keep, remove_unfinished, removed",
    [
        # (step: has actor), tracker, keep, between attempts?, steps removed
        ({50: True, 100: True, 150: True}, 150, 2, False, [50]),
        ({50: False, 100: True}, 100, 2, False, [50]),               # verl's data.pt leftover
        ({100: True, 150: True}, 100, 1, False, []),                 # 150 is being written: untouched
        ({100: True, 150: True}, 100, 1, True, [150]),               # ...unless no attempt runs
        ({50: True, 100: True, 150: True}, 100, 2, False, [50]),     # saving: keep-1 = 1 complete + new
        ({50: True, 100: True, 150: True}, None, 1, True, []),       # no tracker: nothing is proven garbage
        ({50: True, 100: True}, 100, None, False, []),               # keep null: verl keeps all
        ({50: True, 100: True}, 100, 0, False, []),
    ],
)
def test_plan_prune(tmp_path, folders, tracker, keep, remove_unfinished, removed):
    for step, actor in folders.items():
        (tmp_path / f"global_step_{step}" / ("actor" if actor else "")).mkdir(parents=True, exist_ok=True)
    if tracker is not None:
        (tmp_path / ck.TRACKER).write_text(f"{tracker}\n")
    plan = ck.plan_prune(ck.scan(tmp_path), keep, remove_unfinished=remove_unfinished)
    assert plan == [tmp_path / f"global_step_{s}" for s in removed]


def test_dry_run_deletes_nothing(tmp_path):
    for step in (50, 100, 150):
        (tmp_path / f"global_step_{step}" / "actor").mkdir(parents=True)
    (tmp_path / ck.TRACKER).write_text("150")
    assert ck.prune(tmp_path, 1, dry_run=True, log=lambda _: None) == [tmp_path / "global_step_50", tmp_path / "global_step_100"]
    assert len(on_disk(tmp_path)) == 3


def fake_model(folder: Path, total_size: int, dtype: str = "bfloat16") -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "qwen3_vl", "torch_dtype": dtype}))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": total_size}}))
    return folder


def test_checkpoint_size_matches_an_8b_actor_with_optimizer(tmp_path):
    """Qwen3-VL-8B: 8.77B parameters in bf16 -> ~105 GB per model+optimizer checkpoint."""
    params = ck.parameter_count(fake_model(tmp_path / "m", 2 * 8_767_123_696))
    assert params == 8_767_123_696
    assert ck.checkpoint_bytes(params, ["model", "optimizer", "extra"]) / 1e9 == pytest.approx(105.2, abs=0.1)
    assert ck.checkpoint_bytes(params, ["model"]) == 4 * params


def test_parameter_count_from_the_tiny_model(tiny_qwen3vl_dir):
    params = ck.parameter_count(tiny_qwen3vl_dir)
    import torch
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(tiny_qwen3vl_dir, dtype=torch.float32)
    real = sum(p.numel() for p in model.parameters())
    assert abs(params - real) / real < 0.02  # weight files carry a small header


@pytest.mark.parametrize(
    "keep, complete, expected",
    [(2, 0, 2), (2, 2, 0), (2, 1, 1), (1, 1, 1), (1, 0, 2), (3, 5, 0), (None, 3, 1)],
)
def test_required_free_space_counts_what_is_already_there(tmp_path, keep, complete, expected):
    for step in range(1, complete + 1):
        (tmp_path / f"global_step_{step}" / "actor").mkdir(parents=True)
    if complete:
        (tmp_path / ck.TRACKER).write_text(str(complete))
    tree = ck.scan(tmp_path)
    tree = ck.CheckpointTree(tree.root, tree.tracker, ck.retained(tree, keep, False), [], [])
    assert ck.required_free_bytes(tree, keep, 1000) == expected * 1000


def resolved(tmp_path: Path, model: Path, keep=2) -> Path:
    cfg = {
        "trainer": {"default_local_dir": str(tmp_path / "ckpt"), "max_actor_ckpt_to_keep": keep},
        "actor_rollout_ref": {"model": {"path": str(model)},
                              "actor": {"checkpoint": {"save_contents": ["model", "optimizer", "extra"]}}},
    }
    path = tmp_path / "resolved.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_preflight_prunes_then_refuses_a_disk_that_is_too_small(tmp_path):
    model = fake_model(tmp_path / "m", 2 * 10**15)  # a petaparameter model: no disk is big enough
    root = tmp_path / "ckpt"
    for step in (50, 100, 150, 200):
        (root / f"global_step_{step}" / ("actor" if step > 50 else "")).mkdir(parents=True, exist_ok=True)
    (root / ck.TRACKER).write_text("150")
    lines: list[str] = []
    assert ck.preflight(resolved(tmp_path, model, keep=3), log=lines.append) == 1
    assert sorted(on_disk(root)) == [100, 150]  # verl's leftover 50 and the crashed 200 removed
    assert "GB needed" in lines[-1] and "12 B (model+optimizer+extra)" in lines[-1]
    assert "up to 3 on disk, 2 already there" in lines[-1]  # room for one more
    lines.clear()
    assert ck.preflight(resolved(tmp_path, model, keep=2), log=lines.append) == 0  # both kept ones are there
    assert ck.preflight(resolved(tmp_path, model, keep=3), dry_run=True, log=lines.append) == 0
    assert lines[-1].startswith("checkpoints: warning: only")


def test_preflight_passes_and_can_be_overridden(tmp_path, tiny_qwen3vl_dir):
    lines: list[str] = []
    assert ck.preflight(resolved(tmp_path, tiny_qwen3vl_dir), log=lines.append) == 0
    assert "GB needed" in lines[-1]
    assert ck.preflight(resolved(tmp_path, tiny_qwen3vl_dir), min_free_gb=1e12, log=lines.append) == 1
    assert "MIN_FREE_GB=1e+12" in lines[-1]


def test_preflight_skips_the_size_check_for_a_hub_id(tmp_path):
    lines: list[str] = []
    assert ck.preflight(resolved(tmp_path, Path("Qwen/Qwen3-VL-8B-Instruct")), log=lines.append) == 0
    assert "set MIN_FREE_GB" in lines[-1]


def test_watch_prunes_until_the_trainer_ends(tmp_path):
    import subprocess
    import sys
    import threading

    for step in (50, 100, 150):
        (tmp_path / f"global_step_{step}" / "actor").mkdir(parents=True)
    (tmp_path / ck.TRACKER).write_text("150")
    trainer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    threading.Thread(target=trainer.wait).start()  # reap it, as the trainer's parent shell does
    ck.watch(tmp_path, 1, trainer.pid, interval=0.1, log=lambda _: None)  # returns once it has exited
    assert sorted(on_disk(tmp_path)) == [150]


def test_watch_command_reads_the_attempts_config(tmp_path):
    """train.sh runs ``watch --config <resolved> --pid $$``: folder and kept count come from the config."""
    root = tmp_path / "ckpt"
    for step in (50, 100, 150):
        (root / f"global_step_{step}" / "actor").mkdir(parents=True)
    (root / ck.TRACKER).write_text("150")
    config = resolved(tmp_path, Path("Qwen/Qwen3-VL-8B-Instruct"), keep=2)
    no_such_pid = 2**22 + 1  # above Linux's largest pid: the trainer has ended, one pass then return
    assert ck.main(["watch", "--config", str(config), "--pid", str(no_such_pid)]) == 0
    assert sorted(on_disk(root)) == [100, 150]


@pytest.mark.parametrize("content", [None, "trainer: {}\n"])
def test_a_missing_or_foreign_config_is_one_error_line(tmp_path, content, capsys):
    config = tmp_path / "resolved.yaml"
    if content is not None:
        config.write_text(content)
    assert ck.main(["preflight", "--config", str(config)]) == 2
    assert "checkpoints: error: cannot read" in capsys.readouterr().err
