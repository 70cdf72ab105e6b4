"""The docs stay true: docstring examples run, and every CLI option is in the README's tables."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCTEST_PACKAGES = ("data_prep", "rewards")


def _modules():
    for package in DOCTEST_PACKAGES:
        pkg = importlib.import_module(package)
        yield package
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
            if not info.name.endswith("__main__"):
                yield info.name


@pytest.mark.parametrize("module_name", sorted(_modules()))
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"


@pytest.mark.parametrize("cli_module,prog", [("data_prep.cli", "data_prep"), ("recipes.videossr.eval.cli", "eval")])
def test_every_cli_option_is_documented(cli_module, prog):
    import argparse

    readme = (ROOT / "README.md").read_text()
    parser = importlib.import_module(cli_module).build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, subparser in sub.choices.items():
        if f"{prog} {name}" not in readme:
            missing.append(f"command {name}")
        for action in subparser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help" and f"`{flag}" not in readme:
                    missing.append(f"{name} {flag}")
    assert not missing, f"README.md does not document: {missing}"
