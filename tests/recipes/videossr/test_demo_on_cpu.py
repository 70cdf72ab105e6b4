"""``make demo`` is composed at the top (recipes.videossr.demo); ``python -m data_prep demo`` runs the
data stages alone and names the full demo, without importing the recipes."""

from __future__ import annotations

import argparse

import pytest

from data_prep.cli import build_parser as data_prep_parser
from data_prep.cli import main as data_prep_main
from data_prep.commands import demo as data_demo
from recipes.videossr import demo, token_counts
from recipes.videossr.eval import demo as eval_demo


def _options(parser: argparse.ArgumentParser) -> dict[str, object]:
    return {a.dest: (a.option_strings, a.default, a.type) for a in parser._actions if a.dest != "help"}


def test_the_full_demo_takes_the_data_demos_options():
    sub = next(a for a in data_prep_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert _options(demo.build_parser()) == _options(sub.choices["demo"])


def test_the_recipe_steps_follow_the_data_stages():
    assert demo.STEPS == (token_counts.demo_step, eval_demo.demo_step)


@pytest.fixture
def fake_stages(monkeypatch, tmp_path):
    """The data stages as stubs: what is composed and reported, not the work."""
    calls = []
    monkeypatch.setattr(data_demo, "write_corpus", lambda folder, count, seed: calls.append(("synth", count, seed)))
    monkeypatch.setattr(data_demo, "embedded_videos", lambda: [tmp_path / "bikes.mp4"])
    monkeypatch.setattr(data_demo, "extract_frames", lambda sources, out, options, workers: f"{len(sources)} sources")
    monkeypatch.setattr(data_demo, "DATA_STEPS", (lambda out, args: ["datasets: built"],))
    return calls


def test_make_demo_reports_every_stage_in_order(fake_stages, monkeypatch, tmp_path, capsys):
    seen = []

    def step(name):
        def run(out, args):
            seen.append((out, args.seed))
            return [f"{name}: done"]
        return run

    monkeypatch.setattr(demo, "STEPS", (step("tokens"), step("eval")))
    assert demo.main(["--out", str(tmp_path / "demo"), "--seed", "3", "--synthetic", "2"]) == 0
    assert capsys.readouterr().out == "\n== VideoSSR demo ==\nframes: 2 sources\ndatasets: built\ntokens: done\neval: done\n"
    assert fake_stages == [("synth", 2, 3)] and seen == [(tmp_path / "demo", 3)] * 2


def test_data_prep_demo_runs_the_data_stages_and_names_the_full_demo(fake_stages, tmp_path, capsys):
    assert data_prep_main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\n== VideoSSR demo ==\nframes: 2 sources\ndatasets: built\nnext stage: ")
    assert f"python -m recipes.videossr.demo --out {tmp_path} " in out


def test_a_user_error_is_one_line(fake_stages, monkeypatch, tmp_path, capsys):
    def missing(out, args):
        raise FileNotFoundError("no viubench.parquet")

    monkeypatch.setattr(demo, "STEPS", (missing,))
    assert demo.main(["--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: no viubench.parquet\n"


def test_slips_are_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--worker", "2"])  # no abbreviations
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        demo.main(["--workers", "two"])
    assert "must be a positive integer, got 'two'" in capsys.readouterr().err


def test_a_demo_folder_from_before_split_tiers_resumes_with_every_tier(fake_stages, monkeypatch, tmp_path):
    """An old outputs/demo (frames_config.json without eval_fraction) holds every tier: resume it so."""
    seen = []
    monkeypatch.setattr(data_demo, "extract_frames", lambda sources, out, options, workers: seen.append(options) or "ok")
    monkeypatch.setattr(demo, "STEPS", ())
    (tmp_path / "demo" / "frames").mkdir(parents=True)
    (tmp_path / "demo" / "frames" / "frames_config.json").write_text('{"num_frames": 48}')
    assert demo.main(["--out", str(tmp_path / "demo"), "--synthetic", "1"]) == 0
    (tmp_path / "demo" / "frames" / "frames_config.json").write_text('{"eval_fraction": 0.2}')
    assert demo.main(["--out", str(tmp_path / "demo"), "--synthetic", "1"]) == 0
    assert [o.eval_fraction for o in seen] == [None, 0.2]
