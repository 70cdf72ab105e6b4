"""Stage 1: raw videos -> pre-sampled frames (``python -m data_prep frames``).

Layout of ``FRAMES_DIR``::

    frames_config.json          options the folder was built with (a resume must match them)
    manifest.jsonl              one record per source video, sorted by video_id when the run ends
    <video_id>/<tier>/000.jpg   the N frames of each usable video, one folder per storage tier

Each video's frames are written to ``.partial/`` and moved into place with one rename, then its
manifest line is appended: a video is done exactly when its line exists, so a run killed at any
moment resumes by redoing only unfinished videos, and re-running a finished folder does nothing.
One run at a time holds the folder (``data_prep.locks``). A video that cannot be used (bad data) is
recorded as skipped with the reason; a program or environment error stops the run and records
nothing (``data_prep.executors``). ``frames_config.json`` is written with the first usable video,
so options that produce nothing never bind the folder.

Storage tiers. verl decodes every frame ``rollout.n`` times per prompt (and the evaluation once
per question), so frames are stored at the pixel budget their consumer uses, not at the source
resolution: ``train`` <= 256*256 pixels (the paper's training max_pixels) and ``eval`` <= 512*512
(VIUBench's evaluation setting), JPEG quality 90, aspect ratio kept. The Qwen-VL processor then only
rounds the size to its patch grid instead of decoding and shrinking a 720p/4K JPEG every time.
A tier named after a split is written only for that split's videos (``split_of(video_id,
eval_fraction)``, the builds' own rule): a training build reads ``train`` frames of train videos
only, VIUBench ``eval`` frames of eval videos only, so nothing else is worth storing (half the
bytes). ``eval_fraction=None`` (``--all-tiers``) writes every tier for every video, for builds
with another fraction; other tier names are always written for every video.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from PIL import Image

from data_prep import validate
from data_prep.builders.splits import DEFAULT_EVAL_FRACTION, SPLITS, split_of
from data_prep.executors import (SKIPPED, check_ray_reachable, failure_record, load_journal, run_journaled,
                                 threads_per_worker)
from data_prep.jsonl import dumps, read_records, recorded_json
from data_prep.locks import folder_lock
from data_prep.sampling import FPS_MODES
from data_prep.schema import NUM_FRAMES, frame_name, frame_paths  # noqa: F401  (the layout lives in core)
from data_prep.video_ids import VIDEO_EXTENSIONS, SourceVideo, discover_videos

MANIFEST = "manifest.jsonl"
CONFIG = "frames_config.json"
PARTIAL = ".partial"
DEFAULT_TIERS = {"train": 256 * 256, "eval": 512 * 512}
MAX_DECODE_THREADS = 16  # FFmpeg's own cap on automatic frame threads: more only costs memory


@dataclass(frozen=True)
class FrameOptions:
    num_frames: int = NUM_FRAMES
    span: tuple[float, float] = (0.05, 0.95)
    fps_mode: str = "paper"
    tiers: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    jpeg_quality: int = 90
    eval_fraction: Optional[float] = DEFAULT_EVAL_FRACTION  # None: every tier for every video
    decode_threads: int = 0  # 0: the cores shared out among the workers (executors.threads_per_worker)

    def __post_init__(self) -> None:
        """The command line's checks (``data_prep.validate``): impossible options never reach a folder."""
        for name, check, value in (("num_frames", validate.positive_int, self.num_frames),
                                   ("span", validate.span, self.span),
                                   ("jpeg_quality", validate.jpeg_quality, self.jpeg_quality),
                                   ("eval_fraction", validate.fraction, self.eval_fraction)):
            if value is None and name == "eval_fraction":
                continue
            try:
                check(value)
            except ValueError as exc:
                raise ValueError(f"{name} {exc}") from None
        if self.fps_mode not in FPS_MODES:
            raise ValueError(f"fps_mode must be one of {FPS_MODES}, got {self.fps_mode!r}")
        if not self.tiers:
            raise ValueError("tiers: at least one storage tier is needed")
        for name, pixels in self.tiers.items():
            validate.tier_pixels(name, validate.positive_int(pixels))

    def as_config(self) -> dict[str, Any]:
        cfg = asdict(self)
        cfg.pop("decode_threads")  # affects speed only, never the bytes written
        cfg["span"] = list(self.span)
        return cfg


