"""Object Counting: shapes drawn on some frames; the answer is "circles,squares,triangles".

Paper generator (default; the options below override each number):

* each shape type gets 1..F frames (``rng`` uniform), frames of one type more than 8 apart, one
  shape type per frame; each such frame holds 1..K instances of that type;
  easy F=K=3 (per-type count 1..9), hard F=K=4 (1..16);
* per instance: size 0.2..0.4 x min(H, W), colour channels 50..255, rotation 0..360 degrees,
  centre inside the central 70% of the frame.

Placement (option ``placement``, set by the build's profile, see ``data_prep.profiles``):

* ``released`` (paper profile): the released rule, up to 20 draws for a centre one size away
  from the frame's other centres, then the last draw is kept: shapes may overlap and hide part
  of the count (:func:`place_shapes_released`);
* ``spaced`` (verified profile): centres at least one size (the larger) apart, no two shapes
  sharing a pixel (one size apart is not enough for rotated squares) and every shape fully
  inside the frame, so what is counted is visible (:func:`place_shapes`); a frame that
  cannot host its shapes after many draws (an extremely narrow video) skips the sample with a
  recorded reason.

Difficulty ladder (``LADDER``, beyond the paper: ``data_prep.tasks.registry``): F x K and the
shape size, easy -> hard and beyond; ``l1`` and ``l2`` are the paper's easy and hard (their rows
keep those subtypes), the others carry their level (``l0``, ``l3`` ...) as their subtype:

=====  ======  ===============  ==========================================
level  F x K   shape size       per-type count
=====  ======  ===============  ==========================================
l0     2 x 2   0.2..0.4         1..4
l1     3 x 3   0.2..0.4         1..9 (paper easy)
l2     4 x 4   0.2..0.4         1..16 (paper hard)
l3     5 x 5   0.15..0.3        1..25
l4     5 x 7   0.12..0.24       1..35 (smaller, more crowded shapes)
l5     6 x 8   0.1..0.2         1..48 (frames of a type 6 apart)
l6     8 x 10  0.08..0.16       1..80 (frames of a type 5 apart)
=====  ======  ===============  ==========================================

Uniform mode (``spec.uniform``): each type's count c ~ U{1..F*K}, then the number of frames is
drawn uniformly among those that can hold c (1..K each) and c is split over them at random, so
every count is equally likely and the constant answer scores exactly like a random guess on
exact match. (The paper's counts peak at 3: "3,3,3" gets ~20% exact match on easy.)
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

from data_prep import prompts
from data_prep.tasks.base import SampleSpec, SkipSample, TaskContext, make_row, rng_for
from data_prep.tasks.registry import Level, PretextTask
from data_prep.tasks.shapes import SHAPES, Shape, circumradius, draw, overlap
from rewards.tasks import counting as reward

SUBTYPES = {"easy": "easy", "hard": "hard"}
DEFAULT_SUBTYPE = "easy"
# subtype -> (max frames per shape type F, max instances per frame K)
LEVELS = {"easy": (3, 3), "hard": (4, 4)}
SIZE = (0.2, 0.4)  # fraction of min(H, W)
CENTRAL = 0.7  # centres inside the central 70% of each side
MIN_FRAME_GAP = 9  # frames of the same type are more than 8 apart
COLOR = (50, 255)
RELEASED_TRIES = 20  # released placement: draws for a non-overlapping centre before keeping the last
DEFAULT_PLACEMENT = "released"  # the paper profile's; data_prep.profiles sets it per build

PROMPT = prompts.COUNTING

# The difficulty ladder (module docstring): each rung sets F x K (option ``levels``) and the size.
LADDER = (
    Level("F2xK2", {"levels": {"l0": (2, 2)}}, subtype="l0"),
    Level("F3xK3", {}, subtype="easy"),
    Level("F4xK4", {}, subtype="hard"),
    Level("F5xK5", {"levels": {"l3": (5, 5)}, "size": (0.15, 0.3)}, subtype="l3"),
    Level("F5xK7", {"levels": {"l4": (5, 7)}, "size": (0.12, 0.24)}, subtype="l4"),
    Level("F6xK8", {"levels": {"l5": (6, 8)}, "size": (0.1, 0.2), "min_frame_gap": 6}, subtype="l5"),
    Level("F8xK10", {"levels": {"l6": (8, 10)}, "size": (0.08, 0.16), "min_frame_gap": 5}, subtype="l6"),
)
PAPER_LEVEL = 1  # easy: VideoSSR-30K's counting


def instances_per_frame(
    rng: np.random.Generator, max_frames: int, max_per_frame: int, uniform: bool
) -> list[int]:
    """Instances on each frame of one shape type.

    >>> parts = instances_per_frame(np.random.default_rng(1), 3, 3, uniform=True)
    >>> 1 <= len(parts) <= 3 and all(1 <= p <= 3 for p in parts)
    True
    """
    if not uniform:
        n = int(rng.integers(1, max_frames + 1))
        return [int(x) for x in rng.integers(1, max_per_frame + 1, size=n)]
    total = int(rng.integers(1, max_frames * max_per_frame + 1))
    feasible = [n for n in range(1, max_frames + 1) if n <= total <= n * max_per_frame]
    n = int(rng.choice(feasible))
    return _uniform_composition(rng, total, n, max_per_frame)


def _uniform_composition(rng: np.random.Generator, total: int, parts: int, high: int) -> list[int]:
    """A uniformly random way to write ``total`` as ``parts`` ordered numbers in 1..high.

    Part by part, each value is drawn with weight = number of ways to finish the rest.
    """

    @functools.lru_cache(maxsize=None)
    def ways(t: int, n: int) -> int:
        if n == 0:
            return int(t == 0)
        return sum(ways(t - v, n - 1) for v in range(1, high + 1) if v <= t)

    out = []
    for left in range(parts, 0, -1):
        values = [v for v in range(1, high + 1) if ways(total - v, left - 1)]
        weights = np.array([ways(total - v, left - 1) for v in values], dtype=float)
        v = int(rng.choice(values, p=weights / weights.sum()))
        out.append(v)
        total -= v
    return out


def pick_frames(
    rng: np.random.Generator, num_frames: int, needed: list[int], gap: int = MIN_FRAME_GAP
) -> list[list[int]]:
    """Disjoint frame sets, one per type; within a set frames are at least ``gap`` apart.

    Frames are drawn one at a time, uniformly among those still allowed (unused, and ``gap`` away
    from the frames of the same type); a dead end restarts the draw.

    >>> sets = pick_frames(np.random.default_rng(0), 48, [4, 4, 4])
    >>> all(b - a >= 9 for s in sets for a, b in zip(s, s[1:]))
    True
    """
    for _ in range(1000):
        used: set[int] = set()
        chosen = []
        for n in needed:
            pick: list[int] = []
            for _ in range(n):
                allowed = [
                    k for k in range(num_frames) if k not in used and all(abs(k - p) >= gap for p in pick)
                ]
                if not allowed:
                    break
                pick.append(int(rng.choice(allowed)))
                used.add(pick[-1])
            if len(pick) != n:
                break
            chosen.append(sorted(pick))
        else:
            return chosen
    raise SkipSample(f"cannot place {needed} frames {gap} apart in {num_frames} frames")


def place_shapes(
    rng: np.random.Generator,
    kind: str,
    count: int,
    width: int,
    height: int,
    size: tuple[float, float] = SIZE,
    central: float = CENTRAL,
) -> list[Shape]:
    """``count`` shapes of one kind, fully inside the frame, one size apart and sharing no pixel."""
    base = min(width, height)
    margin = (1 - central) / 2
    for _ in range(200):
        shapes: list[Shape] = []
        for _ in range(count):
            for _ in range(200):
                s = float(rng.uniform(*size)) * base
                r = circumradius(kind, s)
                x_lo, x_hi = max(margin * width, r), min((1 - margin) * width, width - r)
                y_lo, y_hi = max(margin * height, r), min((1 - margin) * height, height - r)
                if x_lo > x_hi or y_lo > y_hi:
                    continue
                cx, cy = float(rng.uniform(x_lo, x_hi)), float(rng.uniform(y_lo, y_hi))
                shape = Shape(kind, cx, cy, s, float(rng.uniform(0, 360)), (0, 0, 0))
                # the paper's spacing, and (rotated squares one size apart can touch) no shared pixel
                if all(math.hypot(cx - o.cx, cy - o.cy) >= max(s, o.size) and not overlap(shape, o) for o in shapes):
                    color = tuple(int(c) for c in rng.integers(COLOR[0], COLOR[1] + 1, size=3))
                    shapes.append(dataclasses.replace(shape, color=color))
                    break
            else:
                break  # this layout is stuck: start the frame over
        if len(shapes) == count:
            return shapes
    raise SkipSample(f"a {width}x{height} frame cannot hold {count} {kind}s under the placement rules")


def place_shapes_released(
    rng: np.random.Generator,
    kind: str,
    count: int,
    width: int,
    height: int,
    size: tuple[float, float] = SIZE,
    central: float = CENTRAL,
    tries: int = RELEASED_TRIES,
) -> list[Shape]:
    """``count`` shapes placed by the released generator's rule (paper profile).

    Integer size in [int(0.2 m), int(0.4 m)] (m = min(H, W)); integer centre inside the central
    70% inset by int(0.75 size); up to ``tries`` draws for a centre at least ``size`` away from
    the frame's earlier centres, then the last draw is kept, overlapping or not. The inset keeps
    every shape inside the frame (0.75 size exceeds each shape's circumradius).
    """
    base = min(width, height)
    cw, ch = int(width * central), int(height * central)
    ox, oy = (width - cw) // 2, (height - ch) // 2
    shapes: list[Shape] = []
    for _ in range(count):
        color = tuple(int(c) for c in rng.integers(COLOR[0], COLOR[1] + 1, size=3))
        s = int(rng.integers(int(base * size[0]), int(base * size[1]) + 1))
        margin = int(s * 0.75)
        for _ in range(tries):
            x_lo, x_hi, y_lo, y_hi = ox + margin, ox + cw - margin, oy + margin, oy + ch - margin
            if x_lo >= x_hi or y_lo >= y_hi:  # no inset left: anywhere margin away from the edges
                cx, cy = int(rng.integers(margin, width - margin + 1)), int(rng.integers(margin, height - margin + 1))
                break
            cx, cy = int(rng.integers(x_lo, x_hi + 1)), int(rng.integers(y_lo, y_hi + 1))
            if all(math.hypot(cx - o.cx, cy - o.cy) >= s for o in shapes):
                break
        shapes.append(Shape(kind, float(cx), float(cy), float(s), float(rng.uniform(0, 360)), color))
    return shapes


PLACEMENTS = {"released": place_shapes_released, "spaced": place_shapes}


def make_sample(spec: SampleSpec, ctx: TaskContext) -> dict[str, Any]:
    """One counting row: ``spec.subtype`` is the level (easy / hard; a ladder rung's own name)."""
    opts = ctx.options.get("counting", {})
    # A mix may override one level only; the others keep the paper's numbers.
    levels = {**LEVELS, **(opts.get("levels") or {})}
    if spec.subtype not in levels:
        raise ValueError(f"unknown counting level {spec.subtype!r}; known: {sorted(LEVELS)}")
    max_frames, max_per_frame = levels[spec.subtype]
    rng = rng_for(spec)
    n = int(ctx.records[spec.video_id]["num_frames"])
    per_type = [instances_per_frame(rng, max_frames, max_per_frame, spec.uniform) for _ in SHAPES]
    frames = pick_frames(rng, n, [len(p) for p in per_type], opts.get("min_frame_gap", MIN_FRAME_GAP))
    placement = PLACEMENTS[opts.get("placement", DEFAULT_PLACEMENT)]

    paths = list(ctx.paths(spec.video_id))
    shown = list(range(n))
    drawn: dict[str, list[dict]] = {}
    writer = ctx.writer(spec)
    for kind, frame_ids, counts in zip(SHAPES, frames, per_type):
        for k, count in zip(frame_ids, counts):
            image = ctx.load(spec.video_id, k)
            shapes = placement(
                rng,
                kind,
                count,
                image.width,
                image.height,
                tuple(opts.get("size", SIZE)),
                opts.get("central", CENTRAL),
            )
            paths[k], shown[k] = writer.save(k, draw(image, shapes)), -1
            drawn[str(k)] = [s.as_dict() for s in shapes]
    counts = [sum(c) for c in per_type]
    answer = ",".join(str(c) for c in counts)
    meta = {
        "counts": counts,
        "shapes": drawn,
        "shown": shown,
        "uniform": spec.uniform,
        "max_frames": max_frames,
        "max_per_frame": max_per_frame,
    }
    return make_row(
        spec,
        ctx,
        difficulty=SUBTYPES.get(spec.subtype, "standard"),
        user_text=f"<video>\n{PROMPT}",
        videos=[paths],
        answer=answer,
        meta=meta,
    )


def check_options(params: dict[str, Any]) -> None:
    """Values a mix may set (``ValueError`` naming the bad one)."""
    placement = params.get("placement")
    if placement is not None and placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {sorted(PLACEMENTS)}, got {placement!r}")
    levels = params.get("levels")
    if levels is not None and (not isinstance(levels, dict) or set(levels) - set(LEVELS)):
        raise ValueError(f"levels must map levels {sorted(LEVELS)} to [max frames, max per frame], got {levels!r}")


TASK = PretextTask(
    name="counting",
    subtypes=SUBTYPES,
    default_subtype=DEFAULT_SUBTYPE,
    make_sample=make_sample,
    reward=reward.REWARD,
    options={
        "levels": LEVELS,
        "size": SIZE,
        "central": CENTRAL,
        "min_frame_gap": MIN_FRAME_GAP,
        "placement": DEFAULT_PLACEMENT,
    },
    check_options=check_options,
    question=lambda subtype: PROMPT,
    columns=(("easy", "Cnt-E"), ("hard", "Cnt-H")),
    average_label="Cnt-Avg",
    accepts_subtype=lambda subtype: subtype in {level.subtype for level in LADDER},
    levels=LADDER,
    default_level=PAPER_LEVEL,
)
