"""Generation backends: one module per backend, registered by one line in ``BACKENDS``.

A backend turns a batch of chat conversations (Qwen-VL message format, videos as qwen-vl-utils
dicts) into one decoded answer per conversation, greedily, at most ``max_new_tokens`` tokens.

>>> sorted(BACKENDS)
['hf', 'vllm']
"""

from __future__ import annotations

import importlib
from pathlib import Path

from recipes.videossr.eval.backends.base import Backend, GenerationSettings

# name -> "module:class"; imported lazily so the CPU install never imports vLLM.
BACKENDS = {
    "hf": "recipes.videossr.eval.backends.hf:HFBackend",
    "vllm": "recipes.videossr.eval.backends.vllm:VLLMBackend",
}


class ModelLoadError(ValueError):
    """The model could not be loaded (one line on the command line, nothing recorded)."""


def check_model(model: str) -> None:
    """Raise ``FileNotFoundError`` for a ``--model`` that is neither a model folder nor a hub id.

    A path that exists must be a Hugging Face model folder (``config.json``); one that does not
    exist is taken for a hub id only if it looks like one (``ORG/NAME``, ``NAME``).

    >>> check_model("/nonexistent/model")
    Traceback (most recent call last):
    ...
    FileNotFoundError: --model /nonexistent/model: no such model folder (a Hugging Face model folder with config.json, or a hub id ORG/NAME)
    """
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"--model {model}: {path} has no config.json (not a Hugging Face model folder)")
        return
    if model.startswith(("/", ".", "~")) or model.count("/") > 1 or model.endswith("/"):
        raise FileNotFoundError(f"--model {model}: no such model folder (a Hugging Face model folder with "
                                "config.json, or a hub id ORG/NAME)")


def load_backend(name: str, model_path: str, settings: GenerationSettings) -> Backend:
    """Instantiate the backend ``name`` for the model at ``model_path``; a model that cannot be
    loaded (``check_model``, or the loader's own error) is one ``ModelLoadError`` line.

    >>> load_backend("nope", "m", GenerationSettings())
    Traceback (most recent call last):
    ...
    ValueError: unknown backend 'nope' (choose from: hf, vllm)
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r} (choose from: {', '.join(sorted(BACKENDS))})")
    check_model(model_path)
    module, cls = BACKENDS[name].split(":")
    backend_class = getattr(importlib.import_module(module), cls)
    try:
        return backend_class(model_path, settings)
    except (OSError, ValueError, RuntimeError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ModelLoadError(f"--model {model_path}: the {name} backend cannot load it "
                             f"({type(exc).__name__}: {first})") from exc


__all__ = ["BACKENDS", "Backend", "GenerationSettings", "ModelLoadError", "check_model", "load_backend"]