def tiers_for(video_id: str, options: FrameOptions) -> dict[str, int]:
    """The tiers written for one video: a split-named tier only if the video is in that split.

    >>> tiers_for("any-video", FrameOptions(eval_fraction=0.0))
    {'train': 65536}
    >>> sorted(tiers_for("any-video", FrameOptions(eval_fraction=None, tiers={"eval": 4096, "source": 8192})))
    ['eval', 'source']
    """
    if options.eval_fraction is None:
        return dict(options.tiers)
    split = split_of(video_id, options.eval_fraction)
    return {name: pixels for name, pixels in options.tiers.items() if name not in SPLITS or name == split}


def _record(video: SourceVideo, status: str, reason: str = "", **fields: Any) -> dict[str, Any]:
    base = {
        "video_id": video.video_id,
        "source_key": video.key,
        "source_path": str(video.path),
        "status": status,
        "reason": reason,
        "num_frames": 0,
        "total_frames": 0,
        "fps": 0.0,
        "duration": 0.0,
        "sample_fps": 0.0,
        "frame_step": 0,
        "frame_indices": [],
        "width": 0,
        "height": 0,
        "tiers": {},
    }
    base.update(fields)
    return base


def extract_one(video: SourceVideo, out_dir: Path, options: FrameOptions) -> dict[str, Any]:
    """Extract one video into ``out_dir/<video_id>``; return its manifest record (never raises)."""
    from data_prep import decode  # here: build workers import this module for frame_paths, not PyAV

    partial = out_dir / PARTIAL / f"{video.video_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    try:
        info = decode.probe(video.path)
        plan = decode.plan_for(info, options.num_frames, options.span, options.fps_mode)
        sizes = decode.tier_sizes(info, tiers_for(video.video_id, options))
        frames = decode.decode_planned_frames(video.path, plan, sizes, threads=options.decode_threads)
        partial.mkdir(parents=True)  # an eval video of a train-only tier list gets an empty folder
        for tier, images in frames.items():
            (partial / tier).mkdir()
            for k, rgb in enumerate(images):
                Image.fromarray(rgb).save(partial / tier / frame_name(k), quality=options.jpeg_quality)
        final = out_dir / video.video_id
        if final.exists():  # left by a run killed between the rename and its manifest line
            shutil.rmtree(final)
        os.replace(partial, final)
        return _record(
            video,
            "ok",
            num_frames=options.num_frames,
            total_frames=info.total_frames,
            fps=round(info.fps, 6),
            duration=round(info.duration, 6),
            sample_fps=round(plan.sample_fps, 6),
            frame_step=plan.step,
            frame_indices=list(plan.indices),
            width=info.width,
            height=info.height,
            tiers={tier: {"width": w, "height": h} for tier, (w, h) in sizes.items()},
        )
    except decode.SkipVideo as exc:  # the video's own problem: recorded, the corpus goes on
        return _record(video, SKIPPED, str(exc))
    except decode.av.error.FFmpegError as exc:  # FFmpeg refused this file somewhere else: its data too
        return _record(video, SKIPPED, f"not a readable video: {decode._ffmpeg_reason(exc)}")
    except Exception as exc:  # a bug or the environment (disk full, mount gone): stop the run, record nothing
        return failure_record(_record(video, "failed"), exc)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


@dataclass
class FramesSummary:
    out_dir: Path
    total: int
    ok: int
    skipped: int
    newly_done: int

    def __str__(self) -> str:
        return (
            f"{self.total} videos: {self.ok} ok, {self.skipped} skipped "
            f"({self.newly_done} processed in this run) -> {self.out_dir / MANIFEST}"
        )


def _check_out_dir(out_dir: Path, roots: list[Path]) -> None:
    for root in roots:
        root = root.resolve()
        folder = root if root.is_dir() else root.parent
        if out_dir == folder or folder in out_dir.parents:
            raise ValueError(f"--out {out_dir} is inside the source folder {folder}; choose another folder")


