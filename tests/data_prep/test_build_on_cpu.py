"""Builders: VideoSSR-30K and VIUBench from a frames folder; splits, determinism, resume, mixes, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from data_prep import build as build_module
from data_prep import schema
from data_prep.build import build_dataset, read_rows
from data_prep.builders.mixes import load_mix, parse_mix
from data_prep.builders.plan import plan_samples
from data_prep.builders.splits import split_of, split_score
from data_prep.cli import main
from data_prep.embedded import embedded_videos
from data_prep.frames import CONFIG, extract_frames, load_manifest
from rewards.priors import answer_priors


@pytest.fixture(scope="module")
def built(frames_dir, tmp_path_factory, tree_digest):
    """A training build and a VIUBench build in one dataset folder."""
    before = tree_digest(frames_dir)
    out = tmp_path_factory.mktemp("built") / "data"
    train = build_dataset(frames_dir, out, "videossr30k", seed=1, progress=False)
    bench = build_dataset(frames_dir, out, "viubench", seed=1, per_subtype=4, progress=False)
    assert tree_digest(frames_dir) == before, "the build wrote into the frames folder"
    return out, train, bench


def test_outputs_and_uniform_rows(built, frames_dir):
    out, train, bench = built
    assert train.parquet == out / "train.parquet" and bench.parquet == out / "viubench.parquet"
    assert train.card == out / "README.md"
    for summary in (train, bench):
        rows = read_rows(summary.parquet)
        assert len(rows) == summary.rows > 0
        assert pq.read_schema(summary.parquet).names == list(schema.ROW_KEYS)
        for i, row in enumerate(rows):
            assert row["extra_info"]["index"] == i
            schema.check_extra_info(row["extra_info"])  # every key concrete in every row
            assert row["prompt"][1]["content"].count("<video>") == len(row["videos"])
            for video in row["videos"]:
                assert None not in video.values()
                for p in video["video"]:  # relative to the dataset folder: new frames or the source_frames link
                    assert not Path(p).is_absolute() and (out / p).is_file()
                    assert Path(p).is_relative_to(Path("frames") / row["extra_info"]["sample_id"]) or Path(
                        p
                    ).is_relative_to("source_frames")
    assert (out / "source_frames").resolve() == frames_dir.resolve()


def _referenced_tiers(rows, frames_dir) -> set[str]:
    """Storage tiers of the frames rows reference in the frames folder (not their own new frames)."""
    return {
        Path(p).parent.name
        for r in rows
        for v in r["videos"]
        for p in v["video"]
        if Path(p).is_relative_to("source_frames")
    }


def test_videossr30k_mix_one_video_per_sample_training_videos_only(built, frames_dir):
    out, train, _ = built
    rows = read_rows(train.parquet)
    videos = [r["extra_info"]["video_id"] for r in rows]
    assert len(videos) == len(set(videos))  # one sample per video: disjoint videos per task
    assert all(split_of(v) == "train" for v in videos)
    sources = sorted({r["data_source"] for r in rows})
    assert sources[0].startswith("videossr/counting/easy")
    assert all(r["videos"][0]["max_pixels"] == 256 * 256 for r in rows)
    assert _referenced_tiers(rows, frames_dir) == {"train"}


def test_videossr30k_proportions_follow_the_reference_scripts():
    mix = load_mix("videossr30k")
    specs = plan_samples(mix, [f"v{i:05d}" for i in range(30000)], seed=0)
    counts = {}
    for s in specs:
        counts[(s.task, s.subtype)] = counts.get((s.task, s.subtype), 0) + 1
    assert counts == {
        ("grounding", "channel_swap"): 3000,
        ("grounding", "rotate_180"): 3000,
        ("grounding", "zoom_out"): 3000,
        ("grounding", "mirror"): 3000,
        ("jigsaw", "n6"): 12000,
        ("counting", "easy"): 6000,
    }
    assert len({s.video_id for s in specs}) == 30000
    small = plan_samples(mix, [f"v{i}" for i in range(1000)], seed=0, size=100)
    assert len(small) == 100 and sum(s.task == "jigsaw" for s in small) == 40


def test_viubench_nine_subtypes_eval_videos_only(built, frames_dir):
    out, train, bench = built
    rows = read_rows(bench.parquet)
    by_source = {}
    for r in rows:
        by_source.setdefault(r["data_source"], []).append(r)
    assert sorted(by_source) == sorted(
        [
            "videossr/counting/easy",
            "videossr/counting/hard",
            "videossr/grounding/channel_swap",
            "videossr/grounding/rotate_180",
            "videossr/grounding/zoom_out",
            "videossr/grounding/mirror",
            "videossr/grounding/shuffle",
            "videossr/jigsaw/n6",
            "videossr/jigsaw/n8",
        ]
    )
    assert all(len(v) == 4 for v in by_source.values())
    eval_videos = {r["extra_info"]["video_id"] for r in rows}
    train_videos = {r["extra_info"]["video_id"] for r in read_rows(train.parquet)}
    assert eval_videos and not eval_videos & train_videos
    assert all(split_of(v) == "eval" for v in eval_videos)
    assert all(r["videos"][0]["max_pixels"] == 512 * 512 for r in rows)
    assert _referenced_tiers(rows, frames_dir) == {"eval"}
    # the answers of the two builds do not repeat each other (seeds include the mix name)
    bench_answers = [
        r["reward_model"]["ground_truth"] for r in rows if r["data_source"].endswith("jigsaw/n6")
    ]
    train_answers = [
        r["reward_model"]["ground_truth"]
        for r in read_rows(train.parquet)
        if r["data_source"].endswith("jigsaw/n6")
    ]
    assert bench_answers[: len(train_answers)] != train_answers[: len(bench_answers)]


def test_viubench_writes_a_stratified_validation_slice(built, frames_dir, tmp_path):
    """The recipes' default val_files: the first rows of every subtype, same rows as the full set."""
    out, train, bench = built
    assert bench.validation == out / "viubench_val.parquet" and train.validation is None
    full, val = read_rows(bench.parquet), read_rows(bench.validation)
    assert val == full  # 4 rows per subtype < 32: the slice is everything
    small = build_dataset(frames_dir, tmp_path / "d", "viubench", seed=1, per_subtype=4, validation_slice=2,
                          progress=False)
    full, val = read_rows(small.parquet), read_rows(small.validation)
    per_source = {}
    for row in val:
        per_source.setdefault(row["data_source"], []).append(row)
    assert sorted(per_source) == sorted({r["data_source"] for r in full}) and all(
        len(rows) == 2 for rows in per_source.values()
    )
    for source, rows in per_source.items():
        assert rows == [r for r in full if r["data_source"] == source][:2]  # extra_info.index kept
    before = (tmp_path / "d" / "viubench.parquet").read_bytes()
    again = build_dataset(frames_dir, tmp_path / "d", "viubench", seed=1, per_subtype=4, validation_slice=0,
                          progress=False)  # another slice needs no rebuild, and 0 removes it
    assert again.newly_done == 0 and again.validation is None
    assert not (tmp_path / "d" / "viubench_val.parquet").exists()
    assert (tmp_path / "d" / "viubench.parquet").read_bytes() == before


