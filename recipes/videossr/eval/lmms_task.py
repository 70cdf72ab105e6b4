"""The lmms-eval VIUBench task: write a ready copy for a local parquet, and hand lmms-eval the
in-tree inputs exactly.

``write_lmms_task`` copies ``lmms_eval_task/`` (YAML + utils.py) to ``out`` with the parquet path in
the YAML (``dataset_kwargs.data_files``) and the task's settings in ``viubench_task.json`` next to
utils.py: the media root the rows' relative frame paths resolve against (``data_prep.media``), an
optional stratified selection (``per_subtype``: the first k questions of every data_source), and
the lmms-eval model arguments that reproduce the in-tree inputs. The packaged template is never
edited.

What the task hands lmms-eval's Qwen-VL classes (``utils.viubench_doc_to_messages``), and why:

* **Frames**: lmms-eval cannot pass a clip's ``sample_fps`` with a frame list (its chat classes build
  the qwen-vl-utils request from model arguments only, so frame lists get qwen-vl-utils' default
  2 fps). So each clip becomes a video file, but a *pixel-exact* one (``exact_clip_file``): the
  frames the in-tree path decodes (``qwen_vl_utils.fetch_video`` on the row's frame list, the row's
  pixel bounds and the model's patch size: verl's call) encoded losslessly (H.264 RGB, qp 0) at
  the clip's exact ``sample_fps``. lmms-eval's reader (decord) then returns the same uint8 frames at
  the same size and frame rate, so the processor sees the same pixels and timestamps.
* **System prompt**: the rows' system turn is part of the messages; lmms-eval 0.7.3's ``qwen3_vl``
  chat class instead prepends its ``system_prompt`` model argument (a model argument cannot hold
  the paper's prompt: lmms-eval splits ``--model_args`` at commas), so for it the turn is left out
  and the model instance's ``system_prompt`` must be the row's (``check_model`` sets it when the
  class default is untouched, refuses any other value).
* **Settings the task can read from the requesting model** (``check_model``): the pixel bounds
  (``min_pixels`` / ``max_pixels`` must be the rows'), ``total_pixels`` unset, and a frame rule that
  keeps every frame of every clip (``fps`` >= the clips' rate, ``max_num_frames`` >= their length);
  a mismatch stops the run with the model arguments to pass.

>>> select_per_subtype(["a", "a", "b", "a", "b"], 1)
[0, 2]
>>> exact_rate(11.988012), exact_rate(12.0)
(Fraction(2997003, 250000), Fraction(12, 1))
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import sys
import warnings
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Mapping

from data_prep.jsonl import write_atomic

TEMPLATE_DIR = Path(__file__).parent / "lmms_eval_task"
PLACEHOLDER = "test: VIUBENCH_PARQUET"
SETTINGS_FILE = "viubench_task.json"
CLIP_FORMAT = "videossr-exact-clip-v1"  # part of every cache key: bump when the encoding changes
DEFAULT_CLIP_CACHE = Path("~/.cache/videossr/viubench_exact_mp4")


# ---------------------------------------------------------------------------------------- writing


def select_per_subtype(data_sources: Iterable[str], k: int | None) -> list[int]:
    """Indices of the first ``k`` rows of every data_source, in file order (None / <= 0: all rows)."""
    sources = list(data_sources)
    if not k or k <= 0:
        return list(range(len(sources)))
    seen: dict[str, int] = defaultdict(int)
    keep = []
    for i, source in enumerate(sources):
        if seen[source] < k:
            keep.append(i)
            seen[source] += 1
    return keep


def recommended_model_args(rows: list[Mapping[str, Any]]) -> str:
    """The lmms-eval ``--model_args`` (besides ``pretrained``) that reproduce the in-tree inputs of
    ``rows``: their pixel bounds, every frame kept (``fps`` at or above every clip's rate, for the
    ``qwen3_vl`` class also ``max_num_frames`` >= the longest clip)."""
    clips = [v for r in rows for v in (r.get("videos") or [])]
    if not clips:
        return ""
    bounds = {(v.get("min_pixels"), v.get("max_pixels")) for v in clips}
    parts = []
    if len(bounds) == 1:
        low, high = next(iter(bounds))
        parts += [f"min_pixels={int(low)}"] if low is not None else []
        parts += [f"max_pixels={int(high)}"] if high is not None else []
    fps = max(float(v["sample_fps"]) for v in clips)
    frames = max(len(v["video"]) for v in clips)
    frames += frames % 2  # qwen-vl-utils pads a frame list to an even count
    parts += [f"fps={math.ceil(fps)}", f"max_num_frames={frames}"]
    return ",".join(parts)


def write_lmms_task(data: str | os.PathLike, out: str | os.PathLike, media_root: str | os.PathLike | None = None,
                    per_subtype: int | None = None) -> Path:
    """Copy the task to ``out``: ``data_files.test`` = the absolute parquet path, and
    ``viubench_task.json`` (media root, per-subtype selection, recommended model arguments)."""
    import pyarrow.parquet as pq

    from data_prep.media import media_root_of
    from recipes.videossr.eval.viubench import viubench_parquet

    parquet = viubench_parquet(data).resolve()
    out = Path(out).resolve()
    if out == TEMPLATE_DIR.resolve():
        raise ValueError("--out must not be the packaged template folder")
    if per_subtype is not None and per_subtype <= 0:
        raise ValueError(f"--per-subtype must be a positive number of questions, got {per_subtype}")
    template = (TEMPLATE_DIR / "viubench.yaml").read_text()
    if PLACEHOLDER not in template:
        raise ValueError(f"{TEMPLATE_DIR / 'viubench.yaml'} lost its '{PLACEHOLDER}' line")
    rows = pq.read_table(parquet, columns=["data_source", "videos"]).to_pylist()
    chosen = select_per_subtype([r["data_source"] for r in rows], per_subtype)
    settings = {
        "parquet": str(parquet),
        "media_root": media_root_of(parquet, media_root),
        "per_subtype": per_subtype,
        "questions": len(chosen),
        "model_args": recommended_model_args([rows[i] for i in chosen]),
    }
    text = template.replace(PLACEHOLDER, f"test: {json.dumps(str(parquet))}")  # a JSON string is valid YAML
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "viubench.yaml", text.encode())
    write_atomic(out / "utils.py", (TEMPLATE_DIR / "utils.py").read_bytes())
    write_atomic(out / SETTINGS_FILE, (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode())
    return out / "viubench.yaml"


def read_task_settings(folder: str | os.PathLike) -> dict[str, Any]:
    """``viubench_task.json`` of a written task folder; {} for the packaged template."""
    path = Path(folder) / SETTINGS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


# ---------------------------------------------------------------------------------- exact clips


def clip_cache_dir() -> Path:
    """``$VIUBENCH_VIDEO_CACHE`` or ``~/.cache/videossr/viubench_exact_mp4`` (never the frames folder)."""
    env = os.environ.get("VIUBENCH_VIDEO_CACHE")
    return Path(env).expanduser() if env else DEFAULT_CLIP_CACHE.expanduser()


def exact_rate(fps: float) -> Fraction:
    """The simplest fraction whose float is exactly ``fps`` (a container stores rates as fractions;
    decord and PyAV read ``num / den`` back as a double, so the in-tree ``sample_fps`` survives)."""
    for digits in range(0, 8):
        rate = Fraction(fps).limit_denominator(10**digits)
        if float(rate) == fps:
            return rate
    raise ValueError(f"sample_fps {fps!r} has no fraction with a denominator below 10^7")


def _in_tree_frames(video: Mapping[str, Any], image_patch_size: int):
    """The clip exactly as the in-tree path decodes it: verl's ``process_vision_info`` call, i.e.
    ``qwen_vl_utils.fetch_video(video, image_patch_size=..., return_video_metadata=True)``."""
    from qwen_vl_utils import fetch_video

    ele = {k: v for k, v in video.items() if k != "type"}
    frames, metadata = fetch_video({"type": "video", **ele}, image_patch_size=image_patch_size,
                                   return_video_metadata=True)
    return frames, metadata


def exact_clip_file(video: Mapping[str, Any], image_patch_size: int, cache: str | os.PathLike | None = None) -> str:
    """An mp4 whose decoded frames are, bit for bit, the in-tree frames of ``video`` (absolute frame
    paths, ``sample_fps``, ``min_pixels`` / ``max_pixels``) for a model with ``image_patch_size``.

    Lossless H.264 in RGB (libx264rgb, qp 0) at ``exact_rate(sample_fps)``; the written file is read
    back and compared frame by frame before it is used. Cached by the frames' paths, sizes and
    modification times, the bounds and the patch size (a rebuilt dataset gets new files).
    """
    import av
    import numpy as np
    import torch

    ele = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in dict(video).items() if k != "type"}
    frames = [str(f) for f in ele["video"]]
    fps = float(ele["sample_fps"])
    stamp = []
    for f in frames:
        st = os.stat(f)
        stamp.append([f, st.st_size, st.st_mtime_ns])
    key_src = json.dumps([CLIP_FORMAT, stamp, {k: v for k, v in ele.items() if k != "video"}, int(image_patch_size)],
                         sort_keys=True, default=str)
    key = hashlib.sha256(key_src.encode()).hexdigest()[:24]
    folder = Path(cache) if cache is not None else clip_cache_dir()
    path = folder / f"{key}.mp4"
    if path.is_file():
        return str(path)
    tensor, _ = _in_tree_frames({**ele, "video": frames}, image_patch_size)
    if not (torch.equal(tensor, tensor.round()) and float(tensor.min()) >= 0 and float(tensor.max()) <= 255):
        raise ValueError(f"clip {frames[0]}...: the in-tree frames are not whole 8-bit values; no exact video file")
    array = np.ascontiguousarray(tensor.to(torch.uint8).permute(0, 2, 3, 1).numpy())
    rate = exact_rate(fps)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{key}.partial{os.getpid()}.mp4"
    with av.open(str(tmp), mode="w") as container:
        stream = container.add_stream("libx264rgb", rate=rate)
        stream.width, stream.height, stream.pix_fmt = array.shape[2], array.shape[1], "rgb24"
        stream.options = {"qp": "0", "preset": "veryfast", "threads": "1"}  # qp 0: lossless
        for frame in array:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with av.open(str(tmp)) as container:
        stream = container.streams.video[0]
        got_rate = float(stream.average_rate)
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
    if got_rate != fps or decoded.shape != array.shape or not np.array_equal(decoded, array):
        tmp.unlink(missing_ok=True)
        raise ValueError(f"clip {frames[0]}...: the written video does not read back exactly "
                         f"(rate {got_rate} vs {fps}, frames {decoded.shape} vs {array.shape})")
    os.replace(tmp, path)
    return str(path)


# ------------------------------------------------------------------------------ the requesting model


def requesting_model() -> Any:
    """The lmms-eval model instance whose ``generate_until`` asked for the current doc (found on the
    call stack: lmms-eval hands a task hook the doc only), or None outside lmms-eval."""
    try:
        from lmms_eval.api.model import lmms
    except ImportError:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, lmms):
            return candidate
        frame = frame.f_back
    return None


def patch_size_of_model(model: Any, default: int) -> int:
    """The vision patch size of an lmms-eval model's processor (14 Qwen2.5-VL, 16 Qwen3-VL)."""
    processor = getattr(model, "processor", None)
    size = getattr(getattr(processor, "image_processor", None), "patch_size", None)
    return int(size) if size else int(default)


