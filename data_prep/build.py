"""Stage 2: frames -> verl parquet datasets (``python -m data_prep build``).

Layout of ``DATA_DIR`` (one folder can hold several builds, e.g. train + VIUBench)::

    <output>.parquet            the rows (train.parquet for videossr30k, viubench.parquet, ...)
    <stem>_val.parquet          the validation slice, when the mix asks for one (viubench_val.parquet)
    <stem>.build.json           options, command and video list the file was built with
    <stem>.rows.jsonl           one record per finished sample (ok row, or skipped + reason)
    frames/<sample_id>/NNN.jpg  perturbed / shape-drawn frames only (others are referenced)
    source_frames               link to the frames folder (--self-contained: its used frames)
    README.md                   dataset card covering every build in the folder

Resumable like the frame stage: a sample's new frames are written to ``.partial/`` and moved into
place with one rename, then its record is appended; a re-run redoes only unfinished samples and
refuses to mix options. The parquet and the card are rewritten atomically at the end.
One build at a time holds ``DATA_DIR`` (``data_prep.locks``): a second one started on it is refused.
A sample its video cannot host (``SkipSample``, an unreadable frame) is recorded as skipped; any
other exception is a program or environment error that stops the build and records nothing
(``data_prep.executors``). ``<stem>.build.json`` is written with the first built sample, and a
build where every sample was skipped writes no parquet and fails (``JobFailed``).
Deterministic: same frames + options + seed -> same bytes, whatever ``--workers`` / ``--ray``.

Python API::

    >>> from data_prep.build import build_dataset
    >>> summary = build_dataset("outputs/demo/frames", "outputs/demo/data", recipe="viubench",
    ...                         per_subtype=3)                                  # doctest: +SKIP
    >>> summary.parquet                                                         # doctest: +SKIP
    PosixPath('outputs/demo/data/viubench.parquet')
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import json
import os
import shlex
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from data_prep import schema, validate
from data_prep.builders.mixes import load_mix
from data_prep.builders.plan import plan_samples
from data_prep.builders.splits import DEFAULT_EVAL_FRACTION, split_of
from data_prep.executors import (OK, SKIPPED, JobFailed, check_ray_reachable, failure_record, load_journal,
                                 run_journaled)
from data_prep.frames import CONFIG, load_manifest, recorded_eval_fraction
from data_prep.jsonl import recorded_json
from data_prep.locks import folder_lock
from data_prep.media import portable_videos
from data_prep.portable import attach_source_frames, check_attachable
from data_prep.profiles import check_profile, effective_options
from data_prep.tasks import get_task
from data_prep.tasks.base import SampleSpec, SkipSample, TaskContext

PARTIAL = ".partial"
SAMPLES_PER_TASK = 16  # a sample takes ~10 ms: one process/Ray task each would cost as much again
# Starting a worker process costs ~0.3 s, the time of ~30 samples: a smaller build runs in this process.
MIN_SAMPLES_PER_WORKER = 32
# split -> (frame tier, max_pixels, min_pixels): paper training 256*256, VIUBench 512*512.
SPLIT_PIXELS = {
    "train": ("train", schema.TRAIN_MAX_PIXELS, schema.TRAIN_MIN_PIXELS),
    "eval": ("eval", schema.EVAL_MAX_PIXELS, schema.EVAL_MIN_PIXELS),
}


@dataclass
class BuildSummary:
    parquet: Path
    card: Path
    rows: int
    skipped: int
    newly_done: int
    skip_reasons: list[str]
    validation: Optional[Path] = None  # <stem>_val.parquet, when the build wrote a slice
    shortfall: str = ""  # why a training mix has fewer samples than asked for (also in the card)

    def __str__(self) -> str:
        text = f"{self.rows} rows, {self.skipped} skipped ({self.newly_done} built in this run) -> {self.parquet}"
        text += f" (+ validation slice {self.validation.name})" if self.validation else ""
        return text + (f"\nnote: {self.shortfall}" if self.shortfall else "")


def size_shortfall(mix_videos: str, asked: Optional[int], planned: int, num_videos: int, split: str) -> str:
    """The note for a disjoint (one video per sample) build capped by its videos, else "".

    >>> size_shortfall("disjoint", 24, 18, 18, "train")
    'asked for 24 samples, built 18: the frames folder has 18 train videos and a training mix uses each once'
    """
    if mix_videos != "disjoint" or asked is None or planned >= asked:
        return ""
    return (f"asked for {asked} samples, built {planned}: the frames folder has {num_videos} {split} videos "
            "and a training mix uses each once")


def build_dataset(
    frames_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    recipe: str | os.PathLike = "videossr30k",
    *,
    size: Optional[int] = None,
    seed: int = 0,
    per_subtype: Optional[int] = None,
    uniform: Optional[bool] = None,
    profile: Optional[str] = None,
    validation_slice: Optional[int] = None,
    eval_fraction: float = DEFAULT_EVAL_FRACTION,
    workers: int = 1,
    ray_address: Optional[str] = None,
    progress: bool = True,
    command: Optional[str] = None,
    self_contained: bool = False,
) -> BuildSummary:
    """Build one mix (a built-in recipe name or a mix YAML path) into ``out_dir``.

    ``size`` caps a disjoint (training) mix, ``per_subtype`` sets every entry of a per-entry mix
    (VIUBench); ``uniform``, ``profile`` (``data_prep.profiles``) and ``validation_slice`` (rows
    per subtype in ``<stem>_val.parquet``; 0: none) None keep the mix's setting. Rows name their
    frames relative to ``out_dir`` (``data_prep.media``): ``out_dir/source_frames`` links to the
    frames folder, or, ``self_contained``, holds hard links / copies of the frames the rows use.
    Returns where the parquet and card are.
    """
    _check_numbers(size=size, per_subtype=per_subtype, validation_slice=validation_slice,
                   eval_fraction=eval_fraction, workers=workers)
    mix = load_mix(recipe)
    frames = Path(frames_dir).expanduser().resolve()
    out = Path(out_dir).expanduser().resolve()
    records = {r["video_id"]: r for r in load_manifest(frames)}
    _check_out_dir(out, frames, records.values())
    # What depends on the frames folder and the mix only is checked before the output folder is touched.
    _check_frames_split(frames, eval_fraction)
    tier, max_pixels, min_pixels = tier_pixels(frames, mix.split)
    pool = sorted(
        v for v, r in records.items() if split_of(v, eval_fraction) == mix.split and tier in r["tiers"]
    )
    specs = plan_samples(mix, pool, seed, size=size, per_subtype=per_subtype, uniform=uniform)
    profile = check_profile(profile or mix.profile)
    generator_options = effective_options(profile, mix.options)
    if ray_address:
        check_ray_reachable(ray_address)
    plan = _Plan(tier, max_pixels, min_pixels, pool, specs, profile, generator_options)
    with folder_lock(out, "build"):
        return _build_locked(mix, frames, out, records, plan, size=size, seed=seed, per_subtype=per_subtype,
                             uniform=uniform, validation_slice=validation_slice,
                             eval_fraction=eval_fraction, workers=workers, ray_address=ray_address,
                             progress=progress, command=command or _default_command(recipe),
                             self_contained=self_contained)


@dataclass
class _Plan:
    tier: str
    max_pixels: int
    min_pixels: int
    pool: list[str]
    specs: list[SampleSpec]
    profile: str
    generator_options: dict[str, Any]


def _check_numbers(*, size, per_subtype, validation_slice, eval_fraction, workers) -> None:
    """The command line's checks (``data_prep.validate``), for the API too: before any work."""
    checks = (("size", validate.positive_int, size), ("per_subtype", validate.positive_int, per_subtype),
              ("validation_slice", validate.non_negative_int, validation_slice),
              ("eval_fraction", validate.fraction, eval_fraction), ("workers", validate.positive_int, workers))
    for name, check, value in checks:
        if value is not None:
            try:
                check(value)
            except ValueError as exc:
                raise ValueError(f"{name} {exc}") from None


