"""The VIUBench task under real lmms-eval 0.7.3 (``make lmms-venv``): its Qwen-VL model classes see
the in-tree inputs, the task refuses settings that would change them, a ``--limit`` run reports the
columns it has (null, never NaN), and ``eval agree`` finds the in-tree HF backend and lmms-eval
identical on the test VIUBench.

Run: ``.venv-lmms/bin/python -m pytest -q -m lmms tests/lmms`` (the agreement test also needs the
CPU environment ``.venv`` for the in-tree harness; ``make eval-agree`` runs the same on the demo data).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("lmms_eval", reason="needs lmms-eval 0.7.3 in this environment: make lmms-venv")

from recipes.videossr.eval import agree, lmms_task  # noqa: E402

pytestmark = [pytest.mark.lmms, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = "Based on this video, provide the answer directly."


@pytest.fixture(scope="module")
def clips(viubench_parquet):
    from data_prep.media import resolve_videos

    row = agree.agree_rows(str(viubench_parquet))[0]
    videos = resolve_videos(row["videos"], Path(viubench_parquet).parent)
    return [{**v, "frames": len(v["video"]) + len(v["video"]) % 2} for v in videos]


@pytest.fixture(scope="module")
def recommended(viubench_parquet, tmp_path_factory):
    path = lmms_task.write_lmms_task(viubench_parquet, tmp_path_factory.mktemp("task") / "task")
    return lmms_task.read_task_settings(path.parent)["model_args"]


def _model(cls, directory, args: str = "", **kwargs):
    from lmms_eval.utils import simple_parse_args_string

    return cls(pretrained=str(directory), device="cpu", device_map="cpu", **simple_parse_args_string(args), **kwargs)


def test_qwen2_5_vl_class_settings_are_checked(tiny_qwen25vl_dir, clips, recommended):
    from lmms_eval.models.chat.qwen2_5_vl import Qwen2_5_VL

    lmms_task.check_model(_model(Qwen2_5_VL, tiny_qwen25vl_dir, recommended), clips, SYSTEM, False, recommended)
    with pytest.raises(ValueError, match="min_pixels=200704"):  # lmms-eval's default enlarges the frames
        lmms_task.check_model(_model(Qwen2_5_VL, tiny_qwen25vl_dir), clips, SYSTEM, False, recommended)
    fewer = ",".join(a for a in recommended.split(",") if not a.startswith(("fps=", "max_num_frames="))) + ",max_num_frames=32"
    with pytest.raises(ValueError, match="keep 32 of a clip's 48 frames"):
        lmms_task.check_model(_model(Qwen2_5_VL, tiny_qwen25vl_dir, fewer), clips, SYSTEM, False, recommended)


def test_qwen3_vl_class_gets_the_rows_system_prompt(tiny_qwen3vl_dir, clips, recommended):
    from lmms_eval.models.chat.qwen3_vl import Qwen3_VL

    model = _model(Qwen3_VL, tiny_qwen3vl_dir, recommended)
    assert model.system_prompt == "You are a helpful assistant."  # the class default; a model arg cannot hold ours
    lmms_task.check_model(model, clips, SYSTEM, True, recommended)
    assert model.system_prompt == SYSTEM
    other = _model(Qwen3_VL, tiny_qwen3vl_dir, recommended, system_prompt="Be brief.")
    with pytest.raises(ValueError, match="system_prompt='Be brief.'"):
        lmms_task.check_model(other, clips, SYSTEM, True, recommended)
    with pytest.raises(ValueError, match="total_pixels"):
        lmms_task.check_model(_model(Qwen3_VL, tiny_qwen3vl_dir, recommended + ",total_pixels=9000000"), clips,
                              SYSTEM, True, recommended)


def test_limit_reports_present_columns_and_null_for_the_rest(viubench_parquet, tmp_path):
    # lmms-eval's own --limit 2 through its CLI, answers replayed by its from_log model
    plan = {"data": str(viubench_parquet), "work": str(tmp_path)}
    rows = agree.agree_rows(str(viubench_parquet))
    task = agree.lmms_task_dir(plan)
    logs = tmp_path / "logs"
    logs.mkdir()
    log = {"args": {"model": "x", "model_args": "", "limit": None}, "model_configs": {"task": "viubench"}, "time": "0101_0000",
           "logs": [{"doc_id": k, "resps": [[str(r["reward_model"]["ground_truth"])]]} for k, r in enumerate(rows)]}
    (logs / "log.json").write_text(json.dumps(log))
    run = agree.run_lmms_cli(["--model", "from_log", "--model_args", f"logs={logs}", "--tasks", "viubench",
                              "--include_path", str(task), "--limit", "1", "--verbosity", "WARNING"], tmp_path / "out")
    results = run["results"]["results"]["viubench"]
    assert results["cnt_e,none"] == 100.0
    assert results["overall,none"] is None and results["jig_8,none"] is None
    text = next((tmp_path / "out").rglob("*_results.json")).read_text()
    assert "NaN" not in text and not any(isinstance(v, float) and math.isnan(v) for v in results.values())


def test_agree_in_tree_hf_and_lmms_eval(viubench_parquet, tiny_qwen3vl_dir, tmp_path):
    hf_python = ROOT / ".venv" / "bin" / "python"
    if not hf_python.exists():
        pytest.skip("the in-tree harness needs the CPU environment .venv (make venv)")
    config = agree.AgreeConfig(data=str(viubench_parquet), models=(str(tiny_qwen3vl_dir),), out=str(tmp_path / "agree"),
                               harnesses=("hf", "lmms"), hf_python=str(hf_python), lmms_python=sys.executable,
                               max_new_tokens=2)
    report = agree.run_agree(config, progress=False)
    assert report.ok, (tmp_path / "agree" / "report.md").read_text()
    (entry,) = report.inputs
    assert entry["rows"] == 9 and not entry["first_difference"]  # positions and timestamps too
    assert 0 < report.scores[agree.SHEET]["lmms"]["Overall"] < 100
    assert report.scores[agree.SHEET]["lmms"] == report.scores[agree.SHEET]["hf"]
    assert report.responses_equal == {"qwen3_vl": True}
