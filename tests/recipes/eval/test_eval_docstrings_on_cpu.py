"""Docstring examples of the evaluation package run and stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import recipes.videossr.eval as package

SKIP = ("__main__", "backends.hf", "backends.vllm")  # need a model / a GPU: covered by their own tests
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    if not info.name.endswith(SKIP)
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name):
    result = doctest.testmod(importlib.import_module(module_name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"