def test_a_size_larger_than_the_videos_says_so(frames_dir, tmp_path):
    out = tmp_path / "data"
    summary = build_dataset(frames_dir, out, "videossr30k", size=10_000, progress=False)
    assert summary.rows < 10_000
    assert summary.shortfall.startswith(f"asked for 10000 samples, built {summary.rows}: the frames folder has")
    assert f"note: {summary.shortfall}" in str(summary)
    assert f"Note: {summary.shortfall}." in (out / "README.md").read_text()
    viubench = build_dataset(frames_dir, out, "viubench", per_subtype=1, progress=False)
    assert viubench.shortfall == ""  # per-entry mixes reuse videos: never short


def test_split_is_a_pure_function_of_the_id():
    ids = [f"video-{i}" for i in range(4000)]
    share = sum(split_of(v) == "eval" for v in ids) / len(ids)
    assert 0.17 < share < 0.23
    assert [split_of(v) for v in ids] == [split_of(v) for v in reversed(ids)][::-1]
    assert all(split_of(v, 0.1) == "train" for v in ids if split_of(v, 0.2) == "train")  # nested


def test_split_is_pinned_across_versions():
    # A new hash salt would move videos between train and VIUBench across versions.
    pinned = {
        "video-0": (0.35186, "eval"),
        "video-1": (0.088422, "eval"),
        "video-2": (0.93844, "train"),
        "video-3": (0.923113, "train"),
        "demo_bikes-6eb3236353": (0.339097, "eval"),
    }
    assert {v: (round(split_score(v), 6), split_of(v, 0.5)) for v in pinned} == pinned


