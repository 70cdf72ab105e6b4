"""launch/train.sh: its pre-flight checks fail with clear messages, and DRY_RUN=1 validates the full
command through verl (``main_ppo --cfg job`` + verl's validate_config) and builds the datasets verl
would build (recipes/videossr/preflight.py) on a CPU machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TRAIN_SH = ROOT / "launch" / "train.sh"
# The fixture's training set has 12 rows: a batch that fits it (videossr_small's 16 would not).
FIT_BATCH = ("data.train_batch_size=8", "actor_rollout_ref.actor.ppo_mini_batch_size=8")
# A folder name with what Hydra's override grammar reads as syntax: spaces, unicode, = , quotes, ${.
ODD_NAME = "données_视频 a=b,c 'q' \\${x}"


def run_train(tmp_path: Path, data_dir: Path, model: Path | str, *args: str, fit: bool = True, **env_vars: str):
    """train.sh on the fixture data, DRY_RUN=1 and videossr_small unless ``env_vars`` say otherwise;
    ``fit``: the batch overrides that fit its 12 training rows go first (``args`` win)."""
    args = (*FIT_BATCH, *args) if fit else args
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "DATA_DIR": str(data_dir),
        "MODEL_PATH": str(model),
        "RUN_DIR": str(tmp_path / "run"),
        "MIN_FREE_GB": "0",
        "CONFIG_NAME": "videossr_small",
        "DRY_RUN": "1",
        **env_vars,
    }
    return subprocess.run(["bash", str(TRAIN_SH), *args], env=env, capture_output=True, text=True, timeout=180)


def test_dry_run_validates_and_writes_the_resolved_config(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, "trainer.total_epochs=2", N_GPUS="1")
    assert proc.returncode == 0, proc.stderr
    assert "DRY_RUN=1: all checks passed" in proc.stderr
    (resolved,) = (tmp_path / "run" / "config").glob("resolved-*.yaml")
    cfg = yaml.safe_load(resolved.read_text())
    assert cfg["actor_rollout_ref"]["model"]["path"] == str(tiny_qwen3vl_dir)
    assert cfg["data"]["train_files"] == str(videossr_data_dir / "train.parquet")
    assert cfg["data"]["val_files"] == str(videossr_data_dir / "viubench_val.parquet")  # the stratified slice
    assert cfg["data"]["val_batch_size"] == 32  # never the whole validation set in one batch
    assert cfg["trainer"]["default_local_dir"] == str(tmp_path / "run" / "checkpoints")
    assert cfg["trainer"]["resume_mode"] == "auto"
    assert cfg["trainer"]["n_gpus_per_node"] == 1 and cfg["trainer"]["total_epochs"] == 2  # "$@" wins
    assert cfg["data"]["custom_cls"]["name"] == "VideoSSRDataset"


def test_the_metrics_path_reaches_every_ray_actor(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    """Under SLURM the trainer actor runs on any node: the file logger's path must travel in the
    runtime env that main_ppo builds from verl's defaults and ray_kwargs.ray_init.runtime_env."""
    from omegaconf import OmegaConf
    from verl.trainer.constants_ppo import get_ppo_ray_runtime_env

    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, N_GPUS="1")
    assert proc.returncode == 0, proc.stderr
    (resolved,) = (tmp_path / "run" / "config").glob("resolved-*.yaml")
    cfg = OmegaConf.create(yaml.safe_load(resolved.read_text()))
    runtime_env = OmegaConf.merge(get_ppo_ray_runtime_env(cfg), cfg.ray_kwargs.ray_init.runtime_env)  # as main_ppo
    path = Path(runtime_env.env_vars.VERL_FILE_LOGGER_PATH)
    assert path.parent == tmp_path / "run" / "logs" and path.name.startswith("metrics-") and path.suffix == ".jsonl"


def test_a_misspelled_override_fails_with_verls_error(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, "actor_rollout_ref.actor.ppo_mini_batch_sz=4")
    assert proc.returncode != 0
    assert "Could not override 'actor_rollout_ref.actor.ppo_mini_batch_sz'" in proc.stderr
    assert "verl rejected the configuration" in proc.stderr
    assert not list((tmp_path / "run" / "config").glob("resolved-*.yaml"))  # no half-written config


