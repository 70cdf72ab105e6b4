"""Anomaly Grounding: perturb one contiguous segment; the answer is its time interval "s.s-e.e".

Paper generator (default): length t ~ U{8..16} of the 48 frames, start s ~ U{0..48-t}; the answer
is ``s/sample_fps - (s+t)/sample_fps`` with one decimal. Segments then cluster around the middle:
the fixed interval over frames 10-38 gets mean IoU ~0.31 against ~0.22 for a guess drawn from the
generator itself.

Uniform mode (``spec.uniform``): t ~ U{8..16}, then the segment may hang over either end of the
video by up to half its length and is clipped there (start ~ U{-t//2 .. 48-t+t//2}); every frame
is then about equally likely to be perturbed (coverage 0.14-0.25 per frame instead of
0.03-0.33), which shrinks the best constant interval's edge over random guessing (IoU 0.24 vs
0.18). IoU has no answer distribution under which every constant scores the same, so the dataset
card reports the remaining gap.

Difficulty ladder (``LADDER``, beyond the paper: ``data_prep.tasks.registry``), one per
perturbation (``mirror_l0`` .. ``mirror_l5``): a shorter segment is harder to find and to bound,
and a weaker perturbation (where the perturbation has a strength) harder to see. ``l1`` is the
paper's generator. Perturbations without a strength knob (mirror, rotate, channel swap, ...)
change only their segment length. Temporal perturbations need frames to scramble, so from ``l2``
on their segments stay 6-8 frames long (option ``temporal_segment_length``; default ``None``: the
same ``segment_length`` as the others, the paper).

=====  ========  ==========================================================================
level  frames    strength (zoom_out / zoom_in scale, noise sigma, saturation, blur radius)
=====  ========  ==========================================================================
l0     16..24    1.5-1.8 / 1.6-1.9, 70-100, x3.0, 3.0 (stronger than the paper; temporal 12..16)
l1     8..16     the paper's (1.2-1.4 / 1.3-1.5, 35-70, x2.0, 2.0)
l2     4..8      1.1-1.2 / 1.15-1.25, 20-35, x1.6, 1.4
l3     2..4      1.04-1.1 / 1.06-1.12, 10-20, x1.3, 0.9
l4     1..2      1.02-1.05 / 1.03-1.06, 5-10, x1.15, 0.6
l5     1         1.01-1.03 / 1.015-1.035, 3-6, x1.08, 0.4
=====  ========  ==========================================================================
"""

from __future__ import annotations

from typing import Any

from data_prep import prompts
from data_prep.perturbations import PERTURBATIONS, Segment
from data_prep.tasks.base import SampleSpec, TaskContext, make_row, rng_for, seconds
from data_prep.tasks.registry import Level, PretextTask
from rewards.tasks import grounding as reward

SUBTYPES = {name: "standard" for name in PERTURBATIONS}
DEFAULT_SUBTYPE = "channel_swap"
SEGMENT_LENGTH = (8, 16)  # frames, inclusive (paper); the one place the default lives

PROMPT = prompts.GROUNDING


def _strength(zoom_out, zoom_in, sigma, factor, radius) -> dict:
    return {"zoom_out": {"scale": zoom_out}, "zoom_in": {"scale": zoom_in}, "noise": {"sigma": sigma},
            "saturation": {"factor": factor}, "blur": {"radius": radius}}


# The difficulty ladder (module docstring): segment length, then perturbation strength.
LADDER = (
    Level("16-24 frames, strong", {"segment_length": (16, 24), "temporal_segment_length": (12, 16),
                                   "perturbation_args": _strength((1.5, 1.8), (1.6, 1.9), (70.0, 100.0), 3.0, 3.0)}),
    Level("8-16 frames (paper)", {"segment_length": SEGMENT_LENGTH}),
    Level("4-8 frames, weaker", {"segment_length": (4, 8), "temporal_segment_length": (6, 8),
                                 "perturbation_args": _strength((1.1, 1.2), (1.15, 1.25), (20.0, 35.0), 1.6, 1.4)}),
    Level("2-4 frames, subtle", {"segment_length": (2, 4), "temporal_segment_length": (6, 8),
                                 "perturbation_args": _strength((1.04, 1.1), (1.06, 1.12), (10.0, 20.0), 1.3, 0.9)}),
    Level("1-2 frames, faint", {"segment_length": (1, 2), "temporal_segment_length": (6, 8),
                                "perturbation_args": _strength((1.02, 1.05), (1.03, 1.06), (5.0, 10.0), 1.15, 0.6)}),
    Level("1 frame, faintest", {"segment_length": (1, 1), "temporal_segment_length": (6, 8),
                                "perturbation_args": _strength((1.01, 1.03), (1.015, 1.035), (3.0, 6.0), 1.08, 0.4)}),
)
PAPER_LEVEL = 1


def draw_segment(
    rng, num_frames: int, uniform: bool, length: tuple[int, int] = SEGMENT_LENGTH
) -> tuple[int, int]:
    """Return (start, end) frame boundaries, end exclusive.

    >>> import numpy as np
    >>> s, e = draw_segment(np.random.default_rng(0), 48, uniform=False)
    >>> 8 <= e - s <= 16 and 0 <= s and e <= 48
    True
    """
    t = int(rng.integers(length[0], length[1] + 1))
    if t > num_frames:
        raise ValueError(f"segment length {t} exceeds the {num_frames} frames")
    if not uniform:
        s = int(rng.integers(0, num_frames - t + 1))
        return s, s + t
    half = t // 2
    s = int(rng.integers(-half, num_frames - t + half + 1))
    return max(0, s), min(num_frames, s + t)