def _build_locked(mix, frames: Path, out: Path, records: dict[str, dict], plan: _Plan, *, size, seed,
                  per_subtype, uniform, validation_slice, eval_fraction, workers, ray_address, progress, command,
                  self_contained) -> BuildSummary:
    check_attachable(out, frames)
    tier, max_pixels, min_pixels = plan.tier, plan.max_pixels, plan.min_pixels
    pool, specs, profile, generator_options = plan.pool, plan.specs, plan.profile, plan.generator_options

    stem = Path(mix.output).stem
    _check_eval_fraction(out, stem, eval_fraction)
    # The slice is cut from the finished rows, so changing it never forces a rebuild: not compared.
    slice_rows = mix.validation_slice if validation_slice is None else validation_slice
    config = {
        "mix": {k: v for k, v in dataclasses.asdict(mix).items() if k != "validation_slice"}
        | {"source": os.path.basename(mix.source)},
        "frames_dir": str(frames),
        "seed": seed,
        "size": size,
        "per_subtype": per_subtype,
        "uniform": mix.uniform if uniform is None else bool(uniform),
        "profile": profile,
        "generator_options": generator_options,
        "eval_fraction": eval_fraction,
        "tier": tier,
        "max_pixels": max_pixels,
        "min_pixels": min_pixels,
        "videos_sha256": hashlib.sha256("\n".join(pool).encode()).hexdigest(),
        "num_videos": len(pool),
    }
    rows_path = out / f"{stem}.rows.jsonl"
    config_path = out / f"{stem}.build.json"
    bound = _check_config(config_path, rows_path, config)
    shutil.rmtree(out / PARTIAL, ignore_errors=True)

    ctx = TaskContext(
        frames,
        out,
        {},
        tier=tier,
        max_pixels=max_pixels,
        min_pixels=min_pixels,
        options=generator_options,
        jpeg_quality=_frames_jpeg_quality(frames),
    )
    done = load_journal(rows_path, "sample_id")
    todo = [(s, _records_for(s, records)) for s in specs if s.sample_id not in done]
    job = functools.partial(build_one, ctx=ctx)
    if not ray_address and len(todo) < MIN_SAMPLES_PER_WORKER * workers:
        workers = 1
    if workers > 1 or ray_address:
        _import_in_background("pyarrow.parquet")  # the parquet writer's imports, while the workers run

    def bind() -> None:  # with the first built sample: options that build nothing never bind the folder
        recorded_json(config_path, {"config": config, "command": command})

    run_journaled(job, todo, rows_path, done, "sample_id", workers=workers, ray_address=ray_address,
                  batch=SAMPLES_PER_TASK, progress=progress, desc=f"build {mix.name}", unit="sample",
                  describe_skip=lambda r: f"skipped {r['sample_id']} ({r['video_id']}): {r['reason']}",
                  bind=None if bound else bind)
    shutil.rmtree(out / PARTIAL, ignore_errors=True)

    ordered = [done[s.sample_id] for s in specs]
    rows = [canonical_row(r["row"]) for r in ordered if r["status"] == OK]
    skipped = [f"{r['sample_id']}: {r['reason']}" for r in ordered if r["status"] != OK]
    if specs and not rows:
        raise JobFailed(f"build {mix.name}: none of the {len(specs)} samples could be built, so nothing was "
                        f"written ({_reason_counts(ordered)}); see {rows_path.name}")
    for i, row in enumerate(rows):
        row["extra_info"]["index"] = i
        row["videos"] = portable_videos(row["videos"], frames, out)  # the folder moves with its frames
    attach_source_frames(out, frames, rows, copy=self_contained)
    parquet = out / mix.output
    write_parquet(rows, parquet)
    val_parquet = parquet.with_name(f"{stem}_val.parquet")
    if slice_rows:
        write_parquet(validation_rows(rows, slice_rows), val_parquet)
    else:
        val_parquet.unlink(missing_ok=True)  # a slice from an earlier run would no longer match
        val_parquet = None
    from data_prep.card import write_card  # late import: the card reads the files written above

    card = write_card(out)
    shortfall = size_shortfall(mix.videos, size if size is not None else mix.size, len(specs), len(pool), mix.split)
    return BuildSummary(parquet, card, len(rows), len(skipped), len(todo), skipped, val_parquet, shortfall)


