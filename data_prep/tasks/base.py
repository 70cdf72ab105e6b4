"""What every pretext task's generator shares: the sample specification, the build context, the row.

A task module declares ``TASK = PretextTask(...)`` (``data_prep.tasks.registry``) whose
``make_sample(spec, ctx) -> dict`` returns one verl row (``data_prep.schema``, built with
:func:`make_row`) and writes any new frames through ``ctx.writer(spec)`` into the OUTPUT dataset
folder. Unchanged frames are referenced by their path in the frames folder, never copied.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from data_prep import schema
from data_prep.schema import frame_paths
from rewards.naming import make_data_source

# JPEG quality of perturbed / drawn frames: the builder passes the frames folder's own quality, so
# changed frames are not told apart by their compression level instead of their content.
NEW_FRAME_QUALITY = 90


class SkipSample(ValueError):
    """This video cannot host this sample (e.g. too narrow for the shapes); recorded, not fatal."""


@dataclass(frozen=True)
class SampleSpec:
    """Everything that determines one sample; the same spec always gives the same bytes.

    >>> SampleSpec("train-grounding-mirror-000000", "grounding", "mirror", "v1", 123, "train").task
    'grounding'
    """

    sample_id: str
    task: str
    subtype: str
    video_id: str
    seed: int
    split: str  # "train" | "eval"
    uniform: bool = False  # answers uniform over their range instead of the paper's generator
    partner_video_id: str = ""  # second video (grounding "swap"), same split
    # Import path of a task that is not shipped ("" for shipped tasks). Recorded in the row's meta,
    # and re-registered wherever the spec is unpickled (build worker processes, Ray tasks).
    task_module: str = ""

    def __reduce__(self):
        return (_restore_spec, tuple(getattr(self, f.name) for f in dataclasses.fields(self)))


def _restore_spec(*values: Any) -> SampleSpec:
    spec = SampleSpec(*values)
    if spec.task_module:
        from data_prep.tasks.registry import get_task

        get_task(spec.task_module)  # a worker process learns the task before it builds the sample
    return spec


@dataclass
class TaskContext:
    """Where frames come from and go to, and the pixel budget of the split."""

    frames_dir: Path
    out_dir: Path  # the dataset folder; new frames go to out_dir/frames/<sample_id>/
    records: dict[str, dict[str, Any]]  # video_id -> frames-manifest record
    tier: str = "train"
    max_pixels: int = schema.TRAIN_MAX_PIXELS
    min_pixels: int = schema.TRAIN_MIN_PIXELS
    staging_dir: Path | None = None  # where new frames are written before the sample is committed
    options: dict[str, Any] = field(default_factory=dict)  # task keyword overrides, by task name
    jpeg_quality: int = NEW_FRAME_QUALITY

    def paths(self, video_id: str) -> list[str]:
        return frame_paths(self.frames_dir, self.records[video_id], self.tier)

    def load(self, video_id: str, k: int) -> Image.Image:
        """Frame ``k`` of a video; a frame file that is there but cannot be decoded is this sample's
        data problem (``SkipSample``); a missing file or an I/O error is the environment's (raised)."""
        path = self.paths(video_id)[k]
        try:
            with Image.open(path) as im:
                return im.convert("RGB")
        except (UnidentifiedImageError, SyntaxError):
            raise SkipSample(f"unreadable frame {k} of {video_id}: not an image") from None
        except OSError as exc:
            if exc.errno is None:  # PIL's decoding errors ("image file is truncated") carry no errno
                raise SkipSample(f"unreadable frame {k} of {video_id}: {exc}") from None
            raise

    def writer(self, spec: SampleSpec) -> "FrameWriter":
        final = self.out_dir / "frames" / spec.sample_id
        staging = (self.staging_dir or self.out_dir / "frames") / spec.sample_id
        return FrameWriter(staging, final, self.jpeg_quality)


class FrameWriter:
    """Writes new frames into a staging folder; returns the path they will have once committed."""

    def __init__(self, staging: Path, final: Path, quality: int = NEW_FRAME_QUALITY):
        self.staging, self.final, self.quality = staging, final, quality

    def save(self, k: int, image: Image.Image) -> str:
        self.staging.mkdir(parents=True, exist_ok=True)
        name = f"{k:03d}.jpg"
        image.convert("RGB").save(self.staging / name, quality=self.quality)
        return str(self.final / name)


def sample_seed(build_seed: int, sample_id: str) -> int:
    """Per-sample seed: a pure function of the build seed and the sample id.

    >>> sample_seed(0, "jigsaw-n6-000001") == sample_seed(0, "jigsaw-n6-000001")
    True
    """
    digest = hashlib.sha256(f"{build_seed}/{sample_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def rng_for(spec: SampleSpec) -> np.random.Generator:
    return np.random.default_rng(spec.seed)


def video_entry(paths: list[str], sample_fps: float, ctx: TaskContext) -> dict[str, Any]:
    """One ``videos`` item in qwen-vl-utils' dict form (all four keys always present)."""
    return {
        "video": list(paths),
        "sample_fps": float(sample_fps),
        "max_pixels": int(ctx.max_pixels),
        "min_pixels": int(ctx.min_pixels),
    }


def make_row(
    spec: SampleSpec,
    ctx: TaskContext,
    *,
    difficulty: str,
    user_text: str,
    videos: list[list[str]],
    answer: str,
    meta: dict[str, Any],
) -> dict[str, Any]:
    """Assemble one verl row; ``user_text`` holds one ``<video>`` tag per entry of ``videos``."""
    if user_text.count("<video>") != len(videos):
        raise RuntimeError(
            f"{spec.sample_id}: {user_text.count('<video>')} <video> tags for {len(videos)} videos"
        )
    record = ctx.records[spec.video_id]
    fps = float(record["sample_fps"])
    extra = {
        "index": 0,  # set by the builder once the row's position in its file is known
        "split": spec.split,
        "task": spec.task,
        "subtype": spec.subtype,
        "difficulty": difficulty,
        "video_id": spec.video_id,
        "sample_id": spec.sample_id,
        "seed": int(spec.seed),
        "num_frames": int(sum(len(v) for v in videos)),
        "sample_fps": fps,
        "answer": answer,
        # a non-shipped task's rows name its module, so every reader (the reward worker) finds it
        "meta": json.dumps(
            {**meta, "task_module": spec.task_module} if spec.task_module else meta,
            sort_keys=True,
            separators=(",", ":"),
        ),
    }
    schema.check_extra_info(extra)
    return {
        "data_source": make_data_source(spec.task, spec.subtype),
        "prompt": [
            {"role": "system", "content": schema.SYSTEM_PROMPT},
            {"role": "user", "content": user_text},
        ],
        "videos": [video_entry(v, fps, ctx) for v in videos],
        "ability": f"video/{spec.task}",
        "reward_model": {"style": "rule", "ground_truth": answer},
        "extra_info": extra,
    }


def seconds(frame: int, sample_fps: float) -> str:
    """Frame boundary -> seconds with one decimal, as the answers use it.

    >>> seconds(12, 4.8)
    '2.5'
    """
    return f"{frame / sample_fps:.1f}"