def resolvable(start: int, end: int, num_frames: int, sample_fps: float) -> tuple[int, int]:
    """The segment, grown one frame at a time (end first, then start) until its answer's start and
    end differ at the answer's 0.1 s resolution; unchanged when they already do (every segment of
    the paper's 8..16 frames: only the ladder's 1-2 frame levels on short, high-fps videos grow).

    >>> resolvable(36, 37, 48, 19.2), resolvable(36, 37, 48, 2.0)  # 1.9-1.9 would be no interval
    ((36, 38), (36, 37))
    """
    while seconds(start, sample_fps) == seconds(end, sample_fps):
        if end < num_frames:
            end += 1
        elif start > 0:
            start -= 1
        else:
            raise ValueError(f"{num_frames} frames at {sample_fps} fps span less than the answer's 0.1 s")
    return start, end


def make_sample(spec: SampleSpec, ctx: TaskContext) -> dict[str, Any]:
    """One grounding row: ``spec.subtype`` names the perturbation."""
    if spec.subtype not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {spec.subtype!r}; known: {sorted(PERTURBATIONS)}")
    perturbation = PERTURBATIONS[spec.subtype]
    opts = ctx.options.get("grounding", {})
    rng = rng_for(spec)
    record = ctx.records[spec.video_id]
    n = int(record["num_frames"])
    length = opts.get("segment_length", SEGMENT_LENGTH)
    if perturbation.family == "temporal" and opts.get("temporal_segment_length"):
        length = opts["temporal_segment_length"]
    start, end = resolvable(*draw_segment(rng, n, spec.uniform, tuple(length)), n, float(record["sample_fps"]))
    other = None
    if perturbation.needs_other_video:
        if not spec.partner_video_id:
            raise ValueError(f"{spec.sample_id}: {spec.subtype} needs a partner video")
        other = lambda k: ctx.load(spec.partner_video_id, k)  # noqa: E731
    source = (int(record["width"]), int(record["height"])) if record.get("width") else None
    segment = Segment(
        start, end - start, n, load=lambda k: ctx.load(spec.video_id, k), load_other=other, source_size=source
    )
    replaced = perturbation(segment, rng, **opts.get("perturbation_args", {}).get(spec.subtype, {}))

    originals = ctx.paths(spec.video_id)  # once: it rebuilds the whole list on every call
    paths = list(originals)
    shown = list(range(n))  # per position: original frame index shown, -1 = new pixels
    writer = ctx.writer(spec)
    for pos, item in zip(segment.positions, replaced):
        if isinstance(item, int):
            if not 0 <= item < n:
                raise RuntimeError(f"{spec.subtype} referenced frame {item} of {n}")
            paths[pos], shown[pos] = originals[item], item
        else:
            paths[pos], shown[pos] = writer.save(pos, item), -1
    fps = float(record["sample_fps"])
    answer = f"{seconds(start, fps)}-{seconds(end, fps)}"
    meta = {
        "start_frame": start,
        "end_frame": end,
        "perturbation": spec.subtype,
        "family": perturbation.family,
        "partner_video_id": spec.partner_video_id,
        "shown": shown,
        "uniform": spec.uniform,
    }
    question = PROMPT.format(description=perturbation.description)
    return make_row(
        spec,
        ctx,
        difficulty=SUBTYPES[spec.subtype],
        user_text=f"<video>\n{question}",
        videos=[paths],
        answer=answer,
        meta=meta,
    )


def check_options(params: dict[str, Any]) -> None:
    """Ranges of the options a mix may set (``ValueError`` naming the bad one)."""
    for key in ("segment_length", "temporal_segment_length"):
        length = params.get(key)
        if length is not None:
            ok = isinstance(length, (list, tuple)) and len(length) == 2
            ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in length)
            if not ok or not 1 <= length[0] <= length[1]:
                raise ValueError(f"{key} must be [low, high] frames with 1 <= low <= high, got {length!r}")
    args = params.get("perturbation_args")
    if args is not None:
        unknown = sorted(set(args) - set(PERTURBATIONS)) if isinstance(args, dict) else None
        if unknown is None or unknown:
            raise ValueError(f"perturbation_args must map perturbations {sorted(PERTURBATIONS)} to arguments, "
                             f"got {args!r}")


TASK = PretextTask(
    name="grounding",
    subtypes=SUBTYPES,
    default_subtype=DEFAULT_SUBTYPE,
    make_sample=make_sample,
    reward=reward.REWARD,
    options={"segment_length": SEGMENT_LENGTH, "perturbation_args": {}, "temporal_segment_length": None},
    check_options=check_options,
    question=lambda subtype: PROMPT.format(description=PERTURBATIONS[subtype].description),
    columns=(
        ("channel_swap", "Chan"),
        ("rotate_180", "Rot"),
        ("zoom_out", "ZoomOut"),
        ("mirror", "Mirror"),
        ("shuffle", "Shuffle"),
    ),
    average_label="Grd-Avg",
    needs_partner=lambda subtype: subtype in PERTURBATIONS and PERTURBATIONS[subtype].needs_other_video,
    levels=LADDER,
    default_level=PAPER_LEVEL,
)
