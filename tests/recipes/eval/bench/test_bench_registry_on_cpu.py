"""Every registered benchmark: a complete declaration, a fixture test of its own, a README row."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from recipes.videossr.eval.bench import docs, reference
from recipes.videossr.eval.bench.registry import BENCHMARKS, all_benchmarks, get_benchmark
from recipes.videossr.eval.bench.spec import DOMAINS

ROOT = Path(__file__).resolve().parents[4]


def test_sixteen_benchmarks_four_per_domain_in_the_papers_column_order():
    benches = all_benchmarks()
    assert len(benches) == 16 and list(BENCHMARKS) == list(reference.COLUMNS)
    assert Counter(b.domain for b in benches) == {d: 4 for d in DOMAINS}
    assert len({b.title for b in benches}) == 16


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_each_declaration_is_complete_and_has_its_fixture_test(name):
    bench = get_benchmark(name)
    for field in ("release", "split", "layout", "rule", "source"):
        assert getattr(bench, field).strip(), f"{name}: {field} is empty"
    assert (ROOT / "tests/recipes/eval/bench/benchmarks" / f"test_{name}_on_cpu.py").is_file()
    assert bench.lmms_note.strip(), f"{name}: say what lmms-eval has for it and what differs there"


def test_lmms_eval_has_eleven_of_the_sixteen():
    assert sum(1 for b in all_benchmarks() if b.lmms_task) == 11


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="unknown benchmark 'nope'.*mvbench"):
        get_benchmark("nope")


def test_the_readme_tables_are_the_declarations():
    readme = (ROOT / "README.md").read_text()
    assert docs.benchmarks_table() in readme, "README benchmark table is stale: python -m recipes.videossr.eval.bench.docs"
    assert docs.lmms_table() in readme, "README lmms-eval table is stale: python -m recipes.videossr.eval.bench.docs"
