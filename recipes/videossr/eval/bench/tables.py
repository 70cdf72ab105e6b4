"""Tables 2 and 3 from finished benchmark runs: Markdown, CSV and a chart, both accountings.

``python -m recipes.videossr.eval tables OUT_1 OUT_2 ... [--viubench VIU_RUN ...] --out DIR``
reads each ``bench`` output folder's ``summary.json`` and writes::

    DIR/tables.md    Table 2 and Table 3 in the paper's accounting, then in the strict one; one row
                     per model x frame budget, the paper's Qwen3-VL-8B / VideoSSR-8B rows beside;
                     per-domain averages; the 16- and 17-benchmark averages; excluded items per cell
    DIR/tables.csv   long form: label, frames, accounting, benchmark, score, n, excluded
    DIR/tables.png   the paper-accounting rows as a grouped bar chart

An average is printed only when every benchmark it averages has a score (a partial average would
not be the paper's). VIUBench (``--viubench``: ``eval viubench`` run folders, matched by label)
enters the 17-benchmark average at the frames its data were built with (the paper: 48).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from data_prep.jsonl import write_atomic
from recipes.videossr.eval.bench import reference
from recipes.videossr.eval.bench.registry import BENCHMARKS, get_benchmark
from recipes.videossr.eval.bench.scoring import ACCOUNTINGS
from recipes.videossr.eval.bench.spec import DOMAINS, TABLE_OF_DOMAIN

VIUBENCH = "VIUBench"
AVG16 = "Avg (16)"
AVG17 = "Avg (17)"


@dataclass
class Row:
    label: str
    frames: int
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # accounting -> benchmark -> score
    excluded: dict[str, int] = field(default_factory=dict)  # benchmark -> items the paper accounting dropped
    n: dict[str, dict[str, int]] = field(default_factory=dict)  # accounting -> benchmark -> items counted
    viubench: float | None = None
    reference: bool = False


def _domain_columns() -> dict[str, list[str]]:
    columns: dict[str, list[str]] = defaultdict(list)
    for name in BENCHMARKS:
        columns[get_benchmark(name).domain].append(name)
    return columns


def _mean(values: list[float | None]) -> float | None:
    return sum(values) / len(values) if values and all(v is not None for v in values) else None


def averages(scores: dict[str, float], viubench: float | None) -> dict[str, float | None]:
    """Per-domain averages, the 16-benchmark average and (with VIUBench) the 17-benchmark one."""
    out: dict[str, float | None] = {}
    for domain, names in _domain_columns().items():
        out[domain] = _mean([scores.get(n) for n in names])
    every = [scores.get(n) for n in BENCHMARKS]
    out[AVG16] = _mean(every)
    out[AVG17] = _mean(every + [viubench]) if viubench is not None else None
    return out


def bench_folders(paths: list[str]) -> list[Path]:
    """The bench output folders among ``paths``: a folder with a bench ``summary.json`` is one; a folder
    without one stands for the bench folders directly inside it (``OUT`` of launch/eval_downstream.sh)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if (path / "summary.json").is_file():
            found.append(path)
            continue
        inside = sorted(p.parent for p in path.glob("*/summary.json") if "budgets" in json.loads(p.read_text()))
        if not inside:
            raise FileNotFoundError(f"{path}: no summary.json, here or in its folders (an output folder of: "
                                    "python -m recipes.videossr.eval bench)")
        found += inside
    return found


def load_rows(runs: list[str], viubench_runs: list[str] = ()) -> list[Row]:
    """One row per (label, frame budget) over the given bench output folders (or folders of them)."""
    rows: dict[tuple[str, int], Row] = {}
    seen: dict[tuple[str, int, str], Path] = {}
    for run in bench_folders(runs):
        result = json.loads((run / "summary.json").read_text())
        if result.get("benchmark") not in BENCHMARKS:
            raise ValueError(f"{run}: not a bench output folder (benchmark {result.get('benchmark')!r})")
        for frames, summary in result["budgets"].items():
            key = (result["label"], int(frames), result["benchmark"])
            if key in seen:
                raise ValueError(f"{run} and {seen[key]} both hold {result['benchmark']} for {result['label']} at "
                                 f"{frames} frames; give one of them another --label")
            seen[key] = run
            row = rows.setdefault(key[:2], Row(result["label"], int(frames)))
            for accounting in ACCOUNTINGS:
                row.scores.setdefault(accounting, {})[result["benchmark"]] = summary[accounting]["score"]
                row.n.setdefault(accounting, {})[result["benchmark"]] = summary[accounting]["n"]
            row.excluded[result["benchmark"]] = sum(summary["paper"]["excluded"].values())
    viu = _viubench_overall(viubench_runs)
    for row in rows.values():
        row.viubench = viu.get(row.label)
    return [rows[k] for k in sorted(rows)]


