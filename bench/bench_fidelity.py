"""Effect of perturbing the stored frames instead of the source frames (CPU; the fidelity table).

The released generator perturbed source-resolution frames, saved them as JPEG q75 and let the
trainer shrink them to at most 256*256 pixels. This repository stores the frames at that size
(JPEG q90) and perturbs those, with the ``paper`` profile's parameters (noise drawn at the source
size and shrunk, blur radius scaled). Both pipelines are run on the same decoded frames, with
the same seeds, up to the trainer's resize (qwen-vl-utils' ``smart_resize`` + PIL resize), and
compared there, at the resolution the model sees:

* ``diff``: mean |released - ours| per pixel (0..255) of the perturbed frames;
* ``baseline``: the same for the UNperturbed frames: the difference every frame already has
  because the frames are stored downscaled. A perturbation adds no deviation of its own when
  ``diff`` is close to ``baseline``;
* for noise and blur, the strength the model sees: std of (perturbed - clean) in each pipeline,
  and the high-frequency energy lost to blur.

    python bench/bench_fidelity.py [--videos V.mp4 ...] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import io
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from qwen_vl_utils.vision_process import smart_resize

from data_prep import decode
from data_prep.embedded import embedded_videos
from data_prep.perturbations import PERTURBATIONS, Segment
from data_prep.profiles import PROFILES
from data_prep.sampling import fit_within
from data_prep.synthetic import SynthSpec, write_corpus

NAMES = ("channel_swap", "rotate_180", "zoom_out", "mirror", "zoom_in", "saturation", "noise", "blur")
PAPER = PROFILES["paper"]["grounding"]["perturbation_args"]
TRAIN_PIXELS = 256 * 256
FRAMES = 8


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def trainer_view(image: Image.Image, patch: int = 32) -> np.ndarray:
    """What qwen-vl-utils hands the processor for one frame of a frame-list video (Qwen3-VL)."""
    h, w = smart_resize(image.height, image.width, factor=patch, min_pixels=128 * 128, max_pixels=TRAIN_PIXELS)
    return np.asarray(image.resize((w, h)), dtype=np.float64)


def run(name: str, source: list[Image.Image], stored: list[Image.Image], size: tuple[int, int]) -> dict:
    args = PAPER.get(name, {})
    released = PERTURBATIONS[name](
        Segment(0, len(source), len(source), load=lambda k: source[k]), np.random.default_rng(0), **args
    )
    ours = PERTURBATIONS[name](
        Segment(0, len(stored), len(stored), load=lambda k: stored[k], source_size=size), np.random.default_rng(0), **args
    )
    r = [trainer_view(jpeg(im, 75)) for im in released]
    o = [trainer_view(jpeg(im, 90)) for im in ours]
    clean_r = [trainer_view(im) for im in source]
    clean_o = [trainer_view(im) for im in stored]
    return {
        "diff": float(np.mean([np.abs(a - b).mean() for a, b in zip(r, o)])),
        "baseline": float(np.mean([np.abs(a - b).mean() for a, b in zip(clean_r, clean_o)])),
        "strength_released": float(np.mean([(a - c).std() for a, c in zip(r, clean_r)])),
        "strength_ours": float(np.mean([(a - c).std() for a, c in zip(o, clean_o)])),
    }


def frames_of(path: Path) -> tuple[list[Image.Image], list[Image.Image], tuple[int, int]]:
    info = decode.probe(path)
    plan = decode.plan_for(info, 48, (0.05, 0.95), "paper")
    sizes = {"source": (info.width, info.height), "train": fit_within(info.width, info.height, TRAIN_PIXELS)}
    decoded = decode.decode_planned_frames(path, plan, sizes)
    picks = range(0, 48, 48 // FRAMES)
    source = [Image.fromarray(decoded["source"][k]) for k in picks]
    stored = [jpeg(Image.fromarray(decoded["train"][k]), 90) for k in picks]  # as the frame stage stores it
    return source, stored, (info.width, info.height)


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--videos", nargs="*", default=None, help="videos to use (default: a 720p synthetic + bikes.mp4)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (bench/run_all.py)")
    args = parser.parse_args()
    figures: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.videos:
            videos = [Path(v) for v in args.videos]
        else:
            write_corpus(Path(tmp), 1, seed=3, spec=SynthSpec(width=1280, height=720, fps=24, seconds=4))
            videos = sorted(Path(tmp).glob("*.mp4")) + [p for p in embedded_videos() if p.name == "bikes.mp4"]
        print(f"{'video':28s} {'perturbation':13s} {'diff':>6s} {'baseline':>8s} {'strength rel.':>13s} {'ours':>6s}")
        for path in videos:
            source, stored, size = frames_of(path)
            label = f"{path.name[:18]} {size[0]}x{size[1]}"
            for name in NAMES:
                m = run(name, source, stored, size)
                figures.setdefault(path.name, {})[name] = {k: round(float(v), 2) for k, v in m.items()}
                print(
                    f"{label:28s} {name:13s} {m['diff']:6.2f} {m['baseline']:8.2f} "
                    f"{m['strength_released']:13.2f} {m['strength_ours']:6.2f}"
                )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summarize(figures), indent=2, sort_keys=True) + "\n")


def summarize(figures: dict[str, dict[str, dict[str, float]]]) -> dict[str, float]:
    """The README's fidelity figures for the real clip (bikes.mp4) when it ran, plus every raw one."""
    flat: dict[str, float] = {f"{video}/{name}/{k}": v for video, per in figures.items()
                              for name, m in per.items() for k, v in m.items()}
    real = figures.get("bikes.mp4")
    if real:
        flat["real_diff_min"] = min(m["diff"] for m in real.values() if m["diff"] >= m["baseline"])
        flat["real_diff_max"] = max(m["diff"] for n, m in real.items() if n != "noise")
        flat["real_baseline"] = real["channel_swap"]["baseline"]
        flat["real_noise_std_released"] = real["noise"]["strength_released"]
        flat["real_noise_std_ours"] = real["noise"]["strength_ours"]
    return flat


if __name__ == "__main__":
    main()
