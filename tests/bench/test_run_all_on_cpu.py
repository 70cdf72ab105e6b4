"""``make bench``'s runner: figures next to their goals, the machine recorded, the README table rendered from it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
run_all = importlib.util.module_from_spec(spec)
sys.modules["run_all"] = run_all  # dataclasses look their module up there
spec.loader.exec_module(run_all)


@pytest.mark.parametrize("goal, value, met", [
    (("<=", 1.3), 1.29, True),
    (("<=", 1.3), 1.31, False),
    ((">=", 25.0), 25.0, True),
    ((">=", 25.0), 15.5, False),
    (None, 3.0, None),
])
def test_goal_check(goal, value, met):
    assert run_all.Figure("b", "k", "label", "x", goal).met(value) is met


def test_every_figure_names_a_known_bench():
    names = {b.name for b in run_all.BENCHES} | {run_all.TESTS.name}
    assert {f.bench for f in run_all.FIGURES} <= names
    for bench in run_all.BENCHES:
        script = next(a for a in bench.argv if a.endswith(".py"))
        assert (ROOT / script).is_file() and "--json" in (ROOT / script).read_text(), script


def test_real_run_records_machine_and_figures(tmp_path, capsys):
    out = tmp_path / "summary.json"
    assert run_all.main(["--only", "rewards", "--out", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["machine"]["usable_cores"] >= 1 and summary["machine"]["cpu"]
    assert summary["benches"]["rewards"]["status"] == "ok"
    keys = {row["key"] for row in summary["figures"]}
    assert {"typical_us_released", "worst_1mb_ms_lenient"} <= keys
    assert all(row["value"] > 0 for row in summary["figures"])
    printed = capsys.readouterr().out
    assert "reward per typical answer, released parse mode" in printed

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{run_all.BEGIN}\nold\n{run_all.END}\noutro\n")
    assert run_all.main(["--render", str(out), "--write-readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text
    assert "Measured by `make bench`" in text and f"{summary['machine']['usable_cores']} cores" in text


def test_readme_table_is_the_committed_summary():
    """README figures are rendered, never typed: regenerate with `make bench-readme`."""
    summary = json.loads((ROOT / "bench" / "results" / "summary.json").read_text())
    readme = (ROOT / "README.md").read_text()
    assert run_all.render_table(summary) in readme
    assert not [n for n, b in summary["benches"].items() if b["status"].startswith("failed")]
