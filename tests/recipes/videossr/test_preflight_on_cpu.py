"""recipes.videossr.preflight: the datasets verl's trainer would build, built before Ray starts.

launch/train.sh's refusals are tested end to end in tests/launch/test_train_sh_on_cpu.py; here the
module on composed configs: what passes (a graded set under +adaptive=levels), the batch arithmetic,
and that nothing is left installed in the process."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from data_prep.build import build_dataset
from recipes.videossr import preflight
from recipes.videossr.adaptive import controller as level_control
from recipes.videossr.compose import compose_recipe

MIX = """\
name: {name}
output: {name}.parquet
split: train
videos: per_entry
entries:
{entries}
"""


@pytest.fixture(scope="module")
def graded_dir(frames_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("preflight") / "data"
    for name, entries in (("graded", ["{task: counting, levels: [0, 1], count: 8}",
                                      "{task: jigsaw, levels: [0, 1], count: 8}"]),
                          ("one_level", ["{task: counting, levels: [1], count: 8}"])):
        mix = out.parent / f"{name}.yaml"
        mix.write_text(MIX.format(name=name, entries="\n".join(f"  - {e}" for e in entries)))
        build_dataset(frames_dir, out, str(mix), progress=False)
    return out


def recipe(train: Path, val: Path, model: Path, *extra: str):
    return compose_recipe("videossr_small", [
        f"data.train_files={train}", f"data.val_files={val}", f"actor_rollout_ref.model.path={model}",
        "data.train_batch_size=8", "actor_rollout_ref.actor.ppo_mini_batch_size=8", *extra])


def test_a_graded_set_serves_adaptive_levels(graded_dir, videossr_data_dir, tiny_qwen3vl_dir):
    cfg = recipe(graded_dir / "graded.parquet", videossr_data_dir / "viubench_val.parquet", tiny_qwen3vl_dir,
                 "+adaptive=levels")
    lines = preflight.run(cfg)
    assert lines[0].startswith("train: 16 rows, 2 step(s) of 8 prompts per epoch")
    assert lines[-1] == "adaptive levels: counting l0..l1, jigsaw l0..l1"
    assert level_control.active() is None  # the controller verl's replay buffer would own is not left behind


def test_one_level_per_family_is_refused_under_adaptive_levels(graded_dir, videossr_data_dir, tiny_qwen3vl_dir):
    cfg = recipe(graded_dir / "one_level.parquet", videossr_data_dir / "viubench_val.parquet", tiny_qwen3vl_dir,
                 "+adaptive=levels")
    with pytest.raises(preflight.PreflightError, match=r"every task family has a single level .*videossr_graded"):
        preflight.run(cfg)
    assert level_control.active() is None


def test_measuring_presets_need_no_levels(videossr_data_dir, tiny_qwen3vl_dir):
    cfg = recipe(videossr_data_dir / "train.parquet", videossr_data_dir / "viubench_val.parquet", tiny_qwen3vl_dir,
                 "+adaptive=metrics")
    assert preflight.run(cfg)[0].startswith("train: 12 rows, 1 step(s) of 8 prompts per epoch (4 rows")


def counts_cfg(**data):
    return OmegaConf.create({"data": {"train_files": "t.parquet", "val_files": "v.parquet", "train_batch_size": 8,
                                      "val_batch_size": 4, **data},
                             "trainer": {"total_epochs": 2, "total_training_steps": None}})


@pytest.mark.parametrize("n_train, data, message", [
    (7, {}, "has 7 rows, fewer than data.train_batch_size=8"),
    (9, {"gen_batch_size": 16}, "has 9 rows, fewer than data.gen_batch_size=16"),
    (0, {}, "has 0 rows"),
])
def test_too_few_rows_for_a_batch(n_train, data, message):
    with pytest.raises(preflight.PreflightError, match=message):
        preflight.check_counts(counts_cfg(**data), n_train, 5)


def test_exactly_one_batch_is_one_step_and_the_validation_batches_are_counted():
    assert preflight.check_counts(counts_cfg(), 8, 5) == [
        "train: 8 rows, 1 step(s) of 8 prompts per epoch, 2 step(s) in 2 epoch(s)",
        "validation: 5 rows in 2 batch(es) of up to 4"]
    with pytest.raises(preflight.PreflightError, match="val data .* has 0 rows"):
        preflight.check_counts(counts_cfg(), 8, 0)
    assert "whole set at once" in preflight.check_counts(counts_cfg(val_batch_size=None), 8, 5)[1]


def test_validate_runs_verls_validate_config_on_the_resolved_file(videossr_data_dir, tiny_qwen3vl_dir, tmp_path,
                                                                   capsys):
    """train.sh DRY_RUN=1: ``--validate`` = main_ppo's last check before Ray, on the --cfg job file."""
    args = (videossr_data_dir / "train.parquet", videossr_data_dir / "viubench_val.parquet", tiny_qwen3vl_dir)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    OmegaConf.save(recipe(*args), good)
    OmegaConf.save(recipe(*args, "actor_rollout_ref.actor.use_dynamic_bsz=false",
                          "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=null"), bad)
    assert preflight.main(["--config", str(good), "--validate"]) == 0
    assert "the config is composed and validated by verl (validate_config)" in capsys.readouterr().err
    assert preflight.main(["--config", str(bad), "--validate"]) == 1
    err = capsys.readouterr().err
    assert "preflight: error: verl's config validation failed" in err and "ppo_micro_batch_size" in err
    assert preflight.main(["--config", str(bad)]) == 0  # without --validate: the data checks only
