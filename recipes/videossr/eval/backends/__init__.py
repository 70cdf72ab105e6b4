"""Generation backends: one module per backend, registered by one line in ``BACKENDS``.

A backend turns a batch of chat conversations (Qwen-VL message format, videos as qwen-vl-utils
dicts) into one decoded answer per conversation, greedily, at most ``max_new_tokens`` tokens.

>>> sorted(BACKENDS)
['hf', 'vllm']
"""

from __future__ import annotations

import importlib

from recipes.videossr.eval.backends.base import Backend, GenerationSettings

# name -> "module:class"; imported lazily so the CPU install never imports vLLM.
BACKENDS = {
    "hf": "recipes.videossr.eval.backends.hf:HFBackend",
    "vllm": "recipes.videossr.eval.backends.vllm:VLLMBackend",
}


def load_backend(name: str, model_path: str, settings: GenerationSettings) -> Backend:
    """Instantiate the backend ``name`` for the model at ``model_path``.

    >>> load_backend("nope", "m", GenerationSettings())
    Traceback (most recent call last):
    ...
    ValueError: unknown backend 'nope' (choose from: hf, vllm)
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r} (choose from: {', '.join(sorted(BACKENDS))})")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)(model_path, settings)


__all__ = ["BACKENDS", "Backend", "GenerationSettings", "load_backend"]