@pytest.mark.parametrize(
    "change, message",
    [
        ({"MODEL_PATH": "/nonexistent/model"}, "MODEL_PATH=/nonexistent/model does not exist"),
        ({"TRAIN_FILES": "/nonexistent/train.parquet"}, "data file /nonexistent/train.parquet not found"),
        ({"CONFIG_NAME": "videossr_nope"}, "CONFIG_NAME=videossr_nope: no "),
        ({"MIN_FREE_GB": "lots"}, "MIN_FREE_GB=lots is not a number"),
        ({"N_GPUS": "two"}, "N_GPUS=two is not a positive integer"),
    ],
)
def test_preflight_checks_stop_with_a_clear_message(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, change, message):
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, **change)
    assert proc.returncode == 1
    assert message in proc.stderr, proc.stderr


def test_model_folder_without_config_json_is_rejected(tmp_path, videossr_data_dir):
    proc = run_train(tmp_path, videossr_data_dir, tmp_path)
    assert proc.returncode == 1 and "has no config.json" in proc.stderr


def test_too_few_gpus_stops_before_ray_starts(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "nvidia-smi").write_text("#!/usr/bin/env bash\necho 'GPU 0: NVIDIA H100 (UUID: GPU-0)'\n")
    (fake_bin / "nvidia-smi").chmod(0o755)
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, DRY_RUN="0", N_GPUS="2",
                     PATH=f"{fake_bin}:{os.environ['PATH']}")
    assert proc.returncode == 1
    assert "2 GPUs requested (trainer.n_gpus_per_node) but nvidia-smi lists 1; set N_GPUS=1" in proc.stderr


def fake_gpus(tmp_path: Path, n: int) -> str:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    lines = "".join(f"echo 'GPU {i}: NVIDIA H100 (UUID: GPU-{i})'\n" for i in range(n))
    (fake_bin / "nvidia-smi").write_text(f"#!/usr/bin/env bash\n{lines}")
    (fake_bin / "nvidia-smi").chmod(0o755)
    return f"{fake_bin}:{os.environ['PATH']}"


def test_a_short_disk_stops_a_real_run_before_main_ppo(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, DRY_RUN="0", N_GPUS="1",
                     MIN_FREE_GB="999999999", PATH=fake_gpus(tmp_path, 1))
    assert proc.returncode == 1
    assert "GB needed (MIN_FREE_GB=999999999)" in proc.stderr and "not enough disk" in proc.stderr
    assert not list((tmp_path / "run" / "logs").glob("train-*.log"))  # the trainer never started


def test_dry_run_only_warns_about_disk_and_deletes_nothing(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    ckpts = tmp_path / "run" / "checkpoints"
    for step in (50, 100, 150):
        (ckpts / f"global_step_{step}" / "actor").mkdir(parents=True)
    (ckpts / "latest_checkpointed_iteration.txt").write_text("100")
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, N_GPUS="1", MIN_FREE_GB="999999999")
    assert proc.returncode == 0, proc.stderr
    assert "checkpoints: warning: only" in proc.stderr
    assert "would remove " + str(ckpts / "global_step_150") in proc.stderr  # the crashed save
    assert sorted(p.name for p in ckpts.glob("global_step_*")) == ["global_step_100", "global_step_150", "global_step_50"]


def test_the_disk_requirement_is_sized_from_the_model(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, N_GPUS="1", MIN_FREE_GB="")
    assert proc.returncode == 0, proc.stderr
    assert "B parameters x 12 B (model+optimizer+extra)" in proc.stderr and "up to 2 on disk" in proc.stderr


