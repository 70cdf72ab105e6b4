"""Stage 1: raw videos -> pre-sampled frames (``python -m data_prep frames``).

Layout of ``FRAMES_DIR``::

    frames_config.json          options the folder was built with (a resume must match them)
    manifest.jsonl              one record per source video, sorted by video_id when the run ends
    <video_id>/<tier>/000.jpg   the N frames of each usable video, one folder per storage tier

Each video's frames are written to ``.partial/`` and moved into place with one rename, then its
manifest line is appended: a video is done exactly when its line exists, so a run killed at any
moment resumes by redoing only unfinished videos, and re-running a finished folder does nothing.

Storage tiers. verl decodes every frame ``rollout.n`` times per prompt (and the evaluation once
per question), so frames are stored at the pixel budget their consumer uses, not at the source
resolution: ``train`` <= 256*256 pixels (the paper's training max_pixels) and ``eval`` <= 512*512
(VIUBench's evaluation setting), JPEG quality 90, aspect ratio kept. The Qwen-VL processor then only
rounds the size to its patch grid instead of decoding and shrinking a 720p/4K JPEG every time.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from PIL import Image

from data_prep import decode
from data_prep.executors import run_journaled
from data_prep.jsonl import dumps, read_records, recorded_json
from data_prep.video_ids import SourceVideo, discover_videos

MANIFEST = "manifest.jsonl"
CONFIG = "frames_config.json"
PARTIAL = ".partial"
DEFAULT_TIERS = {"train": 256 * 256, "eval": 512 * 512}


@dataclass(frozen=True)
class FrameOptions:
    num_frames: int = 48
    span: tuple[float, float] = (0.05, 0.95)
    fps_mode: str = "paper"
    tiers: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    jpeg_quality: int = 90
    decode_threads: int = 0  # 0 = FFmpeg's choice; 1 per process when running several workers

    def as_config(self) -> dict[str, Any]:
        cfg = asdict(self)
        cfg.pop("decode_threads")  # affects speed only, never the bytes written
        cfg["span"] = list(self.span)
        return cfg


def frame_name(k: int) -> str:
    return f"{k:03d}.jpg"


def frame_paths(frames_dir: Path, record: dict[str, Any], tier: str) -> list[str]:
    """Absolute frame paths of a manifest record for one tier."""
    folder = frames_dir / record["video_id"] / tier
    return [str(folder / frame_name(k)) for k in range(record["num_frames"])]


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
    partial = out_dir / PARTIAL / f"{video.video_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    try:
        info = decode.probe(video.path)
        plan = decode.plan_for(info, options.num_frames, options.span, options.fps_mode)
        sizes = decode.tier_sizes(info, options.tiers)
        frames = decode.decode_planned_frames(video.path, plan, sizes, threads=options.decode_threads)
        for tier, images in frames.items():
            (partial / tier).mkdir(parents=True)
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
    except decode.SkipVideo as exc:
        return _record(video, "skipped", str(exc))
    except Exception as exc:  # a broken file must never stop the corpus
        return _record(video, "skipped", f"unexpected error: {type(exc).__name__}: {exc}")
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


def _check_config(out_dir: Path, options: FrameOptions) -> None:
    wanted = json.loads(dumps(options.as_config()))
    existing = recorded_json(out_dir / CONFIG, wanted)
    if existing != wanted:
        raise ValueError(
            f"{out_dir} was built with different options {existing}; "
            f"resume with the same options or choose a new --out"
        )


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
    out.mkdir(parents=True, exist_ok=True)
    _check_config(out, options)
    shutil.rmtree(out / PARTIAL, ignore_errors=True)

    manifest = out / MANIFEST
    done = {r["video_id"]: r for r in read_records(manifest)}
    todo = [v for v in sources if v.video_id not in done]
    if workers > 1 or ray_address:
        options = FrameOptions(**{**asdict(options), "decode_threads": 1})
    job = functools.partial(extract_one, out_dir=out, options=options)

    run_journaled(job, todo, manifest, done, "video_id", workers=workers, ray_address=ray_address,
                  progress=progress, desc="frames", unit="video",
                  describe_skip=lambda r: f"skipped {r['source_key']}: {r['reason']}")
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
