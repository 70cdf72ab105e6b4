"""Difficulty levels (beyond the paper): every task's ladder generates real rows that carry their
level, a graded mix expands into every level and builds, and the paper's rows are untouched."""

from __future__ import annotations

import dataclasses
import json

import pytest

from data_prep import schema
from data_prep.build import build_dataset, read_rows
from data_prep.builders.mixes import load_mix, parse_mix
from data_prep.builders.plan import plan_samples
from data_prep.frames import load_manifest
from data_prep.perturbations import PERTURBATIONS
from data_prep.tasks import counting, grounding, jigsaw
from data_prep.tasks.base import SampleSpec, TaskContext, sample_seed
from data_prep.tasks.registry import GradedSampler, get_task, shipped_tasks
from rewards import score
from rewards.naming import parse_data_source


@pytest.fixture(scope="module")
def ctx(frames_dir, tmp_path_factory):
    records = {r["video_id"]: r for r in load_manifest(frames_dir)}
    return TaskContext(frames_dir, tmp_path_factory.mktemp("graded"), records, tier="train")


def _videos(ctx, n=2):
    return sorted(ctx.records)[:n]


def _spec(task, subtype, video_id, seed, partner="", sample_id=""):
    return SampleSpec(sample_id or f"t-{task}-{subtype}-{seed}", task, subtype, video_id, seed, "train", False, partner)


@pytest.mark.parametrize("name", ["counting", "grounding", "jigsaw"])
def test_every_shipped_task_declares_an_ordered_ladder_starting_at_the_paper(name):
    task = get_task(name)
    assert len(task.levels) >= 4 and isinstance(task.make_sample, GradedSampler)
    paper = task.levels[task.default_level]
    # the default level is the paper's generator: VideoSSR-30K's subtype and no option changed
    expected = {"counting": ("easy", {}), "jigsaw": ("n6", {}),
                "grounding": ("", {"segment_length": grounding.SEGMENT_LENGTH})}[name]
    assert (paper.subtype, dict(paper.options)) == expected
    assert task.default_level > 0 and task.default_level < len(task.levels) - 1  # easier and harder rungs exist


def test_ladders_grow_harder_by_their_knobs():
    # counting: the count range F*K never shrinks, shapes never grow
    fk = [dict(counting.LEVELS, **lv.options.get("levels", {}))[lv.subtype] for lv in counting.LADDER]
    assert [f * k for f, k in fk] == sorted(f * k for f, k in fk) and fk[1:3] == [(3, 3), (4, 4)]
    sizes = [lv.options.get("size", counting.SIZE)[1] for lv in counting.LADDER]
    assert sizes == sorted(sizes, reverse=True)
    # grounding: shorter segments, weaker zoom-out, less noise
    lengths = [lv.options["segment_length"] for lv in grounding.LADDER]
    assert lengths == sorted(lengths, reverse=True)
    zoom = [lv.options.get("perturbation_args", {}).get("zoom_out", {}).get("scale", (1.2, 1.4))[0]
            for lv in grounding.LADDER]
    assert zoom == sorted(zoom, reverse=True)
    temporal = [lv.options.get("temporal_segment_length") or lv.options["segment_length"] for lv in grounding.LADDER]
    assert temporal == sorted(temporal, reverse=True) and min(lo for lo, _ in temporal) >= 6  # frames to scramble
    # jigsaw: more clips, then shorter clips
    clips = [jigsaw.num_clips(lv.subtype) for lv in jigsaw.LADDER]
    assert clips == sorted(clips) and clips == [4, 5, 6, 7, 8, 9, 9, 9, 9]
    assert [lv.options.get("clip_frames") for lv in jigsaw.LADDER[5:]] == [None, 4, 3, 2]


@pytest.mark.parametrize("subtype, parsed, row_subtype", [
    ("mirror_l2", ("mirror", 2), "mirror"),
    ("rotate_180_l0", ("rotate_180", 0), "rotate_180"),
    ("mirror", None, "mirror"),
    ("mirror_l6", None, "mirror_l6"),  # past the ladder
    ("l2", None, "l2"),  # grounding's levels need a perturbation
    ("nope_l1", None, "nope_l1"),
])
def test_grounding_graded_names(subtype, parsed, row_subtype):
    task = get_task("grounding")
    assert task.parse_graded(subtype) == parsed
    assert task.row_subtype(subtype) == row_subtype
    assert task.has_subtype(subtype) is (parsed is not None or subtype in task.subtypes)


def test_graded_names_of_tasks_whose_subtype_is_the_difficulty():
    cnt, jig = get_task("counting"), get_task("jigsaw")
    assert [cnt.row_subtype(cnt.graded_subtype(k)) for k in range(7)] == ["l0", "easy", "hard", "l3", "l4", "l5", "l6"]
    assert [jig.row_subtype(f"l{k}") for k in range(9)] == ["n4", "n5", "n6", "n7", "n8", "n9", "n9", "n9", "n9"]
    assert cnt.parse_graded("easy") is None and jig.parse_graded("n6") is None and jig.parse_graded("l9") is None
    with pytest.raises(ValueError, match="its levels set the subtype"):
        cnt.graded_subtype(1, "easy")