def _videos_used(rows) -> set[str]:
    """Every video a build's rows show (sample videos and swap partners)."""
    partners = {json.loads(r["extra_info"]["meta"]).get("partner_video_id") for r in rows}
    return {r["extra_info"]["video_id"] for r in rows} | (partners - {None, ""})


def test_eval_fraction_is_honoured_and_shared_by_the_folder(frames_dir, tmp_path):
    out = tmp_path / "data"
    ids = [r["video_id"] for r in load_manifest(frames_dir)]
    # the fixture must hold videos that 0.5 moves to eval, or the checks below prove nothing
    assert any(split_of(v, 0.5) != split_of(v) for v in ids)
    for recipe, extra in (("videossr30k", {"size": 12}), ("viubench", {"per_subtype": 1})):
        summary = build_dataset(frames_dir, out, recipe, eval_fraction=0.5, progress=False, **extra)
        split = load_mix(recipe).split
        used = _videos_used(read_rows(summary.parquet))
        assert used and all(split_of(v, 0.5) == split for v in used), recipe
        config = json.loads((out / f"{summary.parquet.stem}.build.json").read_text())["config"]
        assert config["eval_fraction"] == 0.5
        assert config["num_videos"] == sum(split_of(v, 0.5) == split for v in ids)
    # another fraction in the same folder would share videos between train and VIUBench: refused
    names_both = r"train\.build\.json .*=0\.5.*example_mix\.build\.json .*eval_fraction=0\.2"
    with pytest.raises(ValueError, match=names_both):
        build_dataset(frames_dir, out, "example", size=4, progress=False)
    assert not (out / "example_mix.build.json").exists()


@pytest.fixture(scope="module")
def split_frames(tmp_path_factory, synthetic_videos) -> Path:
    """``frames_dir``'s videos with the default tier policy: each video's split tier only."""
    out = tmp_path_factory.mktemp("split") / "frames"
    extract_frames([str(p) for p in embedded_videos()] + [str(synthetic_videos)], out, progress=False)
    return out


def _portable(rows, frames: Path, out: Path) -> list:
    return json.loads(json.dumps(rows).replace(str(frames), "FRAMES").replace(str(out), "OUT"))


def test_split_tier_frames_build_the_same_datasets(frames_dir, split_frames, tmp_path):
    """Storing only each video's split tier loses nothing a build reads (half the bytes)."""
    for recipe, extra in (("videossr30k", {"size": 12}), ("viubench", {"per_subtype": 1})):
        full = build_dataset(frames_dir, tmp_path / "full", recipe, seed=2, progress=False, **extra)
        split = build_dataset(split_frames, tmp_path / "split", recipe, seed=2, progress=False, **extra)
        assert split.rows > 0
        assert _portable(read_rows(full.parquet), frames_dir, tmp_path / "full") == _portable(
            read_rows(split.parquet), split_frames, tmp_path / "split")