def recorded_eval_fraction(config: dict[str, Any]) -> Optional[float]:
    """The split a frames folder's tiers follow; None: every tier for every video.

    >>> recorded_eval_fraction({"eval_fraction": 0.2}), recorded_eval_fraction({})
    (0.2, None)
    """
    return config.get("eval_fraction")  # folders from before the option hold every tier


def _check_config(out_dir: Path, options: FrameOptions) -> bool:
    """Refuse options other than the folder's; True when the folder is bound to them already.

    An unbound folder (no ``frames_config.json``: no video was usable yet) forgets the skips its
    manifest holds, which other options may have caused."""
    wanted = json.loads(dumps(options.as_config()))
    path = out_dir / CONFIG
    if not path.exists():
        (out_dir / MANIFEST).unlink(missing_ok=True)
        return False
    existing = json.loads(path.read_text())
    existing = existing | {"eval_fraction": recorded_eval_fraction(existing)}
    if existing != wanted:
        raise ValueError(
            f"{out_dir} was built with different options {existing} (eval_fraction null: --all-tiers); "
            f"resume with the same options or choose a new --out"
        )
    return True


def extract_frames(
    videos: list[str | os.PathLike],
    out_dir: str | os.PathLike,
    options: FrameOptions = FrameOptions(),
    workers: int = 1,
    ray_address: Optional[str] = None,
    progress: bool = True,
) -> FramesSummary:
    """Run the frame stage over every video under ``videos`` (resumable, deterministic)."""
    roots = [Path(v).expanduser() for v in videos]
    out = Path(out_dir).expanduser().resolve()
    sources = discover_videos(roots)
    _check_out_dir(out, roots)
    if not sources:
        raise FileNotFoundError(
            f"no video files under {', '.join(str(r) for r in roots)} (searched recursively for "
            f"{', '.join(sorted(VIDEO_EXTENSIONS))}): pass the folder that holds the videos, or the files themselves"
        )
    if ray_address:
        check_ray_reachable(ray_address)
    with folder_lock(out, "frames run"):
        return _extract_locked(sources, out, options, workers, ray_address, progress)


def _extract_locked(sources: list[SourceVideo], out: Path, options: FrameOptions, workers: int,
                    ray_address: Optional[str], progress: bool) -> FramesSummary:
    bound = _check_config(out, options)
    shutil.rmtree(out / PARTIAL, ignore_errors=True)

    manifest = out / MANIFEST
    done = load_journal(manifest, "video_id")
    # Longest first (file size as the cost), so no long video starts last while the other workers idle.
    todo = sorted((v for v in sources if v.video_id not in done),
                  key=lambda v: (-v.path.stat().st_size, v.key))
    if not options.decode_threads:  # a Ray task holds one CPU; local workers share this machine's cores
        busy = max(1, min(workers, len(todo)))
        threads = 1 if ray_address else min(MAX_DECODE_THREADS, threads_per_worker(busy))
        options = dataclasses.replace(options, decode_threads=threads)
    job = functools.partial(extract_one, out_dir=out, options=options)

    def bind() -> None:  # with the first usable video: only options that produced frames bind the folder
        recorded_json(out / CONFIG, json.loads(dumps(options.as_config())))

    run_journaled(job, todo, manifest, done, "video_id", workers=workers, ray_address=ray_address,
                  progress=progress, desc="frames", unit="video",
                  describe_skip=lambda r: f"skipped {r['source_key']}: {r['reason']}",
                  bind=None if bound else bind)
    shutil.rmtree(out / PARTIAL, ignore_errors=True)
    ok = sum(1 for r in done.values() if r["status"] == "ok")
    return FramesSummary(out, len(done), ok, len(done) - ok, len(todo))


def load_manifest(frames_dir: str | os.PathLike, only_ok: bool = True) -> list[dict[str, Any]]:
    """Records of a finished frames folder, sorted by video_id."""
    frames_dir = Path(frames_dir)
    if not (frames_dir / MANIFEST).exists():
        raise FileNotFoundError(f"{frames_dir / MANIFEST} not found: run `python -m data_prep frames` first")
    records = sorted(read_records(frames_dir / MANIFEST, repair=False), key=lambda r: r["video_id"])
    return [r for r in records if r["status"] == "ok"] if only_ok else records
