"""Generator profiles: ``paper`` reproduces the released generators' statistics, ``verified`` its docs.

The released rules are restated below as small reference functions (from the reference section
"Exact parity", in this file's own words) and compared with the project's paper profile.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from data_prep.label_quality import frame_has_overlap
from data_prep.perturbations import PERTURBATIONS, Segment, temporal
from data_prep.profiles import DEFAULT_PROFILE, PROFILES, effective_options
from data_prep.tasks.counting import PLACEMENTS, place_shapes
from data_prep.tasks.shapes import SHAPES, Shape

PAPER = PROFILES["paper"]["grounding"]["perturbation_args"]
VERIFIED = PROFILES["verified"]["grounding"]["perturbation_args"]


def test_the_default_profile_is_the_paper():
    assert DEFAULT_PROFILE == "paper"
    assert PROFILES["paper"]["counting"]["placement"] == "released"


def test_mix_options_override_the_profile_key_by_key():
    merged = effective_options("paper", {"grounding": {"perturbation_args": {"noise": {"sigma": [1, 2]}}}})
    assert merged["grounding"]["perturbation_args"]["noise"] == {"per_frame": True, "at_source": True, "sigma": [1, 2]}
    assert merged["grounding"]["perturbation_args"]["shuffle"] == {"derangement": False}
    with pytest.raises(ValueError, match="unknown generator profile"):
        effective_options("papr", {})


# --- counting placement -------------------------------------------------------------------------


def released_placement(rng: np.random.Generator, kind: str, count: int, w: int, h: int) -> list[Shape]:
    """The released rule: integer size 0.2..0.4 of min(w, h); centre in the central 70% inset by
    0.75 size; 20 tries to be one size away from the earlier centres, else keep the last try."""
    m = min(w, h)
    cw, ch = int(w * 0.7), int(h * 0.7)
    ox, oy = (w - cw) // 2, (h - ch) // 2
    placed: list[Shape] = []
    for _ in range(count):
        size = int(rng.integers(int(m * 0.2), int(m * 0.4) + 1))
        inset = int(size * 0.75)
        for _ in range(20):
            x = int(rng.integers(ox + inset, ox + cw - inset + 1))
            y = int(rng.integers(oy + inset, oy + ch - inset + 1))
            if all(math.hypot(x - p.cx, y - p.cy) >= size for p in placed):
                break
        placed.append(Shape(kind, x, y, size, float(rng.uniform(0, 360)), (255, 255, 255)))
    return placed


def overlap_fraction(place, w: int, h: int, max_per_frame: int, frames: int = 1500, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(frames):
        count = int(rng.integers(1, max_per_frame + 1))
        hits += frame_has_overlap(place(rng, SHAPES[i % 3], count, w, h))
    return hits / frames


@pytest.mark.parametrize("w, h", [(320, 180), (160, 120)])  # 16:9 (720p) and 4:3 (480p) at stored size
@pytest.mark.parametrize("max_per_frame", [3, 4])  # easy, hard
def test_paper_placement_overlaps_as_often_as_the_released_rule(w, h, max_per_frame):
    released = overlap_fraction(released_placement, w, h, max_per_frame)
    ours = overlap_fraction(PLACEMENTS["released"], w, h, max_per_frame, seed=1)
    assert released > 0.05  # the released rule really overlaps
    assert ours == pytest.approx(released, abs=0.05)  # 1500 frames: sampling s.e. ~0.013


def test_overlap_is_more_frequent_on_narrower_frames():
    assert overlap_fraction(PLACEMENTS["released"], 160, 120, 4) > overlap_fraction(PLACEMENTS["released"], 320, 180, 4)


def test_verified_placement_never_overlaps_and_stays_inside():
    rng = np.random.default_rng(2)
    for i in range(300):
        shapes = place_shapes(rng, SHAPES[i % 3], 4, 160, 120)
        assert not frame_has_overlap(shapes)
    assert PLACEMENTS["spaced"] is place_shapes


def test_paper_placement_keeps_shapes_inside_the_frame():
    rng = np.random.default_rng(3)
    for i in range(300):
        for s in PLACEMENTS["released"](rng, SHAPES[i % 3], 4, 160, 120):
            r = 0.75 * s.size
            assert r <= s.cx <= 160 - r and r <= s.cy <= 120 - r
            assert float(s.size).is_integer()


# --- grounding ----------------------------------------------------------------------------------


def released_stutter(start: int, t: int, k: int) -> list[int]:
    """k frames at integer linspace(0, t-1, k) of the segment, each t//k times (+1 for the first t%k)."""
    picks = [int(v) for v in np.linspace(0, t - 1, k)]
    out: list[int] = []
    for i, p in enumerate(picks):
        out += [start + p] * (t // k + (i < t % k))
    return out


@pytest.mark.parametrize("t", range(8, 17))
def test_paper_stutter_hold_is_the_released_rule(t):
    seen = set()
    for seed in range(40):
        out = temporal.stutter_hold(Segment(5, t, 48, load=None), np.random.default_rng(seed), **PAPER["stutter_hold"])
        k = len(set(out))
        seen.add(k)
        assert out == released_stutter(5, t, k)
    assert seen == {2, 3, 4, 5}
    assert out[0] == 5  # the first position shows its own frame: that edge is invisible


@pytest.mark.parametrize("t", [8, 12, 16])
def test_paper_shuffle_leaves_an_edge_in_place_as_a_uniform_permutation_does(t):
    rng = np.random.default_rng(t)
    draws = 4000
    edge = 0
    for _ in range(draws):
        out = temporal.shuffle(Segment(10, t, 48, load=None), rng, **PAPER["shuffle"])
        edge += out[0] == 10 or out[-1] == 10 + t - 1
    expected = 2 / t - 1 / (t * (t - 1))  # P(first or last fixed) of a uniform permutation
    assert edge / draws == pytest.approx(expected, abs=0.025)
    for _ in range(200):
        out = temporal.shuffle(Segment(10, t, 48, load=None), rng, **VERIFIED["shuffle"])
        assert all(k != p for k, p in zip(out, range(10, 10 + t)))


def _flat(value: int = 128, size=(64, 48)):
    image = Image.new("RGB", size, (value, value, value))
    return lambda k: image


def _content_widths(frames) -> list[int]:
    return [int((np.asarray(f)[:, :, 0].max(axis=0) > 0).sum()) for f in frames]


def test_zoom_factor_is_drawn_per_frame_in_paper_and_per_segment_in_verified():
    seg = Segment(0, 12, 48, load=_flat(200, (200, 100)))
    paper = _content_widths(PERTURBATIONS["zoom_out"](seg, np.random.default_rng(0), **PAPER["zoom_out"]))
    verified = _content_widths(PERTURBATIONS["zoom_out"](seg, np.random.default_rng(0), **VERIFIED["zoom_out"]))
    assert len(set(paper)) > 3 and all(200 / 1.4 - 1 <= w <= 200 / 1.2 for w in paper)
    assert len(set(verified)) == 1


def _noise_stds(frames) -> list[float]:
    return [float((np.asarray(f, dtype=np.float64) - 128).std()) for f in frames]


def test_noise_strength_is_drawn_per_frame_in_paper_and_per_segment_in_verified():
    seg = Segment(0, 12, 48, load=_flat(128, (200, 200)))
    args = dict(PAPER["noise"], at_source=False)
    paper = _noise_stds(PERTURBATIONS["noise"](seg, np.random.default_rng(0), **args))
    verified = _noise_stds(PERTURBATIONS["noise"](seg, np.random.default_rng(0), **VERIFIED["noise"]))
    assert max(paper) - min(paper) > 8  # sigma U(35, 70) per frame (clipping lowers it a little)
    assert max(verified) - min(verified) < 2  # one sigma: only the estimate's own noise


def test_source_resolution_noise_and_blur_are_weaker_on_downscaled_frames():
    at_tier = Segment(0, 4, 48, load=_flat(128, (160, 90)))
    from_source = Segment(0, 4, 48, load=_flat(128, (160, 90)), source_size=(640, 360))  # 4x downscaled
    args = {"sigma": (40.0, 40.0), "per_frame": False}
    tier_std = np.mean(_noise_stds(PERTURBATIONS["noise"](at_tier, np.random.default_rng(0), **args, at_source=True)))
    source_std = np.mean(_noise_stds(PERTURBATIONS["noise"](from_source, np.random.default_rng(0), **args, at_source=True)))
    assert tier_std == pytest.approx(40, abs=2)  # no source size recorded: plain noise
    assert source_std < 40 / 3  # averaging 4x4 source pixels divides sigma by about 4
    edge = Image.new("RGB", (160, 90))
    edge.paste((255, 255, 255), (80, 0, 160, 90))
    step = Segment(0, 1, 48, load=lambda k: edge, source_size=(640, 360))
    sharp = np.asarray(PERTURBATIONS["blur"](step, np.random.default_rng(0), at_source=True)[0])[45, 70:90, 0]
    soft = np.asarray(PERTURBATIONS["blur"](step, np.random.default_rng(0), at_source=False)[0])[45, 70:90, 0]
    assert ((sharp > 10) & (sharp < 245)).sum() < ((soft > 10) & (soft < 245)).sum()  # radius 0.5 px vs 2 px


# --- builds, CLI and the dataset card -----------------------------------------------------------

PROFILE_MIX = (
    "name: labels\nsplit: train\nvideos: per_entry\nentries:\n"
    "  - {task: grounding, subtype: shuffle, count: 6}\n"
    "  - {task: grounding, subtype: stutter_hold, count: 6}\n"
    "  - {task: counting, difficulty: hard, count: 6}\n"
)


def _quality(card: str) -> dict[str, float]:
    figures = {}
    for line in card.splitlines():
        for key, label in (("overlap", "| counting: "), ("edge", "| grounding: ")):
            if line.startswith(label):
                figures[key] = float(line.split("|")[2].split("%")[0])
    return figures


def test_build_records_the_profile_and_the_card_measures_label_quality(frames_dir, tmp_path):
    from data_prep.build import build_dataset, read_rows

    mix = tmp_path / "labels.yaml"
    mix.write_text(PROFILE_MIX)
    paper = build_dataset(frames_dir, tmp_path / "paper", mix, seed=1, progress=False)
    verified = build_dataset(frames_dir, tmp_path / "verified", mix, seed=1, profile="verified", progress=False)
    cards = {name: s.card.read_text() for name, s in (("paper", paper), ("verified", verified))}
    assert "| generator profile | `paper` |" in cards["paper"]
    assert "| generator profile | `verified` |" in cards["verified"]
    assert '"placement": "released"' in cards["paper"] and '"placement": "spaced"' in cards["verified"]
    # the released stutter holds the segment's first frame: every paper stutter row has an
    # invisible edge; the verified profile none
    q_paper, q_verified = _quality(cards["paper"]), _quality(cards["verified"])
    assert q_paper["edge"] >= 50.0 and q_verified == {"overlap": 0.0, "edge": 0.0}
    rows = read_rows(paper.parquet)
    config = json.loads((tmp_path / "paper" / "labels.build.json").read_text())["config"]
    assert config["profile"] == "paper" and config["generator_options"] == effective_options("paper", {})
    assert len(rows) == 18


def test_resume_with_another_profile_is_refused_and_unknown_profiles_fail_clearly(frames_dir, tmp_path, capsys):
    from data_prep.build import build_dataset
    from data_prep.builders.mixes import parse_mix
    from data_prep.cli import main

    mix = tmp_path / "labels.yaml"
    mix.write_text(PROFILE_MIX)
    out = tmp_path / "data"
    build_dataset(frames_dir, out, mix, seed=1, progress=False)
    with pytest.raises(ValueError, match="other options"):
        build_dataset(frames_dir, out, mix, seed=1, profile="verified", progress=False)
    with pytest.raises(ValueError, match="placement must be one of"):
        parse_mix(
            {"name": "x", "options": {"counting": {"placement": "tight"}}, "entries": [{"task": "jigsaw", "count": 1}]}
        )
    with pytest.raises(ValueError, match="unknown generator profile 'released'"):
        parse_mix({"name": "x", "profile": "released", "entries": [{"task": "jigsaw", "count": 1}]}, source="x.yaml")
    args = ["build", "--frames", str(frames_dir), "--out", str(tmp_path / "y"), "--recipe", str(mix)]
    with pytest.raises(SystemExit):
        main(args + ["--profile", "best"])
    assert "invalid choice: 'best'" in capsys.readouterr().err
    assert main(args + ["--profile", "verified", "--no-progress"]) == 0
    card = (tmp_path / "y" / "README.md").read_text()
    assert "--profile verified" in card and "| generator profile | `verified` |" in card


def test_shipped_recipes_build_the_paper_profile():
    from data_prep.builders.mixes import load_mix

    assert load_mix("videossr30k").profile == "paper" and load_mix("viubench").profile == "paper"
