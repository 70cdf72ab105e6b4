"""Results tables in the paper's Table 1 layout (Markdown + CSV) and the failure accounting.

Values are percentages. A subtype column is the mean per-sample metric over ALL its questions
(failures count as 0); a task average is the mean of its subtype columns; Overall is the mean of
the 9 subtype columns. A column whose questions are absent is empty, and so is every average
that would need it (an Overall over fewer subtypes is not comparable with the paper). Every
function takes the table's ``layout`` (``columns.layout``; default the paper's), so a fork's task
gets its own columns, average and a place in Overall.

>>> recs = [{"group": "videossr/jigsaw/n6", "metric": 1.0, "status": "ok"},
...         {"group": "videossr/jigsaw/n6", "metric": 0.0, "status": "unparsable"}]
>>> row = results_row("run", recs)
>>> row.values["Jig-6"], row.values["Jig-Avg"], row.values["Overall"]
(50.0, None, None)
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from recipes.videossr.eval.columns import OVERALL, PAPER, SUBTYPE_COLUMNS, Layout, columns_of_task, table_headers
from recipes.videossr.eval.samples import STATUSES, status_counts


@dataclass
class ResultsRow:
    label: str
    values: dict[str, float | None]  # header -> percent, None when not available
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # data_source -> n and statuses


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def row_from_means(label: str, means: Mapping[str, float], layout: Layout = PAPER) -> ResultsRow:
    """A table row from per-data_source mean metrics in [0, 1] (averages derived here).

    >>> row_from_means("r", {c.data_source: 0.5 for c in SUBTYPE_COLUMNS}).values["Overall"]
    50.0
    """
    values: dict[str, float | None] = {}
    for task, avg_label in layout.averages:
        task_values = []
        for col in columns_of_task(task, layout):
            v = means.get(col.data_source)
            values[col.label] = None if v is None else 100.0 * v
            task_values.append(values[col.label])
        values[avg_label] = None if None in task_values else _mean(task_values)
    subtype_values = [values[c.label] for c in layout.columns]
    values[OVERALL] = None if None in subtype_values else _mean(subtype_values)
    return ResultsRow(label, values)


def results_row(label: str, records: Iterable[dict[str, Any]], layout: Layout = PAPER) -> ResultsRow:
    """Aggregate per-sample records (``group`` = data_source, ``metric``, ``status``) into a row."""
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_source[r["group"]].append(r)
    means = {ds: _mean([float(r["metric"]) for r in rs]) for ds, rs in by_source.items()}
    row = row_from_means(label, means, layout)
    order = [c.data_source for c in layout.columns]  # table order, then any other sources
    sources = sorted(by_source, key=lambda ds: (order.index(ds) if ds in order else len(order), ds))
    row.counts = {ds: {"n": len(by_source[ds]), **status_counts(by_source[ds])} for ds in sources}
    return row


def _fmt(value: float | None, digits: int) -> str:
    """Round half up, as the paper prints 1/16 = 6.25% as 6.3 (Python's "%.1f" gives 6.2).

    >>> _fmt(6.25, 1), _fmt(100 / 720, 1), _fmt(None, 1)
    ('6.3', '0.1', '')
    """
    if value is None:
        return ""
    # repr is the shortest string that reads back as this float: 6.25 stays 6.25, 0.1+0.2 does not
    # become 0.30000000000000004 -> 0.3 by accident of binary rounding.
    return str(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def to_markdown(rows: Iterable[ResultsRow], digits: int = 1, layout: Layout = PAPER,
                headers: list[str] | None = None) -> str:
    """Markdown table, one line per row, Table 1 column order (or ``headers``); empty cells are '-'."""
    headers = headers or table_headers(layout)
    lines = ["| Model | " + " | ".join(headers) + " |", "|---|" + "---:|" * len(headers)]
    for row in rows:
        cells = [_fmt(row.values.get(h), digits) or "-" for h in headers]
        lines.append(f"| {row.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_csv(rows: Iterable[ResultsRow], digits: int = 2, layout: Layout = PAPER,
           headers: list[str] | None = None, lead: Mapping[str, list[str]] | None = None) -> str:
    """CSV with a ``model`` column then the Table 1 headers (or ``headers``); unavailable cells are
    empty. ``lead``: extra leading columns, header -> one value per row (e.g. which data a row is on)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    headers = headers or table_headers(layout)
    rows = list(rows)
    lead = dict(lead or {})
    writer.writerow(["model", *lead, *headers])
    for k, row in enumerate(rows):
        writer.writerow([row.label, *[values[k] for values in lead.values()],
                         *[_fmt(row.values.get(h), digits) for h in headers]])
    return buf.getvalue()


def merged_headers(header_lists: Iterable[list[str]], layout: Layout = PAPER) -> list[str]:
    """Table 1's headers first, then every other header in the order the lists first name it; Overall last.

    >>> merged_headers([["Cnt-E", "AoT", "AoT-Avg", "Overall"]])[-3:]
    ['AoT', 'AoT-Avg', 'Overall']
    """
    headers = [h for h in table_headers(layout) if h != OVERALL]
    for names in header_lists:
        headers += [h for h in names if h not in headers and h != OVERALL]
    return headers + [OVERALL]


def accounting_markdown(row: ResultsRow) -> str:
    """Per data_source: questions, and how many ended ok / unparsable / error / missing_video."""
    lines = ["| data_source | n | " + " | ".join(STATUSES) + " |", "|---|" + "---:|" * (1 + len(STATUSES))]
    totals = {k: 0 for k in ("n", *STATUSES)}
    for ds, counts in row.counts.items():
        lines.append(f"| {ds} | {counts['n']} | " + " | ".join(str(counts[s]) for s in STATUSES) + " |")
        for k in totals:
            totals[k] += counts[k]
    lines.append(f"| **all** | {totals['n']} | " + " | ".join(str(totals[s]) for s in STATUSES) + " |")
    return "\n".join(lines) + "\n"


def unknown_sources(row: ResultsRow, layout: Layout = PAPER) -> list[str]:
    """data_sources that were evaluated but have no Table 1 column (reported, not tabulated)."""
    known = {c.data_source for c in layout.columns}
    return [ds for ds in row.counts if ds not in known]
