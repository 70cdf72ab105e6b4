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
"""

from __future__ import annotations

from typing import Any

from data_prep import prompts
from data_prep.perturbations import PERTURBATIONS, Segment
from data_prep.tasks.base import SampleSpec, TaskContext, make_row, rng_for, seconds
from data_prep.tasks.registry import PretextTask
from rewards.tasks import grounding as reward

SUBTYPES = {name: "standard" for name in PERTURBATIONS}
DEFAULT_SUBTYPE = "channel_swap"
SEGMENT_LENGTH = (8, 16)  # frames, inclusive (paper); the one place the default lives

PROMPT = prompts.GROUNDING


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


def make_sample(spec: SampleSpec, ctx: TaskContext) -> dict[str, Any]:
    """One grounding row: ``spec.subtype`` names the perturbation."""
    if spec.subtype not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {spec.subtype!r}; known: {sorted(PERTURBATIONS)}")
    perturbation = PERTURBATIONS[spec.subtype]
    opts = ctx.options.get("grounding", {})
    rng = rng_for(spec)
    record = ctx.records[spec.video_id]
    n = int(record["num_frames"])
    start, end = draw_segment(rng, n, spec.uniform, tuple(opts.get("segment_length", SEGMENT_LENGTH)))
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
    length = params.get("segment_length")
    if length is not None:
        ok = isinstance(length, (list, tuple)) and len(length) == 2
        ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in length)
        if not ok or not 1 <= length[0] <= length[1]:
            raise ValueError(f"segment_length must be [low, high] frames with 1 <= low <= high, got {length!r}")
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
    options={"segment_length": SEGMENT_LENGTH, "perturbation_args": {}},
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
)
