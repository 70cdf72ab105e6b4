"""Every command line refuses what argparse would otherwise guess or accept silently."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from data_prep.cli import main as data_prep_main

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for folder in ("data_prep", "rewards", "recipes", "bench", "tools") for p in (ROOT / folder).rglob("*.py")]


def _parser_calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("ArgumentParser", "add_parser"):
            yield node


def test_no_parser_matches_abbreviated_options():
    """argparse's prefix matching takes ``--video`` for ``--videos`` without a word: off everywhere."""
    missing = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in SOURCES for call in _parser_calls(path)
        if not any(k.arg == "allow_abbrev" and isinstance(k.value, ast.Constant) and k.value.value is False
                   for k in call.keywords)
    ]
    assert not missing, f"parsers without allow_abbrev=False: {missing}"
    assert sum(1 for path in SOURCES for _ in _parser_calls(path)) >= 15  # the scan sees the CLIs


@pytest.mark.parametrize(
    "argv, message",
    [
        (["frames", "--video", "v", "--out", "o"], "the following arguments are required: --videos"),
        (["build", "--frame", "f", "--out", "o"], "the following arguments are required: --frames"),
        (["build", "--frames", "f", "--out", "o", "--workers", "0"], "--workers: must be a positive integer, got '0'"),
        (["frames", "--videos", "v", "--out", "o", "--workers", "-1"], "must be a positive integer"),
        (["demo", "--workers", "two"], "must be a positive integer, got 'two'"),
    ],
)
def test_slips_are_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        data_prep_main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
