"""``eval table`` (issue 24 item 8) and every evaluated data source in the run's table (item 9).

Runs are written by the real writer (``viubench.write_viubench_outputs``) with hand-made rows, so
what is under test is what ``eval table`` makes of them: runs on other questions (other data, a
``--limit`` subset) are refused or, asked, put in separate tables; labels are unique; the
best-constant row says it was fitted on the answers it is scored on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from data_prep.build import build_dataset
from data_prep.tasks import registry
from recipes.videossr.eval.cli import main
from recipes.videossr.eval.columns import SUBTYPE_COLUMNS
from recipes.videossr.eval.random_guess import BEST_CONSTANT, RANDOM_GUESS
from recipes.videossr.eval.table import row_from_means
from recipes.videossr.eval.viubench import write_viubench_outputs

FORK = Path(__file__).resolve().parents[2] / "fork_task"


def write_run(folder: Path, label: str, score: float, fingerprint: str, questions: int, in_file: int) -> Path:
    means = {c.data_source: score for c in SUBTYPE_COLUMNS}
    rows = [row_from_means(label, means), row_from_means(RANDOM_GUESS, {c.data_source: 0.1 for c in SUBTYPE_COLUMNS}),
            row_from_means(BEST_CONSTANT, {c.data_source: 0.3 for c in SUBTYPE_COLUMNS})]
    settings = {"benchmark": "viubench", "data_fingerprint": fingerprint, "questions": questions}
    data = {"file": "/data/viubench.parquet", "fingerprint": fingerprint, "questions": questions,
            "questions_in_file": in_file, "file_fingerprint": "all"}
    write_viubench_outputs(folder, rows, settings, data=data)
    return folder


def test_runs_on_other_questions_are_refused_or_separated(tmp_path, capsys):
    a = write_run(tmp_path / "a" / "global_step_468", "global_step_468", 0.5, "f-full", 27, 27)
    b = write_run(tmp_path / "b" / "global_step_468", "global_step_468", 0.7, "f-full", 27, 27)
    partial = write_run(tmp_path / "partial", "partial", 0.9, "f-first26", 26, 27)
    other = write_run(tmp_path / "other", "other", 0.2, "f-other", 27, 27)
    out = tmp_path / "table"

    assert main(["table", str(a), str(partial), str(other), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "evaluated different questions" in err and "the first 26 of 27 questions" in err and "--separate" in err
    assert not out.exists()

    assert main(["table", str(a), str(b), str(partial), str(other), "--out", str(out), "--separate"]) == 0
    md = (out / "table.md").read_text()
    sections = [line for line in md.splitlines() if line.startswith("## ")]
    assert len(sections) == 3 and any("the first 26 of 27" in s for s in sections)
    assert "Partial" in md
    labels = [line.split("|")[1].strip() for line in md.splitlines() if line.startswith("| ") and "Model" not in line]
    runs = [label for label in labels if label not in (RANDOM_GUESS, BEST_CONSTANT)]
    assert len(runs) == len(set(runs)) == 4  # the two global_step_468 rows are told apart
    assert labels.count(RANDOM_GUESS) == 3  # each set of questions with its own reference rows
    csv_lines = (out / "table.csv").read_text().splitlines()
    assert csv_lines[0].startswith("model,data_fingerprint,questions,")
    assert sum(",f-first26,26," in line for line in csv_lines) == 3


def test_best_constant_row_says_it_is_fitted_on_the_test_answers(tmp_path):
    run = write_run(tmp_path / "run", "m", 0.5, "f", 27, 27)
    summary = json.loads((run / "summary.json").read_text())
    assert [r["label"] for r in summary["rows"]][2] == BEST_CONSTANT == "Best constant (fitted on these answers)"
    assert "chosen on these very answers" in (run / "results.md").read_text()
    # a run folder written before the rename reads with the new name
    summary["rows"][2]["label"] = "Best constant"
    (run / "summary.json").write_text(json.dumps(summary))
    assert main(["table", str(run), "--out", str(tmp_path / "t")]) == 0
    assert f"| {BEST_CONSTANT} |" in (tmp_path / "t" / "table.md").read_text()


@pytest.fixture
def fork_data(frames_dir, tmp_path):
    """Rows of a fork's task (tests/fork_task: 6 arrow-of-time questions + 1 jigsaw) in a dataset folder."""
    sys.path.insert(0, str(FORK))
    try:
        summary = build_dataset(frames_dir, tmp_path / "data", FORK / "arrow_of_time.yaml", progress=False)
        yield summary.parquet
    finally:
        sys.path.remove(str(FORK))
        registry._REGISTRY.pop("arrow_of_time", None)
        sys.modules.pop("videossr_fork.arrow_of_time", None)


class Forward:
    """A backend answering "forward" to everything (the table is under test, not a model)."""

    def generate(self, conversations):
        return ["forward"] * len(conversations)


def test_a_fork_tasks_score_is_reported(fork_data, tmp_path, monkeypatch):
    """Issue 24 item 9: the fork's column has its score (Table 1's columns first, the fork's after),
    and the same accounting; nothing is left "evaluated but not in the table"."""
    from recipes.videossr.eval import viubench

    monkeypatch.setattr(viubench, "load_backend", lambda *args: Forward())
    out = tmp_path / "run"
    assert main(["viubench", "--model", "fake/model", "--data", str(fork_data), "--out", str(out), "--quiet"]) == 0
    md = (out / "results.md").read_text()
    header = md.splitlines()[2]
    assert header.startswith("| Model | Cnt-E |") and header.endswith("| Jig-Avg | AoT | AoT-Avg | Overall |")
    row = next(line for line in md.splitlines() if line.startswith("| model |"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    records = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    fork = [r for r in records if r["data_source"] == "videossr/arrow_of_time/clip"]
    assert len(fork) == 6
    assert cells[-3] == cells[-2] == f"{100 * sum(r['metric'] for r in fork) / 6:.1f}"  # AoT and its average
    assert "| videossr/arrow_of_time/clip | 6 |" in md and "not in" not in md
    summary = json.loads((out / "summary.json").read_text())
    assert summary["headers"][-3:] == ["AoT", "AoT-Avg", "Overall"]
    assert summary["rows"][1]["values"]["AoT"] == pytest.approx(50.0)  # random guess: one of two answers
