"""Results tables: hand-computed Table 1 values, Markdown/CSV layout, failure accounting."""

from __future__ import annotations

import csv
import io

import pytest

from recipes.videossr.eval.columns import SUBTYPE_COLUMNS, table_headers
from recipes.videossr.eval.table import accounting_markdown, results_row, row_from_means, to_csv, to_markdown

DS = {c.label: c.data_source for c in SUBTYPE_COLUMNS}


def rec(label: str, metric: float, status: str = "ok") -> dict:
    return {"group": DS[label], "metric": metric, "status": status}


def full_records() -> list[dict]:
    """Per-subtype metrics chosen so that mean-of-9 != mean-of-3-task-averages."""
    records = [rec("Cnt-E", 1.0), rec("Cnt-E", 0.5), rec("Cnt-E", 0.0, "unparsable"), rec("Cnt-E", 0.0, "error")]
    records += [rec("Cnt-H", 0.25)]
    records += [rec(lbl, 0.6) for lbl in ("Chan", "Rot", "ZoomOut", "Mirror", "Shuffle")]
    records += [rec("Jig-6", 1.0), rec("Jig-6", 0.0, "missing_video")]
    records += [rec("Jig-8", 0.0)]
    return records


def test_hand_computed_row():
    row = results_row("m", full_records())
    v = row.values
    assert v["Cnt-E"] == pytest.approx(100 * 1.5 / 4)  # failures stay in the denominator
    assert v["Cnt-H"] == pytest.approx(25.0)
    assert v["Cnt-Avg"] == pytest.approx((37.5 + 25.0) / 2)
    assert v["Grd-Avg"] == pytest.approx(60.0)
    assert v["Jig-6"] == pytest.approx(50.0) and v["Jig-8"] == 0.0
    assert v["Jig-Avg"] == pytest.approx(25.0)
    overall_of_9 = (37.5 + 25.0 + 5 * 60.0 + 50.0 + 0.0) / 9
    assert v["Overall"] == pytest.approx(overall_of_9)
    assert v["Overall"] != pytest.approx((31.25 + 60.0 + 25.0) / 3)  # not the mean of task averages


def test_missing_subtype_blanks_its_averages_only():
    records = [r for r in full_records() if r["group"] != DS["Jig-8"]]
    v = results_row("m", records).values
    assert v["Jig-8"] is None and v["Jig-Avg"] is None and v["Overall"] is None
    assert v["Cnt-Avg"] == pytest.approx(31.25) and v["Jig-6"] == pytest.approx(50.0)


def test_accounting_counts_every_status():
    row = results_row("m", full_records())
    assert row.counts[DS["Cnt-E"]] == {"n": 4, "ok": 2, "unparsable": 1, "error": 1, "missing_video": 0}
    md = accounting_markdown(row)
    assert "| videossr/counting/easy | 4 | 2 | 1 | 1 | 0 |" in md
    assert md.strip().splitlines()[-1] == "| **all** | 13 | 10 | 1 | 1 | 1 |"


def test_markdown_and_csv_layout():
    rows = [results_row("run-a", full_records()), row_from_means("half", {c.data_source: 0.5 for c in SUBTYPE_COLUMNS})]
    md = to_markdown(rows).splitlines()
    assert md[0] == "| Model | " + " | ".join(table_headers()) + " |"
    assert md[0].split(" | ")[1:4] == ["Cnt-E", "Cnt-H", "Cnt-Avg"] and md[0].endswith("| Overall |")
    assert md[2].startswith("| run-a | 37.5 | 25.0 | 31.3 | 60.0 |")  # 31.25 rounded half up, like the paper
    assert md[3] == "| half | " + " | ".join(["50.0"] * 13) + " |"
    parsed = list(csv.reader(io.StringIO(to_csv(rows))))
    assert parsed[0] == ["model", *table_headers()]
    assert parsed[1][:3] == ["run-a", "37.50", "25.00"] and parsed[2][-1] == "50.00"
    blank = to_csv([results_row("x", [rec("Cnt-E", 1.0)])]).splitlines()[1].split(",")
    assert blank[1] == "100.00" and blank[2] == "" and blank[-1] == ""