def _viubench_overall(runs: list[str]) -> dict[str, float]:
    out = {}
    for run in runs:
        path = Path(run) / "summary.json"
        if not path.is_file():
            raise FileNotFoundError(f"--viubench {run}: no summary.json (an output folder of: python -m recipes.videossr.eval viubench)")
        summary = json.loads(path.read_text())
        first = summary["rows"][0]
        out[first["label"]] = first["values"]["Overall"]
    return out


def reference_rows(frames: list[int]) -> list[Row]:
    """The paper's rows at the given budgets (all three if none given)."""
    rows = []
    for label, by_frames in reference.PAPER_ROWS.items():
        for f in frames or sorted(by_frames):
            if f in by_frames:
                scores = dict(by_frames[f])
                rows.append(Row(f"paper: {label}", f, {a: scores for a in ACCOUNTINGS},
                                viubench=reference.PAPER_VIUBENCH[label].get(f), reference=True))
    return rows


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def table_markdown(rows: list[Row], table: int, accounting: str) -> str:
    """One of the paper's tables for one accounting."""
    domains = [d for d in DOMAINS if TABLE_OF_DOMAIN[d] == table]
    columns = _domain_columns()
    headers = ["Model", "Frames"]
    for d in domains:
        headers += [get_benchmark(n).title for n in columns[d]] + [f"{d} avg"]
    if table == 3:
        headers += [AVG16, VIUBENCH, AVG17]
    lines = ["| " + " | ".join(headers) + " |", "|---|---:" + "|---:" * (len(headers) - 2) + "|"]
    for row in rows:
        scores = row.scores.get(accounting, {})
        avg = averages(scores, row.viubench)
        cells = [row.label, str(row.frames)]
        for d in domains:
            for n in columns[d]:
                text = _cell(scores.get(n))
                dropped = row.excluded.get(n, 0) if accounting == "paper" and not row.reference else 0
                cells.append(f"{text} (−{dropped})" if dropped else text)
            cells.append(_cell(avg[d]))
        if table == 3:
            cells += [_cell(avg[AVG16]), _cell(row.viubench), _cell(avg[AVG17])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tables_markdown(rows: list[Row]) -> str:
    frames = sorted({r.frames for r in rows})
    shown = rows + reference_rows(frames)
    shown.sort(key=lambda r: (r.frames, r.reference, r.label))
    parts = ["# Downstream benchmarks (the paper's Tables 2-3)", ""]
    titles = {2: "General Video QA and Long Video QA", 3: "Temporal Grounding and Complex Reasoning"}
    for accounting in ACCOUNTINGS:
        for table in (2, 3):
            parts += [f"## Table {table}: {titles[table]} ({accounting} accounting)", "",
                      table_markdown(shown, table, accounting), ""]
    parts += [
        "Accountings: **paper** = the released eval code's denominator (errors, missing videos and unparsable "
        "answers dropped; a cell's (−k) says how many items were dropped); **strict** = every item counts, "
        "anything not answered scores 0. Rows named 'paper: ...' are the numbers printed in the paper. "
        "Grounding cells are mIoU, VinoGround the text score, VCRBench exact-order accuracy, the rest accuracy. "
        "An average is shown only when all of its benchmarks have a score.",
        "",
    ]
    return "\n".join(parts)


def tables_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["label", "frames", "accounting", "benchmark", "score", "n", "excluded"])
    for row in rows:
        for accounting in ACCOUNTINGS:
            scores = row.scores.get(accounting, {})
            for name in BENCHMARKS:
                if name in scores:
                    writer.writerow([row.label, row.frames, accounting, name, f"{scores[name]:.4f}",
                                     row.n[accounting][name], row.excluded.get(name, 0) if accounting == "paper" else 0])
            for key, value in averages(scores, row.viubench).items():
                if value is not None:
                    writer.writerow([row.label, row.frames, accounting, key, f"{value:.4f}", "", ""])
    return buffer.getvalue()


def write_tables(runs: list[str], out: str, viubench_runs: list[str] = ()) -> str:
    """Write tables.md / tables.csv / tables.png for the runs; returns the Markdown."""
    from recipes.videossr.eval.plot import write_bar_chart
    from recipes.videossr.eval.table import ResultsRow

    rows = load_rows(list(runs), list(viubench_runs))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = tables_markdown(rows)
    write_atomic(out_dir / "tables.md", markdown.encode())
    write_atomic(out_dir / "tables.csv", tables_csv(rows).encode())
    headers = [get_benchmark(n).title for n in BENCHMARKS]
    chart = [ResultsRow(f"{r.label} @{r.frames}", {get_benchmark(n).title: r.scores["paper"].get(n) for n in BENCHMARKS})
             for r in rows + reference_rows(sorted({r.frames for r in rows}))]
    write_bar_chart(chart, out_dir / "tables.png", title="Downstream benchmarks (paper accounting)", headers=headers)
    return markdown
