"""Tables 2-3 from bench output folders: rows per model x budget, both accountings, the paper's rows
beside, domain / 16 / 17-benchmark averages, excluded counts, refusals."""

from __future__ import annotations

import csv
import io
import json

import pytest

from recipes.videossr.eval.bench import reference
from recipes.videossr.eval.bench.registry import BENCHMARKS, get_benchmark
from recipes.videossr.eval.bench.scoring import summarize_run
from recipes.videossr.eval.bench.tables import AVG16, AVG17, averages, write_tables
from recipes.videossr.eval.cli import main


def _bench_out(tmp_path, name, label, scores_by_frames, dropped=0):
    """A bench output folder whose records give ``score`` percent (paper accounting) at each budget."""
    bench = get_benchmark(name)
    budgets = {}
    for frames, score in scores_by_frames.items():
        right = round(score * 10)  # 1000 items: 0.1-point resolution
        records = [{"id": f"{k:04d}", "status": "ok", "metric": 1.0 if k < right else 0.0, "group": "",
                    **({"pair": f"{k}"} if bench.metric == "text_score" else {})} for k in range(1000)]
        records += [{"id": f"x{k}", "status": "error", "metric": 0.0, "group": ""} for k in range(dropped)]
        if bench.kind == "tg":
            records = [{**r, "metric": float(r["metric"])} for r in records]
        budgets[str(frames)] = {"status_counts": {}, **summarize_run(bench, records)}
    out = tmp_path / label / name
    out.mkdir(parents=True)
    (out / "summary.json").write_text(json.dumps({"benchmark": name, "title": bench.title, "domain": bench.domain,
                                                  "label": label, "model": "m", "metric": "", "budgets": budgets}))
    return str(out)



def test_the_paper_rows_give_the_papers_average_gains():
    for frames in (32, 48, 64):
        base = averages(reference.PAPER_ROWS["Qwen3-VL-8B-Instruct"][frames], None)[AVG16]
        ours = averages(reference.PAPER_ROWS["VideoSSR-8B"][frames], None)[AVG16]
        assert ours - base == pytest.approx(reference.average_gain(frames, with_viubench=False))
    assert reference.average_gain(48, with_viubench=True) == pytest.approx(5.1, abs=0.05)  # the paper: +5.1 over 17
    assert list(reference.COLUMNS) == list(BENCHMARKS)  # the paper's column order is the registry's


def test_tables_reproduce_the_paper_row_from_runs_with_those_scores(tmp_path):
    row = reference.PAPER_ROWS["Qwen3-VL-8B-Instruct"][48]
    runs = [_bench_out(tmp_path, n, "mine", {48: row[n]}, dropped=3 if n == "mvbench" else 0) for n in BENCHMARKS]
    viu = tmp_path / "viu"
    viu.mkdir()
    (viu / "summary.json").write_text(json.dumps({"rows": [{"label": "mine", "values": {"Overall": 19.5}}]}))
    assert main(["tables", *runs, "--viubench", str(viu), "--out", str(tmp_path / "t")]) == 0
    md = (tmp_path / "t" / "tables.md").read_text()
    for accounting in ("paper", "strict"):
        assert f"## Table 2: General Video QA and Long Video QA ({accounting} accounting)" in md
        assert f"## Table 3: Temporal Grounding and Complex Reasoning ({accounting} accounting)" in md
    table2 = md.split("## Table 2")[1]
    mine = next(line for line in table2.splitlines() if line.startswith("| mine | 48 |"))
    paper = next(line for line in table2.splitlines() if line.startswith("| paper: Qwen3-VL-8B-Instruct | 48 |"))
    assert mine.replace(" (−3)", "") == paper.replace("paper: Qwen3-VL-8B-Instruct", "mine")  # same cells
    assert "66.9" not in mine and "67.6 (−3)" in mine  # the dropped errors are shown in the paper accounting
    table3 = md.split("## Table 3")[1].split("## ")[0]
    mine3 = [c.strip() for c in next(x for x in table3.splitlines() if x.startswith("| mine | 48 |")).strip("|").split("|")]
    expected16 = sum(row.values()) / 16
    assert mine3[-3] == f"{expected16:.1f}" and mine3[-2] == "19.5" and mine3[-1] == f"{(expected16 * 16 + 19.5) / 17:.1f}"
    strict = md.split("(strict accounting)")[1]
    assert "| mine | 48 | 67.4 |" in strict  # 676 right of 1003 items: the errors count as wrong
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t" / "tables.csv").read_text())))
    mv = [r for r in rows if r["benchmark"] == "mvbench" and r["accounting"] == "paper"][0]
    assert mv["n"] == "1000" and mv["excluded"] == "3" and float(mv["score"]) == pytest.approx(67.6)
    assert any(r["benchmark"] == AVG17 for r in rows)
    assert (tmp_path / "t" / "tables.png").read_bytes()[:4] == b"\x89PNG"


def test_partial_runs_show_no_average_and_duplicates_are_refused(tmp_path):
    a = _bench_out(tmp_path, "mvbench", "mine", {32: 50.0, 64: 60.0})
    md = write_tables([a], str(tmp_path / "t"))
    line = next(x for x in md.splitlines() if x.startswith("| mine | 32 |"))
    assert "| 50.0 | — | — | — | — |" in line  # General Video QA avg needs all four
    assert "| paper: VideoSSR-8B | 64 |" in md and "| paper: VideoSSR-8B | 48 |" not in md  # only the budgets run
    b = _bench_out(tmp_path / "again", "mvbench", "mine", {32: 40.0})
    with pytest.raises(ValueError, match="both hold mvbench for mine at 32 frames"):
        write_tables([a, b], str(tmp_path / "t2"))
    assert write_tables([str(tmp_path / "mine")], str(tmp_path / "t3")) == md  # a folder of bench folders
    with pytest.raises(FileNotFoundError, match="no summary.json, here or in its folders"):
        write_tables([str(tmp_path / "t")], str(tmp_path / "t4"))