def test_build_refuses_another_split_than_the_frames_tiers(frames_dir, split_frames, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"eval_fraction=0\.2 \(frames_config\.json\), not 0\.5: build with "
                       r"--eval-fraction 0\.2, or .*--eval-fraction 0\.5` \(or --all-tiers\)"):
        build_dataset(split_frames, tmp_path / "a", "viubench", per_subtype=1, eval_fraction=0.5,
                      progress=False)
    assert not (tmp_path / "a").exists()
    args = ["build", "--frames", str(split_frames), "--out", str(tmp_path / "b"), "--recipe", "viubench",
            "--eval-fraction", "0.5", "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "frames_config.json" in err
    # all tiers (recorded as null), or a folder from before the option (no key): any fraction builds
    old = tmp_path / "old"
    shutil.copytree(frames_dir, old)
    config = json.loads((old / CONFIG).read_text())
    assert config.pop("eval_fraction") is None
    (old / CONFIG).write_text(json.dumps(config))
    for folder in (frames_dir, old):
        summary = build_dataset(folder, tmp_path / f"data_{folder.name}", "viubench", per_subtype=1,
                                eval_fraction=0.5, progress=False)
        assert summary.rows == 9


def test_same_options_same_bytes_with_workers_and_resume(frames_dir, tmp_path, tree_digest, monkeypatch):
    out = tmp_path / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=2, seed=3, progress=False)
    first = (out / "viubench.parquet").read_bytes()
    digest = tree_digest(out)
    # kill-and-resume: lose the last records, a committed sample's frames and the parquet
    rows_file = out / "viubench.rows.jsonl"
    lines = rows_file.read_text().splitlines(keepends=True)
    rows_file.write_text("".join(lines[:-3]) + lines[-3][:20])  # + a torn line
    shutil.rmtree(out / "frames" / json.loads(lines[-1])["sample_id"], ignore_errors=True)
    (out / "viubench.parquet").unlink()
    summary = build_dataset(frames_dir, out, "viubench", per_subtype=2, seed=3, progress=False)
    assert summary.newly_done == 3
    assert (out / "viubench.parquet").read_bytes() == first and tree_digest(out) == digest
    # two worker processes (even for these few samples): same bytes
    monkeypatch.setattr(build_module, "MIN_SAMPLES_PER_WORKER", 0)
    shutil.rmtree(out)
    build_dataset(frames_dir, out, "viubench", per_subtype=2, seed=3, workers=2, progress=False)
    assert tree_digest(out) == digest
    shutil.rmtree(out)  # three workers: another batching of the samples, same bytes
    build_dataset(frames_dir, out, "viubench", per_subtype=2, seed=3, workers=3, progress=False)
    assert tree_digest(out) == digest
    # other options into the same folder are refused, not mixed
    with pytest.raises(ValueError, match="other options"):
        build_dataset(frames_dir, out, "viubench", per_subtype=2, seed=4, progress=False)


def test_uniform_custom_mix_and_cli(frames_dir, tmp_path, capsys):
    mix = tmp_path / "mine.yaml"
    mix.write_text(
        "name: mine\nsplit: train\nuniform: true\nentries:\n"
        "  - {task: grounding, subtype: swap, count: 2}\n"
        "  - {task: grounding, subtype: stutter_hold, count: 2}\n"
        "  - {task: counting, difficulty: hard, count: 2}\n"
    )
    out = tmp_path / "data"
    assert (
        main(["build", "--frames", str(frames_dir), "--out", str(out), "--recipe", str(mix), "--no-progress"])
        == 0
    )
    rows = read_rows(out / "mine.parquet")
    assert len(rows) == 6 and all(json.loads(r["extra_info"]["meta"])["uniform"] for r in rows)
    swap = [json.loads(r["extra_info"]["meta"]) for r in rows if r["data_source"].endswith("/swap")]
    assert all(m["partner_video_id"] and split_of(m["partner_video_id"]) == "train" for m in swap)
    card = (out / "README.md").read_text()
    assert f"--recipe {mix}" in card and "| `videossr/counting/hard` | 2 |" in card
    # user errors: one line, exit 2, naming the problem
    assert main(["build", "--frames", str(frames_dir), "--out", str(tmp_path / "x"), "--recipe", "nope"]) == 2
    assert "unknown recipe 'nope'" in capsys.readouterr().err
    assert (
        main(
            [
                "build",
                "--frames",
                str(frames_dir),
                "--out",
                str(frames_dir / "inside"),
                "--recipe",
                "viubench",
            ]
        )
        == 2
    )
    assert "inside the frames folder" in capsys.readouterr().err