def test_cpu_mode_dry_run_selects_the_cpu_config_and_needs_no_gpu(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("VERL_PLATFORM", "VERL_USE_EXTERNAL_MODULES")}
    env.update(PYTHON=sys.executable, DATA_DIR=str(videossr_data_dir), MODEL_PATH=str(tiny_qwen3vl_dir),
               RUN_DIR=str(tmp_path / "run"), MIN_FREE_GB="0", DRY_RUN="1", DEVICE="cpu",
               PATH="/usr/bin:/bin")  # no nvidia-smi anywhere
    proc = subprocess.run(["bash", str(TRAIN_SH)], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    (resolved,) = (tmp_path / "run" / "config").glob("resolved-*.yaml")
    cfg = yaml.safe_load(resolved.read_text())
    assert cfg["trainer"]["experiment_name"] == "cpu_grpo"  # videossr_cpu
    assert cfg["actor_rollout_ref"]["rollout"]["engine_kwargs"]["vllm"]["worker_extension_cls"] == \
        "recipes.videossr.cpu.vllm_weights.CPUWeightSyncExtension"
    command = next((tmp_path / "run" / "config").glob("command-*.sh")).read_text()
    assert "--config-name videossr_cpu" in command


@pytest.mark.parametrize("env_vars, message", [
    ({"DEVICE": "tpu"}, "DEVICE=tpu: use gpu or cpu"),
    ({"STALL_TIMEOUT": "ten"}, "STALL_TIMEOUT=ten is not a whole number"),
])
def test_launcher_options_are_checked(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, env_vars, message):
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, **env_vars)
    assert proc.returncode != 0 and message in proc.stderr


def test_the_trainer_runs_in_its_own_process_group_and_is_cleaned_up_after():
    """How a run ends is checked for real by make e2e (SIGKILL, a raising reward); here, that the
    launcher keeps the structure those checks rely on."""
    text = TRAIN_SH.read_text()
    assert 'setsid "${cmd[@]}"' in text
    assert "trap finish EXIT" in text and "recipes.videossr.shm clean" in text
    assert "export PYTHONUNBUFFERED=1" in text  # the stall watchdog reads the log's growth


# --- the dry run builds the datasets verl would build (issue 24, item 10) ---------------------------
def copy_dataset(src: Path, dst: Path) -> Path:
    """A copy of a dataset folder whose ``source_frames`` link still reaches the frames (absolute)."""
    shutil.copytree(src, dst, symlinks=True)
    link = dst / "source_frames"
    if link.is_symlink():
        target = os.path.realpath(src / "source_frames")
        link.unlink()
        link.symlink_to(target, target_is_directory=True)
    return dst


def assert_refused(proc, *messages: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "all checks passed" not in proc.stderr
    assert "the data check failed" in proc.stderr and "nothing was started" in proc.stderr
    for message in messages:
        assert message in proc.stderr, proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.startswith("preflight: error: ")]) == 1


def test_fewer_training_rows_than_a_batch_are_refused(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    """verl drops the last incomplete batch: 12 rows at videossr_small's batch of 16 is an empty train
    dataloader, which verl reports only after Ray and the model started."""
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, fit=False, N_GPUS="1")
    assert_refused(proc, "has 12 rows, fewer than data.train_batch_size=16", "Train dataloader is empty!",
                   "lower data.train_batch_size (and actor_rollout_ref.actor.ppo_mini_batch_size) to at most 12")


