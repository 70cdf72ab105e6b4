"""The recipe's docstring examples run, and its README names every launcher variable."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MODULES = ["compose", "dataset", "decode_cache", "jigsaw_reshuffle", "processor_cache", "real_size", "row_checks",
           "tiny_models", "token_counts", "video_features"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"recipes.videossr.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("script", ["train.sh", "slurm/train.sbatch"])
def test_every_environment_variable_is_in_the_readme(script):
    readme = (ROOT / "README.md").read_text()
    text = (ROOT / "launch" / script).read_text()
    names = set(re.findall(r'^([A-Z_]+)="\$\{\1:-', text, flags=re.M))
    assert names, script
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"{script}: document {missing} in README.md"
