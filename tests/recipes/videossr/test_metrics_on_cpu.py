"""recipes.videossr.metrics on logs written by verl's own FileLogger, as launch/train.sh sets it up.

The simulated run: attempt A validates at step 0, trains steps 1..7 (validation every 3 steps,
checkpoint every 4) and dies mid-write of step 8; attempt B resumes from the step-4 checkpoint,
validates there, and trains steps 5..10 (validation at 6, 9 and the last step).
"""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recipes.videossr import metrics
from recipes.videossr.metrics import merge_attempts, plot_run_metrics, read_run_metrics, write_metrics_csv

ROOT = Path(__file__).resolve().parents[3]
A, B = "20261202T003419Z", "20261202T091500Z"
SOURCES = ("videossr/counting/easy", "videossr/grounding/mirror", "videossr/jigsaw/n8")


def train_metrics(attempt: str, step: int) -> dict:
    # numpy scalars, as verl logs them (FileLogger serialises with OPT_SERIALIZE_NUMPY)
    bump = 0.5 if attempt == B else 0.0
    return {"critic/score/mean": np.float64(step / 100 + bump), "critic/rewards/mean": step / 100 + bump,
            "response_length/mean": np.float64(200 + step), "training/global_step": step}


def val_metrics(attempt: str, step: int) -> dict:
    bump = 0.5 if attempt == B else 0.0
    out = {}
    for k, source in enumerate(SOURCES):
        out[f"val-core/{source}/acc/mean@1"] = round(k / 10 + step / 100 + bump, 4)
        out[f"val-aux/{source}/score/mean@1"] = 0.9
        out[f"val-aux/{source}/acc/best@2/mean"] = 0.99  # not a core key: never plotted
    out["val-aux/num_turns/mean"] = np.float64(2.0)
    return out


def log_attempt(logs: Path, attempt: str, first: int, last: int, test_freq: int = 3,
                torn: bytes = b"") -> Path:
    """One attempt through verl's FileLogger, the trainer's call pattern (see ray_trainer.fit)."""
    from verl.utils.tracking import FileLogger

    path = logs / f"metrics-{attempt}.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERL_FILE_LOGGER_PATH", str(path))  # what train.sh exports
        logger = FileLogger(project_name="videossr", experiment_name="test")
    logger.log(data=val_metrics(attempt, first), step=first)  # val_before_train, at the resumed step
    for step in range(first + 1, last + 1):
        data = train_metrics(attempt, step)
        if step % test_freq == 0 or step == 10:
            data.update(val_metrics(attempt, step))
        logger.log(data=data, step=step)
    logger.finish()
    if torn:  # a crash mid-write: part of the next line, no newline
        with open(path, "ab") as fh:
            fh.write(torn)
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run") / "videossr_small"
    logs = run / "logs"
    logs.mkdir(parents=True)
    log_attempt(logs, A, 0, 7, torn=b'{"step":8,"data":{"critic/score/me')
    log_attempt(logs, B, 4, 10)
    (logs / "train-20261202T003419Z.log").write_text("not a metrics file\n")
    return run


@pytest.fixture(scope="module")
def rows(run_dir) -> list[dict]:
    with pytest.warns(UserWarning, match="truncated last line"):
        return read_run_metrics(run_dir)


def test_verl_file_logger_line_format_is_what_the_reader_expects(run_dir):
    import json

    first = json.loads((run_dir / "logs" / f"metrics-{A}.jsonl").read_bytes().splitlines()[0])
    assert set(first) == {"step", "data"} and first["step"] == 0
    assert first["data"]["val-core/videossr/jigsaw/n8/acc/mean@1"] == 0.2


def test_merged_table_is_step_ordered_one_row_per_step(rows):
    assert [r["step"] for r in rows] == list(range(0, 11))
    assert list(rows[0])[:2] == ["step", "attempt"]