def _graded_row(ctx, task_name, k, base="", seed=11):
    task = get_task(task_name)
    subtype = task.graded_subtype(k, base)
    v, partner = _videos(ctx)
    needs = task.needs_partner is not None and task.needs_partner(task.row_subtype(subtype))
    return task.make_sample(_spec(task_name, subtype, v, seed, partner if needs else ""), ctx)


@pytest.mark.parametrize("task_name, base", [
    ("counting", ""), ("jigsaw", ""), ("grounding", "mirror"), ("grounding", "zoom_out"),
    ("grounding", "noise"), ("grounding", "swap"), ("grounding", "stutter_hold"), ("grounding", "fast"),
])
def test_every_level_generates_a_row_that_carries_its_level(ctx, task_name, base):
    task = get_task(task_name)
    for k, level in enumerate(task.levels):
        row = _graded_row(ctx, task_name, k, base)
        extra = row["extra_info"]
        schema.check_extra_info(extra)  # still exactly the schema's keys
        meta = json.loads(extra["meta"])
        assert extra["difficulty"] == f"l{k}"
        assert (meta["level"], meta["level_name"]) == (k, level.name)
        assert meta["level_family"] == (f"{task_name}/{base}" if base else task_name)
        # an ordinary data_source: the level's own subtype (jigsaw n<k>, counting l0/easy/...) or the perturbation
        assert parse_data_source(row["data_source"]) == (task_name, level.subtype or base)
        assert extra["subtype"] == level.subtype or base
        # the reward reads it like any row, and the truth is a perfect answer
        assert score(row["data_source"], extra["answer"], extra["answer"], extra_info=extra)["score"] == 1.0