def _reason_counts(records: list[dict[str, Any]], most: int = 3) -> str:
    """``"12 x too narrow, 3 x ..."``: the commonest skip reasons (a video id's part removed).

    >>> _reason_counts([{"reason": "a"}, {"reason": "a"}, {"reason": "b"}])
    '2 x a, 1 x b'
    """
    counts: dict[str, int] = {}
    for r in records:
        counts[r.get("reason", "")] = counts.get(r.get("reason", ""), 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{n} x {reason}" for reason, n in ranked[:most])
    return text + (f", {len(ranked) - most} other reasons" if len(ranked) > most else "")


def validation_rows(rows: list[dict[str, Any]], per_source: int) -> list[dict[str, Any]]:
    """The first ``per_source`` rows of every data source (a subtype), in build order.

    Rows of a subtype come from distinct videos drawn by the build seed, so its first rows are a
    random sample of that subtype: every VIUBench column gets a score, with a bounded cost. Rows
    keep ``extra_info.index``, their position in the full file.

    >>> rows = [{"data_source": s, "n": i} for i, s in enumerate("aabab")]
    >>> [r["n"] for r in validation_rows(rows, 1)]
    [0, 2]
    """
    taken: dict[str, int] = {}
    picked = []
    for row in rows:
        if taken.get(row["data_source"], 0) < per_source:
            taken[row["data_source"]] = taken.get(row["data_source"], 0) + 1
            picked.append(row)
    return picked


def build_one(item: tuple[SampleSpec, dict[str, Any]], ctx: TaskContext) -> dict[str, Any]:
    """Build one sample; returns its record: ok + row, skipped + reason (the video cannot host it),
    or failed + the error (a program or environment error; ``run_journaled`` stops the build). Never raises."""
    spec, records = item
    staging = ctx.out_dir / PARTIAL / f"{spec.sample_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    local = dataclasses.replace(ctx, records=records, staging_dir=staging)
    base = {
        "sample_id": spec.sample_id,
        "video_id": spec.video_id,
        "task": spec.task,
        "subtype": spec.subtype,
    }
    try:
        row = get_task(spec.task).make_sample(spec, local)
        new_frames = staging / spec.sample_id
        final = ctx.out_dir / "frames" / spec.sample_id
        if final.exists():  # left by a run killed between the rename and its record
            shutil.rmtree(final)
        if new_frames.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(new_frames, final)
        return base | {"status": OK, "reason": "", "row": row}
    except SkipSample as exc:  # this video cannot host this sample: recorded, the build goes on
        return base | {"status": SKIPPED, "reason": str(exc), "row": None}
    except Exception as exc:  # a bug (a task's code, a bad option) or the environment: stop, record nothing
        return failure_record(base | {"row": None}, exc)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def canonical_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its keys in schema order (fresh and resumed rows must give the same parquet schema)."""
    return {
        "data_source": row["data_source"],
        "prompt": [{"role": m["role"], "content": m["content"]} for m in row["prompt"]],
        "videos": [
            {k: v[k] for k in ("video", "sample_fps", "max_pixels", "min_pixels")} for v in row["videos"]
        ],
        "ability": row["ability"],
        "reward_model": {
            "style": row["reward_model"]["style"],
            "ground_truth": row["reward_model"]["ground_truth"],
        },
        "extra_info": {k: row["extra_info"][k] for k in schema.EXTRA_INFO_KEYS},
    }


def write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    """Atomic parquet write (temp file + rename); an empty build still gets a valid file."""
    import pyarrow as pa  # here, not at the top: build workers import this module and never write
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    table = (
        pa.Table.from_pylist(rows)
        if rows
        else pa.table({k: pa.array([], pa.string()) for k in schema.ROW_KEYS})
    )
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def read_rows(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a built parquet as Python dicts (``extra_info.meta`` still a JSON string)."""
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def tier_pixels(frames: Path, split: str) -> tuple[str, int, int]:
    """(tier, max_pixels, min_pixels) the rows of a ``split`` build claim: the tier's budget as the
    frames folder recorded it (``--tiers train=128*128`` -> 16384), else the paper's.
    ``min_pixels`` never exceeds it, so the processor never upscales frames stored smaller."""
    tier, max_pixels, min_pixels = SPLIT_PIXELS[split]
    config = frames / CONFIG
    if config.exists():
        max_pixels = int(json.loads(config.read_text()).get("tiers", {}).get(tier, max_pixels))
    return tier, max_pixels, min(min_pixels, max_pixels)


def _frames_jpeg_quality(frames: Path) -> int:
    config = frames / CONFIG
    return int(json.loads(config.read_text()).get("jpeg_quality", 90)) if config.exists() else 90


def _import_in_background(module: str) -> None:
    """Import ``module`` on a thread: the parent only waits while its workers build, and pyarrow
    (with the pandas its first array imports) costs ~0.35 s that would otherwise follow the build."""

    def load() -> None:
        importlib.import_module(module)
        importlib.import_module("pyarrow").array([0])

    threading.Thread(target=load, name=f"import {module}", daemon=True).start()


def _records_for(spec: SampleSpec, records: dict[str, dict]) -> dict[str, dict]:
    ids = [spec.video_id] + ([spec.partner_video_id] if spec.partner_video_id else [])
    return {v: records[v] for v in ids}


def _check_out_dir(out: Path, frames: Path, records) -> None:
    if out == frames or frames in out.parents:
        raise ValueError(f"--out {out} is inside the frames folder {frames}; choose another folder")
    sources = {Path(r["source_path"]).parent for r in records}
    for folder in sources:
        if out == folder or folder in out.parents:
            raise ValueError(f"--out {out} is inside the source video folder {folder}; choose another folder")


def _check_frames_split(frames: Path, eval_fraction: float) -> None:
    """Refuse a split other than the one the frames folder stored its train/eval tiers for."""
    config = frames / CONFIG
    theirs = recorded_eval_fraction(json.loads(config.read_text())) if config.exists() else None
    if theirs is not None and float(theirs) != float(eval_fraction):
        raise ValueError(
            f"{frames} holds the train/eval tiers of each video's split at eval_fraction={theirs} "
            f"({CONFIG}), not {eval_fraction}: build with --eval-fraction {theirs}, or extract the frames "
            f"into a new folder with `data_prep frames --eval-fraction {eval_fraction}` (or --all-tiers)"
        )


def _check_eval_fraction(out: Path, stem: str, eval_fraction: float) -> None:
    """Refuse a build whose train/eval split differs from another build's in the same folder."""
    # Another fraction moves videos across the split: train and VIUBench would share videos.
    for other in sorted(out.glob("*.build.json")):
        if other.name == f"{stem}.build.json":
            continue  # the same build's own options: _check_config compares all of them
        theirs = json.loads(other.read_text()).get("config", {}).get("eval_fraction")
        if theirs is not None and float(theirs) != float(eval_fraction):
            raise ValueError(
                f"{out}: {other.name} was built with eval_fraction={theirs}, but {stem}.build.json "
                f"would use eval_fraction={eval_fraction}; builds in one folder must share the "
                f"train/VIUBench split (use the same --eval-fraction or choose a new --out)"
            )


def _check_config(path: Path, journal: Path, config: dict[str, Any]) -> bool:
    """Refuse options other than the ones the folder's build of this output recorded; True when
    recorded. Without a record (nothing was built yet) the journal's skips are forgotten: other
    options may have caused them."""
    if not path.exists():
        journal.unlink(missing_ok=True)
        return False
    existing = json.loads(path.read_text())
    if existing.get("config") != json.loads(json.dumps(config)):
        raise ValueError(
            f"{path.parent} already holds a {path.stem.split('.')[0]} build with other options or another "
            f"video list (see {path.name}); re-run with the same options or choose a new --out"
        )
    return True


def _default_command(recipe) -> str:
    return "build_dataset(recipe=%s)" % shlex.quote(str(recipe))