@pytest.mark.parametrize("step, attempt, score, why", [
    (0, A, None, "initial validation only"),
    (3, A, 0.03, "only A logged it"),
    (4, B, 0.04, "the checkpointed step: A's training metrics stay, B's resume validation is added"),
    (5, B, 0.55, "repeated by B: B wins"),
    (7, B, 0.57, "repeated by B: B wins"),
    (10, B, 0.60, "only B logged it"),
])
def test_later_attempt_wins_on_overlap(rows, step, attempt, score, why):
    row = rows[step]
    assert (row["step"], row["attempt"]) == (step, attempt), why
    assert row.get("critic/score/mean") == (None if score is None else pytest.approx(score)), why


@pytest.mark.parametrize("step, expected", [
    (0, {s: round(k / 10, 4) for k, s in enumerate(SOURCES)}),
    (3, {s: round(k / 10 + 0.03, 4) for k, s in enumerate(SOURCES)}),
    (4, {s: round(k / 10 + 0.54, 4) for k, s in enumerate(SOURCES)}),
    (5, {}),
    (6, {s: round(k / 10 + 0.56, 4) for k, s in enumerate(SOURCES)}),
])
def test_validation_scores_per_data_source(rows, step, expected):
    got = metrics.validation_scores(rows[step])
    assert {s: v for s, (_, v) in got.items()} == expected
    assert {m for m, _ in got.values()} <= {"acc/mean@1"}


def test_values_survive_the_round_trip(rows):
    assert rows[6]["response_length/mean"] == 206.0
    assert rows[6]["training/global_step"] == 6 and isinstance(rows[6]["training/global_step"], int)
    assert rows[6]["val-aux/num_turns/mean"] == 2.0


def log(*steps: int, key: str = "v", value: float = 1.0):
    return [(s, {key: value}) for s in steps]


@pytest.mark.parametrize("attempts, expected, why", [
    ([("a", log(1, 2, 3)), ("b", log(2, 3, value=2.0))],
     [(1, "a", 1.0), (2, "b", 2.0), (3, "b", 2.0)], "repeated steps: the later attempt wins"),
    ([("a", log(0, 1, 2, 3, 4, 5)), ("b", log(2, 3, value=2.0))],
     [(0, "a", 1.0), (1, "a", 1.0), (2, "b", 2.0), (3, "b", 2.0)],
     "steps the crashed attempt logged past the restart are an abandoned branch (b has not caught up)"),
    ([("a", log(1, 2)), ("b", []), ("c", log(3, value=3.0))],
     [(1, "a", 1.0), (2, "a", 1.0), (3, "c", 3.0)], "an attempt that died before logging changes nothing"),
    ([("a", log(0, 1, 2)), ("b", log(0, 1, value=2.0))],
     [(0, "b", 2.0), (1, "b", 2.0)], "a fresh restart (step 0) replaces the whole history"),
    ([("a", log(1) + log(1, key="w", value=5.0))], [(1, "a", 1.0)],
     "a step logged twice by one attempt: merged"),
])
def test_merge_rules(attempts, expected, why):
    merged = merge_attempts(attempts)
    assert [(r["step"], r["attempt"], r["v"]) for r in merged] == expected, why


def test_resume_step_keeps_keys_only_the_earlier_attempt_logged():
    merged = merge_attempts([("a", [(4, {"train": 1.0, "val": 1.0})]),
                             ("b", [(4, {"val": 2.0}), (5, {"train": 3.0})])])
    assert merged[0] == {"step": 4, "attempt": "b", "train": 1.0, "val": 2.0}


@pytest.mark.parametrize("content, warning", [
    (b'{"step":1,"data":{"v":1.0}}\n{"step":2,"da', "truncated last line"),
    (b'{"step":1,"data":{"v":1.0}}\nnot json\n', "unreadable line"),
    (b'{"step":1,"data":{"v":1.0}}\n{"step":2}\n', "unreadable line"),
    (b'{"step":1,"data":{"v":1.0}}\n{"step":"two","data":{}}\n', "unreadable line"),
    (b'{"step":1,"data":{"v":1.0}}\n{"step":2,"data":[1]}\n', "unreadable line"),
    (b'{"step":1,"data":{"v":1.0}}\n[2]\n', "unreadable line"),
    (b'{"step":1,"data":{"v":1.0}}\n\xff\xfe\n', "unreadable line"),
])
def test_bad_lines_are_skipped_with_a_warning_and_never_repaired(tmp_path, content, warning):
    path = tmp_path / f"metrics-{A}.jsonl"
    path.write_bytes(content)
    with pytest.warns(UserWarning, match=warning):
        merged = read_run_metrics(path)
    assert merged == [{"step": 1, "attempt": A, "v": 1.0}]
    assert path.read_bytes() == content  # a live run may still be writing it


