"""``eval agree`` pieces that run in the CPU environment: the answer sheet is non-trivial, the
in-tree scorer and the input records are the real ones, the comparison gates on the right fields,
and the orchestration (a worker subprocess per harness and phase) writes its report.

The full check with lmms-eval (and vLLM) is ``tests/lmms/test_agree_lmms.py`` / ``make eval-agree``.
"""

from __future__ import annotations

import json
import sys

import pytest

from recipes.videossr.eval import agree
from recipes.videossr.eval.cli import main
from recipes.videossr.eval.columns import table_headers


@pytest.fixture(scope="module")
def rows(viubench_parquet):
    return agree.agree_rows(str(viubench_parquet))


def test_answer_sheet_mixes_right_partial_wrong_and_malformed(rows):
    sheet = agree.answer_sheet(rows)
    assert set(sheet) == {r["_id"] for r in rows}
    truths = {r["_id"]: str(r["reward_model"]["ground_truth"]) for r in rows}
    assert any(sheet[k] == truths[k] for k in sheet) and any(sheet[k] != truths[k] for k in sheet)
    assert any("cannot tell" in v for v in sheet.values()) or any("The answer is" in v for v in sheet.values())
    values = agree.in_tree_scores(rows, sheet)
    assert list(values) == table_headers()
    assert 0 < values["Overall"] < 100  # not trivially all-zero (nor all-right)
    assert agree.in_tree_scores(rows, truths)["Overall"] == 100.0
    # an answer missing from a list is an error record: it scores 0, it is not dropped
    missing = agree.in_tree_scores(rows, {k: v for k, v in truths.items() if k != rows[0]["_id"]})
    assert rows[0]["data_source"] == "videossr/counting/easy" and missing["Cnt-E"] < 100.0 and missing["Overall"] < 100.0


def test_answer_variants_score_as_named():
    from recipes.videossr.eval.scoring import score_viubench

    source, truth = "videossr/counting/hard", "4,8,6"
    assert score_viubench(source, agree.answer_variant(source, truth, "exact"), truth).metric == 1.0
    assert 0 < score_viubench(source, agree.answer_variant(source, truth, "partial"), truth).metric < 1
    assert score_viubench(source, agree.answer_variant(source, truth, "wrong"), truth).metric == 0.0
    assert score_viubench(source, agree.answer_variant(source, truth, "malformed"), truth).parsed is None
    source, truth = "videossr/grounding/shuffle", "1.4-2.1"
    assert 0 < score_viubench(source, agree.answer_variant(source, truth, "partial"), truth).metric < 1


def _record(ids, sha="a", spg=None, positions="p"):
    return {"ids": ids, "tokens": len(ids), "pixels": {"shape": [4, 8], "sha256": sha, "sha256_bf16": sha + "b"},
            "grid_thw": [[2, 2, 2]], "second_per_grid_ts": spg, "positions": {"sha256": positions},
            "settings": {"greedy": True, "max_new_tokens": 4}}


def test_compare_inputs_gates_ids_and_pixels_not_positions():
    ref = {"q1": _record([1, 2, 3]), "q2": _record([4, 5])}
    same = agree.compare_inputs(ref, json.loads(json.dumps(ref)))
    assert same["agree"] and same["equal"]["ids"] == 2 and not same["first_difference"]
    ids = agree.compare_inputs(ref, {"q1": _record([1, 9, 3]), "q2": _record([4, 5])})
    assert not ids["agree"] and ids["first_difference"] == {"ids": "q1"} and ids["equal"]["ids"] == 1
    pixels = agree.compare_inputs(ref, {"q1": _record([1, 2, 3], sha="z"), "q2": _record([4, 5])})
    assert not pixels["agree"] and "pixel_sha256" in pixels["first_difference"]
    # reported, not gated: transformers' and vLLM's positions differ for reasons outside the repo
    positions = agree.compare_inputs(ref, {"q1": _record([1, 2, 3], spg=[0.1], positions="x"), "q2": _record([4, 5])})
    assert positions["agree"] and set(positions["first_difference"]) == {"second_per_grid_ts", "positions"}
    lost = agree.compare_inputs(ref, {"q1": _record([1, 2, 3])})
    assert not lost["agree"] and lost["missing_rows"] == ["q2"]
    assert agree._first_id_mismatch([1, 2, 3], [1, 9, 3]) == 1 and agree._first_id_mismatch([1], [1, 2]) == 1


def test_hf_records_what_generate_receives(rows, tiny_qwen25vl_dir):
    from transformers import AutoProcessor

    from recipes.videossr.eval.backends.base import decode_videos, patch_size_of
    from recipes.videossr.eval.viubench import to_sample
    from verl.utils.tokenizer import build_multimodal_processor_inputs

    plan = {"max_new_tokens": 2, "dtype": "bfloat16"}
    out = agree.hf_inputs(plan, rows[:1], str(tiny_qwen25vl_dir))
    record = out["inputs"][rows[0]["_id"]]
    processor = AutoProcessor.from_pretrained(tiny_qwen25vl_dir)
    messages = to_sample(rows[0], {}).messages
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    expected = build_multimodal_processor_inputs(processor, text=[text], videos=decode_videos(messages, patch_size_of(processor)))
    assert record["ids"] == expected["input_ids"][0].tolist()
    assert record["pixels"] == agree.tensor_digest(expected["pixel_values_videos"])
    assert record["grid_thw"] == expected["video_grid_thw"].tolist()
    assert record["positions"]["shape"] == [3, record["tokens"]]
    assert record["settings"] == {"max_new_tokens": 2, "greedy": True, "repetition_penalty": 1.0, "stop_token_ids": [2]}
    assert isinstance(out["responses"][rows[0]["_id"]], str)


def test_cli_refuses_unknown_harness(viubench_parquet, tiny_qwen25vl_dir, tmp_path, capsys):
    code = main(["agree", "--data", str(viubench_parquet), "--model", str(tiny_qwen25vl_dir), "--out", str(tmp_path),
                 "--harnesses", "hf,nope"])
    assert code == 2 and "unknown nope" in capsys.readouterr().err


@pytest.mark.slow
def test_agree_runs_each_harness_in_its_own_process(viubench_parquet, tiny_qwen25vl_dir, tmp_path):
    # Only the in-tree harness here (lmms-eval is not installed in this environment): one harness
    # is never a verdict, but the worker subprocesses, scoring and report are the real ones.
    config = agree.AgreeConfig(data=str(viubench_parquet), models=(str(tiny_qwen25vl_dir),), out=str(tmp_path),
                               harnesses=("hf",), hf_python=sys.executable, per_subtype=1, max_new_tokens=1)
    report = agree.run_agree(config, progress=False)
    assert report.harnesses == ["hf"] and not report.ok
    assert set(report.scores) == {agree.SHEET, "hf answers, qwen2_5_vl"}
    assert 0 < report.scores[agree.SHEET]["hf"]["Overall"] < 100
    text = (tmp_path / "report.md").read_text()
    assert "| in-tree HF backend |" in text and "Verdict: DISAGREE" in text
    assert json.loads((tmp_path / "report.json").read_text())["rows"] == report.rows