def test_mix_options_override_the_generator_parameters(frames_dir, tmp_path):
    mix = tmp_path / "tuned.yaml"
    mix.write_text(
        "name: tuned\nsplit: train\nentries:\n"
        "  - {task: grounding, subtype: noise, count: 2}\n"
        "  - {task: counting, subtype: easy, count: 2}\n"
        "options:\n"
        "  grounding: {segment_length: [4, 4], perturbation_args: {noise: {sigma: [90, 90]}}}\n"
        "  counting: {levels: {easy: [1, 1]}}\n"
    )
    summary = build_dataset(frames_dir, tmp_path / "data", mix, progress=False)
    rows = read_rows(summary.parquet)
    metas = {r["data_source"]: json.loads(r["extra_info"]["meta"]) for r in rows}
    assert (
        metas["videossr/grounding/noise"]["end_frame"] - metas["videossr/grounding/noise"]["start_frame"] == 4
    )
    assert all(r["reward_model"]["ground_truth"] == "1,1,1" for r in rows if "counting" in r["data_source"])
    # the card's priors use the overridden range (1 per shape), not the paper's 1..9
    assert answer_priors(rows)["videossr/counting/easy"]["random_acc"] == 1.0
    assert "segment_length" in (tmp_path / "data" / "tuned.build.json").read_text()


@pytest.mark.parametrize(
    "data,message",
    [
        (
            {"entries": [{"task": "jigsaw", "count": 1}], "options": {"jigsaw": {"clips": 3}}},
            "options.jigsaw: unknown",
        ),
        ({"split": "test", "entries": [{"task": "jigsaw", "count": 1}]}, "split must be one of"),
        ({"entries": [{"task": "dance", "count": 1}]}, "unknown task 'dance'"),
        (
            {"entries": [{"task": "grounding", "subtype": "wobble", "count": 1}]},
            r"entries\[0\]: unknown grounding subtype",
        ),
        ({"entries": [{"task": "counting", "subtype": "easy", "count": -1}]}, r"entries\[0\]: count must be"),
        ({"entries": [{"task": "counting", "difficulty": "medium", "count": 1}]}, "difficulty 'medium'"),
        ({"entries": []}, "no entries"),
        ({"entriez": []}, "unknown keys"),
        ({"entries": [{"task": "jigsaw", "count": 1}], "validation_slice": 0}, "validation_slice must be a positive"),
        ({"entries": [{"task": "jigsaw", "count": 1}], "validation_slice": "all"}, "validation_slice must be"),
    ],
)
def test_mix_errors_name_the_file_and_entry(data, message):
    with pytest.raises(ValueError, match=message):
        parse_mix(data, source="my_mix.yaml")


def test_manifest_fixture_has_eval_videos(frames_dir):
    # the tests above need both splits in the shared fixture
    splits = {split_of(r["video_id"]) for r in load_manifest(frames_dir)}
    assert splits == {"train", "eval"}


@pytest.mark.ray
def test_ray_path_gives_the_same_dataset(frames_dir, tmp_path, tree_digest):
    pytest.importorskip("ray")
    out = tmp_path / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=1, seed=9, progress=False)
    digest = tree_digest(out)
    shutil.rmtree(out)
    summary = build_dataset(
        frames_dir, out, "viubench", per_subtype=1, seed=9, workers=2, ray_address="local", progress=False
    )
    assert summary.rows == 9 and tree_digest(out) == digest


def test_rows_claim_the_tier_the_frames_were_stored_at(synthetic_videos, tmp_path):
    """`--tiers train=128*128`: rows say max_pixels 16384 (what the frames are), not the paper's 65536."""
    from data_prep.frames import FrameOptions, extract_frames

    frames = tmp_path / "frames"
    extract_frames([str(synthetic_videos)], frames, FrameOptions(tiers={"train": 128 * 128}, eval_fraction=None),
                   progress=False)
    summary = build_dataset(frames, tmp_path / "data", "videossr30k", size=4, progress=False)
    rows = read_rows(summary.parquet)
    assert rows and {(v["max_pixels"], v["min_pixels"]) for r in rows for v in r["videos"]} == {(16384, 16384)}
    config = json.loads((tmp_path / "data" / "train.build.json").read_text())["config"]
    assert config["max_pixels"] == 16384
