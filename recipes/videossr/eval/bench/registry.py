"""Every downstream benchmark, by command-line name, in the column order of the paper's Tables 2-3.

One line per benchmark: ``name -> module`` whose ``BENCHMARK`` is its declaration (``spec.Benchmark``).
Modules are imported on use, so a broken fork module only breaks its own benchmark.

>>> list(BENCHMARKS)[:2]
['mvbench', 'tempcompass']
"""

from __future__ import annotations

import importlib

from recipes.videossr.eval.bench.spec import Benchmark

_PACKAGE = "recipes.videossr.eval.bench.benchmarks"

BENCHMARKS = {
    # Table 2: General Video QA
    "mvbench": f"{_PACKAGE}.mvbench",
    "tempcompass": f"{_PACKAGE}.tempcompass",
    "aotbench": f"{_PACKAGE}.aotbench",
    "vinoground": f"{_PACKAGE}.vinoground",
    # Table 2: Long Video QA
    "videomme": f"{_PACKAGE}.videomme",
    "lvbench": f"{_PACKAGE}.lvbench",
    "longvideobench": f"{_PACKAGE}.longvideobench",
    "cgbench": f"{_PACKAGE}.cgbench",
    # Table 3: Temporal Grounding
    "qvhighlights": f"{_PACKAGE}.qvhighlights",
    "activitynet": f"{_PACKAGE}.activitynet",
    "charades": f"{_PACKAGE}.charades",
    "tacos": f"{_PACKAGE}.tacos",
    # Table 3: Complex Reasoning
    "videommmu": f"{_PACKAGE}.videommmu",
    "videott": f"{_PACKAGE}.videott",
    "vcrbench": f"{_PACKAGE}.vcrbench",
    "cvbench": f"{_PACKAGE}.cvbench",
}


def get_benchmark(name: str) -> Benchmark:
    """The declaration registered as ``name``; ValueError listing the names otherwise."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r} (python -m recipes.videossr.eval bench --list): "
                         f"{', '.join(BENCHMARKS)}")
    bench = importlib.import_module(BENCHMARKS[name]).BENCHMARK
    if bench.name != name:
        raise ValueError(f"{BENCHMARKS[name]} declares {bench.name!r}, registered as {name!r}")
    return bench


def all_benchmarks() -> list[Benchmark]:
    return [get_benchmark(name) for name in BENCHMARKS]
