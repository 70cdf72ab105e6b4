"""tests/gpu: the prepared GPU check (issue 13) and the CPU checks of its helpers.

``smoke_lib.py`` (next to this file) holds the helpers; pytest's importlib mode puts no test folder
on ``sys.path``, so it is loaded here by path and handed to the tests as the ``smoke_lib`` fixture.

Environment (read by the GPU tests; ``smoke.sh`` sets them):
``GPU_SMOKE_OUT``   results folder (``gpu_smoke.json``), default ``outputs/gpu_smoke``;
``GPU_SMOKE_WORK``  inputs folder (dataset + model folders, reused), default ``$GPU_SMOKE_OUT/inputs``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_LIB_NAME = "videossr_gpu_smoke_lib"


def _load_lib():
    if _LIB_NAME in sys.modules:
        return sys.modules[_LIB_NAME]
    spec = importlib.util.spec_from_file_location(_LIB_NAME, Path(__file__).with_name("smoke_lib.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[_LIB_NAME] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def smoke_lib():
    return _load_lib()


@pytest.fixture(scope="session")
def smoke_out() -> Path:
    out = Path(os.environ.get("GPU_SMOKE_OUT") or ROOT / "outputs" / "gpu_smoke").expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="session")
def smoke_inputs(smoke_lib, smoke_out):
    """The GPU check's inputs under ``GPU_SMOKE_WORK`` (built once, reused by later invocations)."""
    work = Path(os.environ.get("GPU_SMOKE_WORK") or smoke_out / "inputs")
    return smoke_lib.prepare(work)


@pytest.fixture(scope="session")
def cpu_smoke_inputs(smoke_lib, tmp_path_factory):
    """The same inputs in a temporary folder, for the CPU checks (never touches outputs/)."""
    return smoke_lib.prepare(tmp_path_factory.mktemp("gpu_smoke") / "inputs")
