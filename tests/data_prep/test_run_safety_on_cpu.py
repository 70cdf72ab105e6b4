"""Issue 24, data stages: nothing lost, nothing silently wrong.

One writer per output folder (a lock), a full frame check, data problems (recorded skips) apart from
program or environment errors (the run fails and records nothing), impossible options refused
before any work, a folder's config written only once something was made with it, and user errors
as one line (no traceback, not a hang).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_prep import build as build_module
from data_prep import decode
from data_prep.build import build_dataset, read_rows
from data_prep.builders.mixes import parse_mix
from data_prep.cli import main
from data_prep.frames import CONFIG, MANIFEST, extract_frames, load_manifest
from data_prep.locks import LOCK_FILE, folder_lock
from data_prep.tasks.base import SkipSample

REPO = Path(__file__).resolve().parents[2]


def build_args(frames: Path, out: Path, *extra: str) -> list[str]:
    return ["build", "--frames", str(frames), "--out", str(out), "--recipe", "viubench", "--per-subtype", "1",
            "--no-progress", *extra]


# -- item 1: one writer per folder, and a check that sees every frame ---------------------------------

def test_a_second_writer_is_refused_with_the_holders_pid(frames_dir, synthetic_videos, tmp_path, capsys):
    out = tmp_path / "data"
    with folder_lock(out, "build"):  # a build running elsewhere on the same folder
        assert main(build_args(frames_dir, out)) == 2
        err = capsys.readouterr().err
        assert f"another build holds {out} (pid {os.getpid()})" in err
        assert main(["frames", "--videos", str(synthetic_videos), "--out", str(out), "--no-progress"]) == 2
        assert "another build holds" in capsys.readouterr().err
    assert not any(out.glob("*.parquet")) and not (out / "frames").exists()  # the refused runs wrote nothing
    assert main(build_args(frames_dir, out)) == 0  # the lock ends with its holder
    assert (out / LOCK_FILE).read_bytes() == b""  # no pid left in the folder's bytes


def test_media_check_finds_any_missing_frame(frames_dir, tmp_path, capsys):
    out = tmp_path / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=1, progress=False)
    assert main(["media", str(out), "--check"]) == 0
    assert "frame files of" in capsys.readouterr().out
    rows = read_rows(out / "viubench.parquet")
    # a middle frame of a clip: a first/last-frame row check cannot see it
    k, path = next((k, p) for k, r in enumerate(rows) for v in r["videos"] for p in v["video"][1:-1]
                   if p.startswith("frames/"))
    (out / path).unlink()
    assert main(["media", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    # the row in viubench.parquet and its copy in the validation slice viubench_val.parquet
    assert "2 of 864 frame files missing, in 2 of 18 rows" in err and path in err and f"rows {k}:" in err
    assert "viubench.rows.jsonl" in err  # the fix: the build that wrote it, again


# -- item 2: data problems are skips, program and environment errors fail the run ---------------------

class BrokenTask:
    """A task whose make_sample has a bug (as a fork's 1/0)."""

    def __init__(self, error: Exception):
        self.error = error

    def make_sample(self, spec, ctx):
        raise self.error


def test_a_program_error_fails_the_build_records_nothing_and_the_fix_resumes(frames_dir, tmp_path, monkeypatch,
                                                                              capsys):
    out = tmp_path / "data"
    monkeypatch.setattr(build_module, "get_task", lambda name: BrokenTask(ZeroDivisionError("division by zero")))
    assert main(build_args(frames_dir, out)) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError: division by zero (at " in err and "Traceback" not in err
    assert "nothing was recorded" in err
    rows_file = out / "viubench.rows.jsonl"
    assert not rows_file.exists() or rows_file.read_text() == ""
    assert not (out / "viubench.build.json").exists() and not (out / "viubench.parquet").exists()
    monkeypatch.undo()  # the code is fixed: the same command builds everything
    assert main(build_args(frames_dir, out)) == 0
    assert "9 rows, 0 skipped (9 built in this run)" in capsys.readouterr().out


def test_skips_recorded_for_program_errors_by_older_versions_are_retried(frames_dir, tmp_path):
    out = tmp_path / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=1, progress=False)
    rows_file = out / "viubench.rows.jsonl"
    records = [json.loads(line) for line in rows_file.read_text().splitlines()]
    records[3] |= {"status": "skipped", "reason": "unexpected error: OSError: [Errno 28] No space left", "row": None}
    rows_file.write_text("".join(json.dumps(r) + "\n" for r in records))
    summary = build_dataset(frames_dir, out, "viubench", per_subtype=1, progress=False)
    assert (summary.rows, summary.skipped, summary.newly_done) == (9, 0, 1)


def test_a_build_where_every_sample_was_skipped_fails(frames_dir, tmp_path, monkeypatch, capsys):
    out = tmp_path / "data"
    monkeypatch.setattr(build_module, "get_task", lambda name: BrokenTask(SkipSample("too narrow for the shapes")))
    assert main(build_args(frames_dir, out)) == 1
    err = capsys.readouterr().err
    assert "none of the 9 samples could be built" in err and "9 x too narrow for the shapes" in err
    assert not (out / "viubench.parquet").exists() and not (out / "README.md").exists()
    assert not (out / "viubench.build.json").exists()  # nothing built with these options: not bound


def test_a_bad_option_value_in_a_mix_is_refused_when_the_mix_is_read(tmp_path):
    mix = {"name": "m", "split": "eval", "videos": "per_entry", "entries": [{"task": "counting", "count": 1}],
           "options": {"counting": {"min_frame_gap": "abc"}}}
    with pytest.raises(ValueError, match="options.counting: min_frame_gap must be a number .* got 'abc'"):
        parse_mix(mix, "m.yaml")


def test_a_program_error_fails_the_frame_run(synthetic_videos, tmp_path, monkeypatch, capsys):
    out = tmp_path / "frames"

    def broken(info, tiers):
        raise RuntimeError("a bug in the tier code")

    monkeypatch.setattr(decode, "tier_sizes", broken)
    assert main(["frames", "--videos", str(synthetic_videos), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: a bug in the tier code" in err and "Traceback" not in err
    assert not (out / MANIFEST).exists() or not (out / MANIFEST).read_text()
    assert not (out / CONFIG).exists()


# -- item 3: impossible options are refused before any work -------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["frames", "--span", "0.9", "0.1"], "START must be below END"),
    (["frames", "--span", "0.05", "1.5"], "must be a number in [0, 1]"),
    (["frames", "--num-frames", "0"], "must be a positive integer"),
    (["frames", "--num-frames", "-5"], "must be a positive integer"),
    (["frames", "--tiers", "train=10"], "a tier needs at least 1024 pixels"),
    (["frames", "--jpeg-quality", "500"], "must be an integer in [1, 100]"),
    (["frames", "--ray", "nonsense"], "must be 'auto', 'local', HOST:PORT"),
    (["build", "--size", "-3"], "must be a positive integer"),
    (["build", "--per-subtype", "-1"], "must be a positive integer"),
    (["build", "--validation-slice", "-2"], "must be an integer >= 0"),
    (["build", "--eval-fraction", "1.5"], "must be a number in [0, 1]"),
    (["preview", "--limit", "0"], "must be a positive integer"),
    (["synth", "--count", "0"], "must be a positive integer"),
])
def test_impossible_options_are_argparse_errors(argv, message, tmp_path, capsys):
    required = {"frames": ["--videos", str(tmp_path), "--out", str(tmp_path / "out")],
                "build": ["--frames", str(tmp_path), "--out", str(tmp_path / "out")],
                "preview": ["--data", str(tmp_path), "--out", str(tmp_path / "out")],
                "synth": ["--out", str(tmp_path / "out")]}[argv[0]]
    with pytest.raises(SystemExit) as exit_info:
        main([argv[0], *required, *argv[1:]])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_options_that_make_nothing_do_not_bind_the_folder(synthetic_videos, tmp_path, capsys):
    """Every video too short for the span: exit 1, and the correct options are not refused after."""
    out = tmp_path / "frames"
    argv = ["frames", "--videos", str(synthetic_videos), "--out", str(out), "--no-progress"]
    assert main([*argv, "--span", "0.05", "0.1"]) == 1
    assert "none of the 12 videos could be used" in capsys.readouterr().err
    assert not (out / CONFIG).exists()
    assert main(argv) == 0
    assert len(load_manifest(out)) == 12 and json.loads((out / CONFIG).read_text())["span"] == [0.05, 0.95]


# -- item 4: user errors are one line, never a traceback or a hang -----------------------------------

def test_preview_of_a_dataset_folder(frames_dir, tmp_path, capsys):
    data = tmp_path / "data"
    build_dataset(frames_dir, data, "videossr30k", size=2, progress=False)
    assert main(["preview", "--data", str(data), "--out", str(tmp_path / "p")]) == 0  # its one parquet
    assert (tmp_path / "p" / "index.html").is_file()
    build_dataset(frames_dir, data, "viubench", per_subtype=1, progress=False)
    assert main(["preview", "--data", str(data), "--out", str(tmp_path / "q")]) == 2
    err = capsys.readouterr().err
    assert "train.parquet, viubench.parquet, viubench_val.parquet" in err and "pass one parquet file" in err


def test_a_folder_without_videos_is_an_error_with_a_hint(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no videos here")
    assert main(["frames", "--videos", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "no video files under" in err and ".mp4" in err
    assert not (tmp_path / "out").exists()


def test_an_unreachable_ray_address_is_one_line_not_a_hang(synthetic_videos, tmp_path):
    cmd = [sys.executable, "-m", "data_prep", "frames", "--videos", str(synthetic_videos), "--out",
           str(tmp_path / "out"), "--ray", "nonsense:1"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=90)
    assert done.returncode == 2, done.stderr
    assert "--ray nonsense:1: no Ray cluster answers there" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.slow
def test_ctrl_c_is_one_line_and_the_run_resumes(synthetic_videos, tmp_path, tree_digest):
    reference = tmp_path / "reference"
    extract_frames([synthetic_videos], reference, progress=False)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "data_prep", "frames", "--videos", str(synthetic_videos), "--out", str(out),
           "--no-progress", "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:  # Ctrl-C once some videos are done
        manifest = out / MANIFEST
        if manifest.exists() and manifest.read_text().count("\n") >= 1:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends the whole foreground group
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before Ctrl-C reached it")
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and "KeyboardInterrupt" not in err
    assert main(["frames", "--videos", str(synthetic_videos), "--out", str(out), "--no-progress"]) == 0
    shutil.rmtree(out / ".partial", ignore_errors=True)
    assert tree_digest(out) == tree_digest(reference)
