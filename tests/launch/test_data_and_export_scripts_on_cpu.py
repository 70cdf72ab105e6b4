"""launch/prepare_data.sh builds real train + VIUBench parquet from videos; launch/export_hf.sh finds
the latest checkpoint and never overwrites (its merge itself needs a real FSDP checkpoint)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, **env_vars: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "MIN_FREE_GB": "0", **env_vars}
    return subprocess.run(["bash", str(ROOT / "launch" / script)], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_prepare_data_builds_both_sets_and_resumes(tmp_path, synthetic_videos):
    env = dict(VIDEOS=str(synthetic_videos), FRAMES_DIR=str(tmp_path / "frames"), DATA_DIR=str(tmp_path / "data"),
               SIZE="6", PER_SUBTYPE="1", WORKERS="1")
    first = run("prepare_data.sh", **env)
    assert first.returncode == 0, first.stderr
    train = pq.read_table(tmp_path / "data" / "train.parquet")
    viubench = pq.read_table(tmp_path / "data" / "viubench.parquet")
    assert 0 < train.num_rows <= 6 and viubench.num_rows == 9
    again = run("prepare_data.sh", **env)  # finished work is reused, same bytes
    assert again.returncode == 0, again.stderr
    assert pq.read_table(tmp_path / "data" / "train.parquet").equals(train)


def test_prepare_data_needs_videos(tmp_path):
    proc = run("prepare_data.sh", VIDEOS=str(tmp_path / "missing"))
    assert proc.returncode == 1 and f"VIDEOS entry {tmp_path / 'missing'} does not exist" in proc.stderr


def test_export_picks_the_latest_step_numerically(tmp_path):
    for step in (5, 12, 100):
        (tmp_path / "checkpoints" / f"global_step_{step}" / "actor").mkdir(parents=True)
    proc = run("export_hf.sh", RUN_DIR=str(tmp_path), DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    assert f"--local_dir {tmp_path}/checkpoints/global_step_100/actor" in proc.stderr
    assert f"--target_dir {tmp_path}/hf/global_step_100.partial" in proc.stderr
    assert "may be incomplete" in proc.stderr  # no tracker: the newest folder, with a warning


def test_export_takes_the_step_verls_tracker_names_not_a_half_written_newer_one(tmp_path):
    ckpts = tmp_path / "checkpoints"
    for step in (50, 100):
        (ckpts / f"global_step_{step}" / "actor").mkdir(parents=True)
    (ckpts / "global_step_150" / "actor").mkdir(parents=True)  # a save that crashed part-way
    (ckpts / "latest_checkpointed_iteration.txt").write_text("100")  # verl writes it last
    proc = run("export_hf.sh", RUN_DIR=str(tmp_path), DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    assert f"--local_dir {ckpts}/global_step_100/actor" in proc.stderr
    (ckpts / "latest_checkpointed_iteration.txt").write_text("garbage")
    proc = run("export_hf.sh", RUN_DIR=str(tmp_path), DRY_RUN="1")
    assert proc.returncode == 1 and "not a step number" in proc.stderr
    proc = run("export_hf.sh", RUN_DIR=str(tmp_path), DRY_RUN="1", STEP="150")  # an explicit STEP wins
    assert proc.returncode == 0 and "global_step_150/actor" in proc.stderr


def test_export_refuses_to_overwrite_and_names_missing_steps(tmp_path):
    (tmp_path / "checkpoints" / "global_step_5" / "actor").mkdir(parents=True)
    (tmp_path / "hf" / "global_step_5").mkdir(parents=True)
    proc = run("export_hf.sh", RUN_DIR=str(tmp_path))
    assert proc.returncode == 1 and "already exists" in proc.stderr
    proc = run("export_hf.sh", RUN_DIR=str(tmp_path), STEP="7")
    assert proc.returncode == 1 and "global_step_7/actor not found (have: global_step_5" in proc.stderr
