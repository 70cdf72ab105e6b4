"""``python -m recipes.videossr.eval viubench|downstream``: every option is a config field of the same
name, with the same default; nothing is copied by hand (``cli.config_from_args``)."""

from __future__ import annotations

import argparse
import ast
import dataclasses
from pathlib import Path

import pytest

from recipes.videossr.eval import cli
from recipes.videossr.eval.downstream.runner import PAPER_FRAME_BUDGETS, DownstreamConfig
from recipes.videossr.eval.viubench import ViubenchConfig
from rewards.scoring import DEFAULT_PARSE_MODE

CONFIGS = {"viubench": ViubenchConfig, "downstream": DownstreamConfig}
REQUIRED = {"viubench": ["--model", "m", "--data", "d", "--out", "o"],
            "downstream": ["--model", "m", "--items", "i.json", "--out", "o"]}
NOT_CONFIG = {"help", "quiet"}  # options of the command itself
NO_FLAG = {"downstream": {"min_pixels"}}  # fields left at their default on the command line


def _subparser(command: str) -> argparse.ArgumentParser:
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


@pytest.mark.parametrize("command", sorted(CONFIGS))
def test_every_option_is_a_field_and_every_field_an_option(command):
    dests = {a.dest for a in _subparser(command)._actions} - NOT_CONFIG
    fields = {f.name for f in dataclasses.fields(CONFIGS[command])} - NO_FLAG.get(command, set())
    assert dests == fields


@pytest.mark.parametrize("command", sorted(CONFIGS))
def test_the_option_defaults_are_the_config_defaults(command):
    args = cli.build_parser().parse_args([command, *REQUIRED[command]])
    converted = {"max_frames": tuple(args.max_frames)} if command == "downstream" else {}
    required = {f.name: getattr(args, f.name) for f in dataclasses.fields(CONFIGS[command])
                if f.default is dataclasses.MISSING}
    assert cli.config_from_args(CONFIGS[command], args, **converted) == CONFIGS[command](**required)


def test_the_pipeline_defaults_come_from_their_sources():
    args = cli.build_parser().parse_args(["viubench", *REQUIRED["viubench"]])
    assert args.parse_mode == ViubenchConfig.parse_mode == DEFAULT_PARSE_MODE
    args = cli.build_parser().parse_args(["downstream", *REQUIRED["downstream"]])
    # the paper's 32 / 48 / 64-frame budgets: one constant, read by the option, its help and the config
    assert args.max_frames == [32, 48, 64] and DownstreamConfig.max_frames == PAPER_FRAME_BUDGETS == (32, 48, 64)
    assert "default 32 48 64" in _subparser("downstream").format_help()


@pytest.mark.parametrize("path", ["recipes/videossr/eval/cli.py", "recipes/videossr/eval/viubench.py"])
def test_the_default_parse_mode_is_read_not_restated(path):
    """Both read rewards.scoring.DEFAULT_PARSE_MODE; neither spells a parse mode of its own."""
    tree = ast.parse((Path(__file__).resolve().parents[3] / path).read_text())
    imported = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert ("rewards.scoring", "DEFAULT_PARSE_MODE") in imported
    literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert not literals & {"released", "strict", "lenient"}


def _capture(monkeypatch, module, function, config_out):
    def run(config, progress=True):
        config_out.append(config)
        return {"ok": 1}

    monkeypatch.setattr(module, function, run)


def test_viubench_flags_reach_the_config(monkeypatch, tmp_path):
    from recipes.videossr.eval import viubench

    seen = []
    _capture(monkeypatch, viubench, "run_viubench", seen)
    (tmp_path / "results.md").write_text("table\n")
    argv = ["viubench", "--model", "m", "--data", "d", "--out", str(tmp_path), "--backend", "vllm",
            "--label", "L", "--batch-size", "3", "--max-new-tokens", "5", "--max-pixels", "7", "--limit", "2",
            "--retry-errors", "--parse-mode", "lenient", "--device", "cpu", "--dtype", "float32",
            "--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.5", "--max-model-len", "4096", "--quiet"]
    assert cli.main(argv) == 0
    assert seen == [ViubenchConfig(model="m", data="d", out=str(tmp_path), backend="vllm", label="L", batch_size=3,
                                   max_new_tokens=5, max_pixels=7, limit=2, retry_errors=True, parse_mode="lenient",
                                   device="cpu", dtype="float32", tensor_parallel_size=2, gpu_memory_utilization=0.5,
                                   max_model_len=4096)]


def test_downstream_flags_reach_the_config(monkeypatch, tmp_path):
    from recipes.videossr.eval.downstream import runner

    seen = []
    _capture(monkeypatch, runner, "run_downstream", seen)
    (tmp_path / "summary.md").write_text("summary\n")
    argv = ["downstream", "--model", "m", "--items", "i.json", "--out", str(tmp_path), "--videos", "v",
            "--name", "N", "--kind", "tg", "--backend", "vllm", "--fps", "1.5", "--max-frames", "32", "64",
            "--max-pixels", "9", "--batch-size", "3", "--max-new-tokens", "5", "--limit", "2", "--retry-errors",
            "--device", "cpu", "--dtype", "float32", "--tensor-parallel-size", "2",
            "--gpu-memory-utilization", "0.5", "--max-model-len", "4096", "--quiet"]
    assert cli.main(argv) == 0
    assert seen == [DownstreamConfig(model="m", items="i.json", out=str(tmp_path), videos="v", name="N", kind="tg",
                                     backend="vllm", fps=1.5, max_frames=(32, 64), max_pixels=9, batch_size=3,
                                     max_new_tokens=5, limit=2, retry_errors=True, device="cpu", dtype="float32",
                                     tensor_parallel_size=2, gpu_memory_utilization=0.5, max_model_len=4096)]