def test_levels_set_the_generator_knobs(ctx):
    for k, (f, kk) in [(0, (2, 2)), (3, (5, 5)), (4, (5, 7)), (6, (8, 10))]:
        meta = json.loads(_graded_row(ctx, "counting", k)["extra_info"]["meta"])
        assert (meta["max_frames"], meta["max_per_frame"]) == (f, kk)
        assert all(1 <= c <= f * kk for c in meta["counts"])
    for k, level in enumerate(grounding.LADDER):
        for base, key in (("mirror", "segment_length"), ("shuffle", "temporal_segment_length")):
            lo, hi = level.options.get(key) or level.options["segment_length"]
            meta = json.loads(_graded_row(ctx, "grounding", k, base)["extra_info"]["meta"])
            assert lo <= meta["end_frame"] - meta["start_frame"] <= hi, (k, base)
    row = _graded_row(ctx, "jigsaw", 7)
    meta = json.loads(row["extra_info"]["meta"])
    assert (meta["num_clips"], meta["frames_per_clip"], meta["segment_frames"]) == (9, 3, 48 // 9)
    assert [len(v["video"]) for v in row["videos"]] == [3] * 9 and row["extra_info"]["num_frames"] == 27


def test_paper_subtypes_pass_through_untouched(ctx):
    v, partner = _videos(ctx)
    for task_name, subtype, p in [("counting", "easy", ""), ("grounding", "mirror", ""),
                                  ("grounding", "swap", partner), ("jigsaw", "n8", "")]:
        task = get_task(task_name)
        spec = _spec(task_name, subtype, v, 5, p)
        assert task.make_sample(spec, ctx) == task.make_sample.inner(spec, ctx)
        meta = json.loads(task.make_sample(spec, ctx)["extra_info"]["meta"])
        assert not {"level", "level_name", "level_family", "segment_frames"} & set(meta)


@pytest.mark.parametrize("task_name, graded, paper", [
    ("counting", "l1", "easy"), ("jigsaw", "l2", "n6"), ("grounding", "zoom_out_l1", "zoom_out"),
])
def test_the_paper_level_is_the_paper_generator(ctx, task_name, graded, paper):
    """Same video, seed and sample id: a row at the default level equals the paper's row but for its level."""
    v = _videos(ctx)[0]
    task = get_task(task_name)
    a = task.make_sample(_spec(task_name, graded, v, 9, sample_id="same"), ctx)
    b = task.make_sample(_spec(task_name, paper, v, 9, sample_id="same"), ctx)
    meta_a, meta_b = json.loads(a["extra_info"].pop("meta")), json.loads(b["extra_info"].pop("meta"))
    assert a["extra_info"].pop("difficulty") == f"l{task.default_level}"
    b["extra_info"].pop("difficulty")
    assert a == b
    assert {k: v for k, v in meta_a.items() if not k.startswith("level")} == meta_b


def test_graded_entries_expand_into_every_level():
    mix = load_mix("videossr_graded")
    grd = [e for e in mix.entries if e.task == "grounding"]
    assert [e.subtype for e in grd[:6]] == [f"channel_swap_l{k}" for k in range(6)]
    assert {e.task: 0 for e in mix.entries} and sum(e.count for e in mix.entries) == 30000
    by_task = {}
    for e in mix.entries:
        by_task[e.task] = by_task.get(e.task, 0) + e.count
    assert by_task == {"grounding": 12000, "jigsaw": 12000, "counting": 6000}  # VideoSSR-30K's proportions
    assert [e.count for e in mix.entries if e.task == "jigsaw"] == [1334, 1334, 1334] + [1333] * 6
    part = parse_mix({"name": "m", "entries": [{"task": "counting", "levels": [0, 3], "count": 5}]})
    assert [(e.subtype, e.count) for e in part.entries] == [("l0", 3), ("l3", 2)]


@pytest.mark.parametrize("entry, message", [
    ({"task": "counting", "subtype": "easy", "levels": "all", "count": 1}, "levels set the subtype"),
    ({"task": "grounding", "subtype": "mirror", "levels": [0, 9], "count": 1}, "levels must be 'all' or a list"),
    ({"task": "grounding", "subtype": "nope", "levels": "all", "count": 1}, "unknown grounding subtype 'nope'"),
    ({"task": "jigsaw", "level": "all", "count": 1}, r"unknown keys \['level'\]"),
])
def test_graded_entry_errors_name_the_entry(entry, message):
    with pytest.raises(ValueError, match=rf"<mix>: entries\[0\]: .*{message}"):
        parse_mix({"name": "m", "entries": [entry]})


def test_paper_mixes_plan_the_same_specs():
    """The level machinery leaves the paper's plans alone (ids, seeds, videos)."""
    videos = [f"v{i:02d}" for i in range(40)]
    specs = plan_samples(load_mix("videossr30k"), videos, seed=3)
    assert {s.subtype for s in specs} <= {"channel_swap", "rotate_180", "zoom_out", "mirror", "n6", "easy"}
    assert all(s.seed == sample_seed(3, f"videossr30k/{s.sample_id}") for s in specs)


def test_a_graded_mix_builds_and_every_row_carries_its_level(frames_dir, tmp_path):
    mix = tmp_path / "graded_small.yaml"
    mix.write_text(
        "name: graded_small\nsplit: train\nvideos: per_entry\nentries:\n"
        "  - {task: counting, levels: all, count: 7}\n"
        "  - {task: jigsaw, levels: [0, 8], count: 2}\n"
        "  - {task: grounding, subtype: swap, levels: [0, 3], count: 2}\n"
    )
    summary = build_dataset(frames_dir, tmp_path / "data", str(mix), progress=False)
    rows = read_rows(summary.parquet)
    assert summary.skipped == 0 and len(rows) == 11
    levels = [(r["extra_info"]["task"], json.loads(r["extra_info"]["meta"])["level"]) for r in rows]
    assert levels == [("counting", k) for k in range(7)] + [("jigsaw", 0), ("jigsaw", 8), ("grounding", 0),
                                                             ("grounding", 3)]
    assert [r["extra_info"]["difficulty"] for r in rows] == [f"l{k}" for _, k in levels]
    assert [r["data_source"] for r in rows][7:] == ["videossr/jigsaw/n4", "videossr/jigsaw/n9",
                                                     "videossr/grounding/swap", "videossr/grounding/swap"]
    assert all(json.loads(r["extra_info"]["meta"])["partner_video_id"] for r in rows[9:])  # swap got its partner
    assert (tmp_path / "data" / "README.md").is_file()  # the dataset card reads graded rows
    again = build_dataset(frames_dir, tmp_path / "again", str(mix), progress=False)
    assert again.parquet.read_bytes() == summary.parquet.read_bytes()  # deterministic


def test_shipped_tasks_keep_their_options():
    for name, task in shipped_tasks().items():
        assert task.effective_options(None) == dict(task.options)
    assert get_task("jigsaw").option_problems({"clip_frames": 0}) == [
        "clip_frames must be a positive number of frames (or null: all), got 0"]
    assert dataclasses.replace(get_task("jigsaw")).make_sample is get_task("jigsaw").make_sample
    assert PERTURBATIONS["swap"].needs_other_video


def test_one_frame_segments_still_answer_an_interval(ctx):
    """The ladder's 1-frame levels on short, high-fps videos: the answer's 0.1 s resolution would
    make start == end; the segment grows until it does not (a paper segment never changes)."""
    from rewards.tasks.grounding import parse_truth

    fast = [v for v, r in sorted(ctx.records.items()) if float(r["sample_fps"]) > 10]
    assert fast, "the fixture has short synthetic videos"
    task = get_task("grounding")
    for seed, video in enumerate(fast * 3):
        row = task.make_sample(_spec("grounding", "mirror_l5", video, seed), ctx)
        start, end = parse_truth(row["extra_info"]["answer"], "mirror")
        meta = json.loads(row["extra_info"]["meta"])
        assert start < end and meta["end_frame"] - meta["start_frame"] >= 1
    assert grounding.resolvable(3, 11, 48, 19.2) == (3, 11)
