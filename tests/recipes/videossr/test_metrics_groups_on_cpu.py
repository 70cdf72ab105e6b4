"""recipes.videossr.metrics: the group-statistics plot (zero-variance fraction and reward per task,
level per family) from logs written by verl's own FileLogger."""

from __future__ import annotations

import pytest
from PIL import Image

from recipes.videossr import metrics
from recipes.videossr.adaptive.controller import GroupResult, group_metrics


def step_metrics(step: int) -> dict:
    zero = min(1.0, step / 10)
    groups = [GroupResult("counting", "easy", 1, "counting", (1.0,) * 8)] * int(8 * zero) + \
             [GroupResult("counting", "easy", 1, "counting", (1.0, 0.0) * 4)] * (8 - int(8 * zero)) + \
             [GroupResult("jigsaw", "n6", 2, "jigsaw", (0.0, 0.5) * 4)] * 4
    return {**group_metrics(groups), "videossr_adaptive/counting/level": float(1 + step // 4),
            "critic/score/mean": 0.5}


@pytest.fixture()
def run_dir(tmp_path):
    from verl.utils.tracking import FileLogger

    logs = tmp_path / "run" / "logs"
    logs.mkdir(parents=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERL_FILE_LOGGER_PATH", str(logs / "metrics-20260101T000000Z.jsonl"))
        logger = FileLogger(project_name="videossr", experiment_name="t")
    for step in range(1, 9):
        logger.log(data=step_metrics(step), step=step)
    logger.finish()
    return tmp_path / "run"


def test_series_per_task_and_family(run_dir):
    series = metrics.group_series(metrics.read_run_metrics(run_dir))
    assert [label for label, _ in series["zero_var_frac"]] == ["all", "counting", "jigsaw"]
    counting = dict(series["zero_var_frac"])["counting"]
    assert counting[0] == (1, 0.0) and counting[-1] == (8, 0.75)
    assert dict(series["reward_mean"])["jigsaw"] == [(s, 0.25) for s in range(1, 9)]
    assert dict(series["level"])["counting"][-1] == (8, 3.0)


def test_png_is_deterministic_and_the_cli_writes_it_only_for_such_runs(run_dir, tmp_path, capsys):
    rows = metrics.read_run_metrics(run_dir)
    a = metrics.plot_group_metrics(rows, tmp_path / "a.png").read_bytes()
    assert a == metrics.plot_group_metrics(rows, tmp_path / "b.png").read_bytes() and a[:4] == b"\x89PNG"
    with Image.open(tmp_path / "a.png") as img:
        assert img.size == (1000, 40 + 3 * 260)
    assert metrics.main([str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert (run_dir / "metrics" / "groups.png").is_file() and "groups.png" in out
    assert "last zero-variance group fraction: 0.500 (step 8)" in out
    assert not metrics.has_group_metrics([{"step": 1, "critic/score/mean": 0.5}])
    metrics.plot_group_metrics([], tmp_path / "empty.png")  # no rows: empty panels with their notes