def test_a_moved_dataset_whose_frames_are_gone_is_refused(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    moved = copy_dataset(videossr_data_dir, tmp_path / "moved")
    (moved / "source_frames").unlink()
    (moved / "source_frames").symlink_to(tmp_path / "frames_that_moved", target_is_directory=True)
    proc = run_train(tmp_path, moved, tiny_qwen3vl_dir, N_GPUS="1")
    assert_refused(proc, "VideoSSRDataset's row check", "frame file not found",
                   f"python -m data_prep media {moved} --frames NEW_FRAMES_DIR")


def test_an_empty_training_file_is_refused(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    data = copy_dataset(videossr_data_dir, tmp_path / "data")
    train = data / "train.parquet"
    pq.write_table(pq.read_table(train).slice(0, 0), train)
    proc = run_train(tmp_path, data, tiny_qwen3vl_dir, N_GPUS="1")
    assert_refused(proc, f"{train} has 0 rows", "python -m data_prep build")


def test_adaptive_levels_on_rows_without_levels_are_refused(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    """The adaptive dataset serves rows without a level as they are: the preset would do nothing."""
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, "+adaptive=levels", N_GPUS="1")
    assert_refused(proc, "+adaptive=levels: no training row carries a difficulty level",
                   "--recipe videossr_graded", "TRAIN_FILES=DATA_DIR/graded.parquet")


def test_a_dataset_class_that_does_not_import_is_refused(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, "data.custom_cls.path=pkg://my_lab_fork.dataset",
                     N_GPUS="1")
    assert_refused(proc, "data.custom_cls (pkg://my_lab_fork.dataset, VideoSSRDataset) does not load",
                   "No module named 'my_lab_fork'")


# --- any path a file system allows (item 11) -------------------------------------------------------
def test_paths_with_unicode_spaces_commas_and_quotes_reach_verl_unchanged(tmp_path, videossr_data_dir,
                                                                          tiny_qwen3vl_dir):
    data = copy_dataset(videossr_data_dir, tmp_path / ODD_NAME / "data")
    model = tmp_path / f"{ODD_NAME} model"
    model.symlink_to(tiny_qwen3vl_dir, target_is_directory=True)
    run_dir = tmp_path / f"run {ODD_NAME}"
    proc = run_train(tmp_path, data, model, N_GPUS="1", RUN_DIR=str(run_dir))
    assert proc.returncode == 0, proc.stderr
    assert "DRY_RUN=1: all checks passed" in proc.stderr
    (resolved,) = (run_dir / "config").glob("resolved-*.yaml")
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(resolved)  # as verl reads it (OmegaConf: `\${` is an escaped `${`)
    assert cfg.data.train_files == str(data / "train.parquet")
    assert cfg.data.val_files == str(data / "viubench_val.parquet")
    assert cfg.actor_rollout_ref.model.path == str(model)
    assert cfg.trainer.default_local_dir == str(run_dir / "checkpoints")
    assert cfg.ray_kwargs.ray_init.runtime_env.env_vars.VERL_FILE_LOGGER_PATH.startswith(str(run_dir / "logs"))
    assert "train: 12 rows" in proc.stderr  # the datasets were built from the odd folder


# --- a fork's config outside the repository (item 12) ----------------------------------------------
FORK_CONFIG = """\
hydra:
  searchpath:
    - pkg://verl.trainer.config
defaults:
  - ppo_trainer
  - shared/videossr_base   # the recipe's settings (its config folder is on the search path)
  - _self_
data:
  train_batch_size: 8
  custom_cls:
    path: pkg://my_lab_fork.dataset
    name: ForkDataset
actor_rollout_ref:
  actor:
    ppo_mini_batch_size: 8
trainer:
  experiment_name: my_lab_fork
  n_gpus_per_node: 1
"""


def test_a_forks_config_outside_the_repository_extends_the_recipe(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    fork = tmp_path / "my lab fork"
    (fork / "my_lab_fork").mkdir(parents=True)
    (fork / "my_lab_fork" / "__init__.py").write_text("")
    (fork / "my_lab_fork" / "dataset.py").write_text(
        "from recipes.videossr.dataset import VideoSSRDataset\n\n\nclass ForkDataset(VideoSSRDataset):\n    pass\n")
    (fork / "configs").mkdir()
    (fork / "configs" / "my_fork.yaml").write_text(FORK_CONFIG)
    pythonpath = os.pathsep.join(p for p in (str(fork), os.environ.get("PYTHONPATH", "")) if p)
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, fit=False,
                     CONFIG_NAME=str(fork / "configs" / "my_fork.yaml"), PYTHONPATH=pythonpath)
    assert proc.returncode == 0, proc.stderr
    assert "the config is composed and validated by verl (validate_config)" in proc.stderr
    (resolved,) = (tmp_path / "run" / "config").glob("resolved-*.yaml")
    cfg = yaml.safe_load(resolved.read_text())
    assert cfg["trainer"]["experiment_name"] == "my_lab_fork"
    assert cfg["data"]["custom_cls"]["name"] == "ForkDataset"  # built by the data check: the fork imports
    assert cfg["reward"]["custom_reward_function"]["path"] == "pkg://rewards.verl_reward"  # the recipe's
    command = next((tmp_path / "run" / "config").glob("command-*.sh")).read_text()
    assert "--config-name my_fork" in command and "--config-dir" in command


def test_config_dir_names_the_folder_of_config_name(tmp_path, videossr_data_dir, tiny_qwen3vl_dir):
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, CONFIG_DIR=str(tmp_path), CONFIG_NAME="my_fork")
    assert proc.returncode == 1 and f"CONFIG_NAME=my_fork: no {tmp_path}/my_fork.yaml" in proc.stderr
    proc = run_train(tmp_path, videossr_data_dir, tiny_qwen3vl_dir, CONFIG_DIR=str(tmp_path / "nope"))
    assert proc.returncode == 1 and f"CONFIG_DIR={tmp_path / 'nope'} is not a folder" in proc.stderr