@pytest.mark.parametrize("where", ["run_dir", "logs", "file"])
def test_accepts_a_run_dir_its_logs_or_one_file(run_dir, where, recwarn):
    logs = run_dir / "logs"
    path = {"run_dir": run_dir, "logs": logs, "file": logs / f"metrics-{B}.jsonl"}[where]
    merged = read_run_metrics(path)
    assert [r["step"] for r in merged] == (list(range(4, 11)) if where == "file" else list(range(11)))


@pytest.mark.parametrize("make", ["missing", "empty_logs", "no_metrics_files"])
def test_no_metrics_files_is_a_clear_error(tmp_path, make):
    run = tmp_path / "run"
    if make != "missing":
        (run / "logs").mkdir(parents=True)
    if make == "no_metrics_files":
        (run / "logs" / "train-x.log").write_text("")
    hint = r"no metrics-\*\.jsonl files at .*run.*launch/train\.sh writes"
    with pytest.raises(FileNotFoundError, match=hint):
        read_run_metrics(run)


def test_csv_is_deterministic(rows, tmp_path):
    a = write_metrics_csv(rows, tmp_path / "a.csv").read_bytes()
    shuffled = [dict(reversed(list(r.items()))) for r in rows]  # key order of the rows does not matter
    b = write_metrics_csv(shuffled, tmp_path / "sub" / "b.csv").read_bytes()
    assert a == b
    lines = a.decode().splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["step", "attempt"] and header[2:] == sorted(header[2:])
    assert len(lines) == 1 + len(rows)
    row0 = dict(zip(header, lines[1].split(",")))
    assert (row0["step"], row0["attempt"], row0["critic/score/mean"]) == ("0", A, "")  # not logged: empty
    assert dict(zip(header, lines[6].split(",")))["critic/score/mean"] == "0.55"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "sub"]  # no temp file left


@pytest.mark.parametrize("case", ["full", "no_metrics", "no_rows"])
def test_png_is_written(rows, tmp_path, case):
    data = {"full": rows, "no_metrics": [{"step": 1, "attempt": A, "other": 1.0}], "no_rows": []}[case]
    path = plot_run_metrics(data, tmp_path / "m.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as img:
        assert img.width == 1000 and img.height >= 780
    assert plot_run_metrics(data, tmp_path / "again.png").read_bytes() == path.read_bytes()


def test_cli_end_to_end(run_dir, capsys):
    assert metrics.main([str(run_dir)]) == 0
    out, err = capsys.readouterr()
    assert "2 attempt(s) in the table: 20261202T003419Z, 20261202T091500Z" in out
    assert "11 step(s): 0..10" in out
    assert "last critic/score/mean: 0.6000 (step 10)" in out
    assert "last validation (step 10):" in out and "videossr/jigsaw/n8" in out
    assert "warning:" in err and "truncated last line" in err
    csv_bytes = (run_dir / "metrics" / "metrics.csv").read_bytes()
    assert (run_dir / "metrics" / "metrics.png").stat().st_size > 0
    assert metrics.main([str(run_dir / "logs"), "--out", str(run_dir / "again")]) == 0
    assert (run_dir / "again" / "metrics.csv").read_bytes() == csv_bytes


def test_cli_without_logs_exits_1_with_the_hint(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "recipes.videossr.metrics", str(tmp_path / "nothing")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "error: no metrics-*.jsonl files at" in proc.stderr and "launch/train.sh" in proc.stderr


def test_docstring_examples():
    assert doctest.testmod(metrics, optionflags=doctest.ELLIPSIS).failed == 0
