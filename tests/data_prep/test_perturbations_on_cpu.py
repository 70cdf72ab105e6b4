"""Perturbations: every registered one changes exactly its segment, keeps the frame size, is seeded."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from data_prep.frames import frame_paths, load_manifest
from data_prep.perturbations import (
    PERTURBATIONS,
    TRAINING_PERTURBATIONS,
    VIUBENCH_PERTURBATIONS,
    Segment,
    temporal,
)
from data_prep.profiles import PROFILES
from rewards.naming import make_data_source

VERIFIED_ARGS = PROFILES["verified"]["grounding"]["perturbation_args"]

PAPER_14 = {
    "saturation",
    "noise",
    "blur",
    "grayscale",
    "invert",
    "channel_swap",
    "zoom_in",
    "rotate_180",
    "zoom_out",
    "mirror",
    "slow",
    "fast",
    "stutter_hold",
    "shuffle",
}


def _loader(paths):
    def load(k: int) -> Image.Image:
        with Image.open(paths[k]) as im:
            return im.convert("RGB")

    return load


@pytest.fixture(scope="module")
def two_videos(frames_dir):
    records = load_manifest(frames_dir)
    # a real clip (bikes) and a synthetic one: different sizes, so swap must resize
    bikes = next(r for r in records if r["video_id"].startswith("bikes"))
    synth = next(r for r in records if r["video_id"].startswith("synth"))
    return frame_paths(frames_dir, bikes, "train"), frame_paths(frames_dir, synth, "train")


def test_registry_has_the_paper_and_reference_perturbations():
    assert PAPER_14 | {"rotate_90", "rotate_270", "swap"} == set(PERTURBATIONS)
    assert set(TRAINING_PERTURBATIONS) == {"channel_swap", "rotate_180", "zoom_out", "mirror"}
    assert set(VIUBENCH_PERTURBATIONS) == set(TRAINING_PERTURBATIONS) | {"shuffle"}
    for name, p in PERTURBATIONS.items():
        make_data_source("grounding", name)  # valid data_source part
        # no final period: the template adds one (the paper's stutter-hold text has its own, kept)
        assert p.description and (name == "stutter_hold" or not p.description.endswith("."))


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
@pytest.mark.parametrize("start,length", [(0, 8), (17, 12), (32, 16)])
def test_every_position_of_the_segment_differs_and_nothing_else_is_touched(name, start, length, two_videos):
    """The contract of the verified profile (the paper profile's shuffle / stutter may not hold it)."""
    paths, other = two_videos
    seg = Segment(start, length, 48, load=_loader(paths), load_other=_loader(other))
    out = PERTURBATIONS[name](seg, np.random.default_rng(3), **VERIFIED_ARGS.get(name, {}))
    assert len(out) == length
    size = Image.open(paths[0]).size
    for pos, item in zip(seg.positions, out):
        original = np.asarray(seg.load(pos), dtype=np.int16)
        if isinstance(item, int):
            assert item != pos and 0 <= item < 48, (name, pos, item)
            shown = np.asarray(seg.load(item), dtype=np.int16)
        else:
            assert item.size == size, f"{name} changed the frame size"
            shown = np.asarray(item, dtype=np.int16)
        assert np.abs(shown - original).mean() > 1.0, f"{name}: position {pos} looks unchanged"


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_same_seed_same_output(name, two_videos):
    paths, other = two_videos
    seg = Segment(10, 12, 48, load=_loader(paths), load_other=_loader(other))

    def run(seed):
        out = PERTURBATIONS[name](seg, np.random.default_rng(seed))
        return [x if isinstance(x, int) else np.asarray(x).tobytes() for x in out]

    assert run(5) == run(5)


def test_exact_pixel_operations(two_videos):
    paths, _ = two_videos
    seg = Segment(4, 8, 48, load=_loader(paths))
    rng = np.random.default_rng(0)
    src = np.asarray(seg.load(4))
    assert np.array_equal(np.asarray(PERTURBATIONS["mirror"](seg, rng)[0]), src[:, ::-1])
    assert np.array_equal(np.asarray(PERTURBATIONS["rotate_180"](seg, rng)[0]), src[::-1, ::-1])
    assert np.array_equal(np.asarray(PERTURBATIONS["channel_swap"](seg, rng)[0]), src[:, :, ::-1])
    assert np.array_equal(np.asarray(PERTURBATIONS["invert"](seg, rng)[0]), 255 - src)
    gray = np.asarray(PERTURBATIONS["grayscale"](seg, rng)[0])
    assert np.array_equal(gray[..., 0], gray[..., 2])
    # zoom out: black border all around, content in the middle
    z = np.asarray(PERTURBATIONS["zoom_out"](seg, rng)[0])
    assert (
        z[0].max() == 0
        and z[-1].max() == 0
        and z[:, 0].max() == 0
        and z[z.shape[0] // 2, z.shape[1] // 2].max() > 0
    )
    # quarter turns keep the size and letterbox
    r = np.asarray(PERTURBATIONS["rotate_90"](seg, rng)[0])
    assert r.shape == src.shape and r[:, 0].max() == 0


def test_quarter_turns_have_the_released_directions():
    """Released Rotate90 = PIL rotate(-90): clockwise; Rotate270 = rotate(90): counter-clockwise."""
    square = np.zeros((8, 8, 3), np.uint8)
    square[0, 0] = 255  # top-left corner
    seg = Segment(0, 1, 4, load=lambda k: Image.fromarray(square))
    clockwise = np.asarray(PERTURBATIONS["rotate_90"](seg, np.random.default_rng(0))[0])
    assert clockwise[0, -1].min() == 255 and clockwise[0, 0].max() == 0  # top-left -> top-right
    released_90 = np.asarray(Image.fromarray(square).rotate(-90, expand=True))
    assert np.array_equal(clockwise, released_90)
    counter = np.asarray(PERTURBATIONS["rotate_270"](seg, np.random.default_rng(0))[0])
    assert np.array_equal(counter, np.asarray(Image.fromarray(square).rotate(90, expand=True)))


def _bare(start, length):
    return Segment(start, length, 48, load=None)


@pytest.mark.parametrize("start,length", [(s, t) for t in (4, 8, 13, 16) for s in range(0, 49 - t)])
def test_temporal_maps(start, length):
    rng = np.random.default_rng(start * 100 + length)
    seg = _bare(start, length)
    positions = list(seg.positions)
    sh = temporal.shuffle(seg, rng, derangement=True)
    assert sorted(sh) == positions and all(a != b for a, b in zip(sh, positions))
    slow = temporal.slow(seg, rng)
    assert all(b - a in (0, 1) for a, b in zip(slow, slow[1:]))  # half speed: each step 0 or 1
    assert max(slow.count(k) for k in set(slow)) == 2
    fast = temporal.fast(seg, rng)
    assert all(b - a == 2 for a, b in zip(fast, fast[1:])) and all(0 <= k < 48 for k in fast)
    hold = temporal.stutter_hold(seg, rng, rule="hold_before")
    assert 2 <= len(set(hold)) <= 5 and hold == sorted(hold)
    for mapping in (slow, fast, hold):
        assert all(k != p and 0 <= k < 48 for k, p in zip(mapping, positions))


def test_swap_needs_a_partner(two_videos):
    paths, _ = two_videos
    with pytest.raises(ValueError, match="second video"):
        PERTURBATIONS["swap"](Segment(0, 8, 48, load=_loader(paths)), np.random.default_rng(0))