def _model_video_kwargs(model: Any, first_clip_frames: int) -> dict[str, Any]:
    """The qwen-vl-utils frame arguments the model class builds (lmms-eval 0.7.3): the ``qwen3_vl``
    classes' ``_build_video_kwargs``; the ``qwen2_5_vl`` chat class: ``fps`` when set, else
    ``nframes`` = min(max_num_frames, frames of the batch's first video), floored to even."""
    if hasattr(model, "_build_video_kwargs"):
        return dict(model._build_video_kwargs())
    if getattr(model, "fps", None) is not None:
        return {"fps": model.fps}
    return {"nframes": max(2, min(int(model.max_num_frames), first_clip_frames) // 2 * 2)}


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, stacklevel=3)
        print(f"[viubench task] {message}", file=sys.stderr)


def check_model(model: Any, clips: list[Mapping[str, Any]], system_text: str | None, model_system_prompt: bool,
                recommended: str = "") -> None:
    """Refuse a requesting lmms-eval model whose settings would change the in-tree inputs.

    ``clips``: the doc's videos with their frame counts after qwen-vl-utils' even padding
    (``frames``) and rates; ``model_system_prompt``: the class prepends its ``system_prompt``
    argument (lmms-eval 0.7.3's ``qwen3_vl`` chat class) instead of reading the messages' system turn.
    """
    from qwen_vl_utils.vision_process import smart_nframes

    name = type(model).__name__
    hint = f" (pass --model_args pretrained=...,{recommended})" if recommended else ""
    if not all(hasattr(model, a) for a in ("min_pixels", "max_pixels", "max_num_frames", "fps")):
        _warn_once(f"{name} is not one of lmms-eval's Qwen-VL classes: its inputs are not checked against the "
                   "in-tree ones")
        return
    problems = []
    for clip in clips:
        low, high = clip.get("min_pixels"), clip.get("max_pixels")
        if (low is not None and model.min_pixels != low) or (high is not None and model.max_pixels != high):
            problems.append(f"min_pixels={model.min_pixels},max_pixels={model.max_pixels} but the rows' frames are "
                            f"bounded by min_pixels={low},max_pixels={high}")
            break
    if getattr(model, "total_pixels", None) is not None:
        problems.append(f"total_pixels={model.total_pixels} replaces the rows' max_pixels (leave it unset)")
    kwargs = _model_video_kwargs(model, int(clips[0]["frames"]) if clips else 2)
    for clip in clips:
        total = int(clip["frames"])
        try:
            kept = smart_nframes({k: v for k, v in kwargs.items() if k in ("fps", "nframes", "min_frames", "max_frames")},
                                 total_frames=total, video_fps=float(clip["sample_fps"]))
        except (ValueError, AssertionError) as exc:
            kept = f"an error ({exc})"
        if kept != total:
            problems.append(f"frame arguments {kwargs} keep {kept} of a clip's {total} frames (fps >= the clips' "
                            "rate and max_num_frames >= their length keep them all)")
            break
    if model_system_prompt and system_text is not None and getattr(model, "system_prompt", None) != system_text:
        default = inspect.signature(type(model).__init__).parameters.get("system_prompt")
        if default is not None and model.system_prompt == default.default:
            # The paper's prompt has a comma, which --model_args cannot carry: hand it to the instance.
            _warn_once(f"{name} prepends its system_prompt model argument; the task sets it to the rows' "
                       f"system prompt {system_text!r} (was the class default {default.default!r})")
            model.system_prompt = system_text
        else:
            problems.append(f"system_prompt={model.system_prompt!r} but the rows' system prompt is {system_text!r}")
    if problems:
        raise ValueError(f"VIUBench task: {name} would not see the in-tree inputs: " + "; ".join(problems) + hint)
