"""Which sample is built from which video: a pure function of (mix, videos, seed, options).

``disjoint`` mixes (training): the entry counts are proportions; the total is capped by ``size``
and by the number of videos, split over the entries by largest remainder, and every sample gets
its own video (a seeded shuffle cut into consecutive ranges: disjoint videos per task).
``per_entry`` mixes (VIUBench): each entry gets ``count`` (or ``per_subtype``) samples on distinct
videos while they last, then videos repeat with fresh seeds; entries may share videos.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from data_prep.builders.mixes import Mix, MixEntry
from data_prep.tasks import get_task
from data_prep.tasks.base import SampleSpec, sample_seed


def allocate(counts: list[int], total: int) -> list[int]:
    """Split ``total`` proportionally to ``counts`` (largest remainder, ties to earlier entries).

    >>> allocate([3000, 3000, 3000, 3000, 12000, 6000], 10)
    [1, 1, 1, 1, 4, 2]
    """
    weight = sum(counts)
    if weight == 0 or total <= 0:
        return [0] * len(counts)
    exact = [c * total / weight for c in counts]
    out = [int(x) for x in exact]
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def plan_samples(
    mix: Mix,
    video_ids: list[str],
    seed: int,
    size: Optional[int] = None,
    per_subtype: Optional[int] = None,
    uniform: Optional[bool] = None,
) -> list[SampleSpec]:
    """The ordered sample specs of a build (rows are written in this order).

    >>> from data_prep.builders.mixes import load_mix
    >>> specs = plan_samples(load_mix("videossr30k"), [f"v{i}" for i in range(20)], seed=0)
    >>> len(specs), len({s.video_id for s in specs})
    (20, 20)
    """
    videos = sorted(video_ids)
    if not videos:
        raise ValueError(
            f"mix {mix.name!r}: no {mix.split} videos available in the frames folder "
            "(videos are split by a hash of their id, see --eval-fraction)"
        )
    uniform = mix.uniform if uniform is None else bool(uniform)
    rng = np.random.default_rng(seed)
    stem = Path(mix.output).stem
    specs: list[SampleSpec] = []
    if mix.videos == "disjoint":
        cap = size if size is not None else mix.size
        wanted = sum(e.count for e in mix.entries)
        total = min(wanted, len(videos), cap if cap is not None else wanted)
        order = [videos[i] for i in rng.permutation(len(videos))]
        cursor = 0
        for entry, n in zip(mix.entries, allocate([e.count for e in mix.entries], total)):
            for k in range(n):
                specs.append(_spec(mix.name, stem, entry, k, order[cursor], seed, mix.split, uniform, videos))
                cursor += 1
    else:
        for i, entry in enumerate(mix.entries):
            n = per_subtype if per_subtype is not None else entry.count
            entry_rng = np.random.default_rng([seed, i])
            order = [videos[j] for j in entry_rng.permutation(len(videos))]
            for k in range(n):
                specs.append(
                    _spec(mix.name, stem, entry, k, order[k % len(order)], seed, mix.split, uniform, videos)
                )
    return specs


def _spec(
    mix_name: str,
    stem: str,
    entry: MixEntry,
    k: int,
    video_id: str,
    seed: int,
    split: str,
    uniform: bool,
    pool: list[str],
) -> SampleSpec:
    task, subtype = entry.task, entry.subtype
    # Prefixed by the output file's stem: builds sharing a dataset folder never share frame folders.
    sample_id = f"{stem}-{task}-{subtype}-{k:06d}"
    # The mix name is part of the seed: a training and an eval build never share answers.
    key = f"{mix_name}/{sample_id}"
    declared = get_task(task)
    partner = ""
    # a graded subtype (mirror_l2) generates the rows of its level's subtype (mirror)
    if declared.needs_partner is not None and declared.needs_partner(declared.row_subtype(subtype)):
        others = [v for v in pool if v != video_id]
        if not others:
            raise ValueError(
                f"{sample_id}: {subtype} needs a second {split} video, the frames folder has one"
            )
        partner = others[sample_seed(seed, key + "/partner") % len(others)]
    return SampleSpec(
        sample_id, task, subtype, video_id, sample_seed(seed, key), split, uniform, partner, declared.module
    )
