"""Benchmark the rollout-side video cost per prompt at rollout.n sessions, as verl 0.9.1 incurs it (CPU).

Per session verl calls the dataset class's ``process_multi_modal_info`` (qwen-vl-utils decodes and
resizes the clip's frames) and then the processor (through its Qwen-VL continuous-token builder).
Two setups, same prompt (one 48-frame clip, max_pixels 256*256, min_pixels 128*128):

  stock     verl's ``RLHFDataset`` on frames stored at source resolution (the reference code's
            layout: 48 full-resolution 720p JPEGs per video), decoded again in every session
  videossr  ``VideoSSRDataset`` on this project's train-tier frames (stored at <= 256*256) with
            its decode cache: one decode per prompt, shared by the n sessions

Input: a seeded 720p synthetic video (``data_prep.synthetic``) run through the frame stage twice
(source-resolution tier and the default tiers). Sessions run one after another so the figure is
CPU cost, not wall time under verl's thread pool. Prints per-prompt milliseconds and the ratios,
with and without the processor calls (those run in verl's agent loop, identical in both setups and
not cached by the dataset class; verl makes a second one per session in its post-processing).

    python bench/bench_rollout_video.py [--work outputs/bench/rollout] [--n 8] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from omegaconf import OmegaConf

from data_prep.frames import FrameOptions, extract_frames, frame_paths, load_manifest
from data_prep.schema import TRAIN_MAX_PIXELS, TRAIN_MIN_PIXELS
from data_prep.synthetic import SynthSpec, write_video
from recipes.videossr.dataset import VideoSSRDataset
from recipes.videossr.tiny_models import build_tiny_model


def prepare(work: Path) -> dict[str, tuple[list[str], float]]:
    """Frames of one 720p video in both layouts: {"source": (paths, fps), "train": (paths, fps)}."""
    video = work / "videos" / "synth_720p.mp4"
    if not video.exists():
        write_video(video, SynthSpec(width=1280, height=720, fps=24, seconds=6.0, num_objects=6), seed=0)
    layouts = {}
    for name, tiers in (("source", {"source": 1 << 40}), ("train", None)):
        options = FrameOptions(tiers=tiers) if tiers else FrameOptions()
        out = work / f"frames_{name}"
        extract_frames([str(video.parent)], out, options, progress=False)
        (record,) = load_manifest(out)
        tier = "source" if tiers else "train"
        layouts[name] = (frame_paths(out, record, tier), record["sample_fps"])
    return layouts


def messages_for(paths: list[str], fps: float) -> list[dict]:
    clip = {"type": "video", "video": paths, "sample_fps": fps, "max_pixels": TRAIN_MAX_PIXELS,
            "min_pixels": TRAIN_MIN_PIXELS}
    return [{"role": "system", "content": "Based on this video, provide the answer directly."},
            {"role": "user", "content": [clip, {"type": "text", "text": "Count the shapes."}]}]


LOOP = asyncio.new_event_loop()


def one_prompt(dataset_cls, messages, builder, patch: int, n: int, config) -> tuple[float, float, int]:
    """Seconds for n sessions (media extraction + processor call each); also extraction-only seconds."""
    extract = 0.0
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        # One long-lived loop, as in verl's agent-loop workers (asyncio.run per call would add a
        # new loop and executor thread to every session and bill it to the extraction).
        _, videos, _ = LOOP.run_until_complete(dataset_cls.process_multi_modal_info(messages, patch, config))
        extract += time.perf_counter() - t
        ids = builder.build_initial_tokens(messages, videos=videos)
    return time.perf_counter() - start, extract, len(ids)


def main() -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="outputs/bench/rollout")
    parser.add_argument("--n", type=int, default=8, help="rollout.n sessions per prompt (default 8)")
    parser.add_argument("--repeats", type=int, default=5, help="prompts timed per setup (median reported)")
    args = parser.parse_args()
    from transformers import AutoProcessor
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.tokenizer.continuous_token_wiring import create_continuous_token_builder

    work = Path(args.work)
    layouts = prepare(work)
    print(f"rollout-side video cost per prompt, n={args.n} sessions, 48 frames, max_pixels 256*256 (CPU)")
    for kind in ("qwen3_vl", "qwen2_5_vl"):
        model_dir = work / f"tiny-{kind}"
        if not (model_dir / "config.json").exists():
            build_tiny_model(kind, model_dir)
        processor = AutoProcessor.from_pretrained(model_dir)
        patch = processor.video_processor.patch_size
        builder = create_continuous_token_builder(processor.tokenizer, hf_model_type=kind, processor=processor)
        config = OmegaConf.create({"videossr": {}})
        results = {}
        for setup, dataset_cls, layout in (("stock", RLHFDataset, "source"), ("videossr", VideoSSRDataset, "train")):
            messages = messages_for(*layouts[layout])
            one_prompt(dataset_cls, messages, builder, patch, 1, config)  # warm-up (imports, page cache)
            runs = []
            for _ in range(args.repeats):
                VideoSSRDataset._clip_cache.clear()  # each timed prompt starts cold, like a new prompt
                runs.append(one_prompt(dataset_cls, messages, builder, patch, args.n, config))
            total = statistics.median(r[0] for r in runs)
            extract = statistics.median(r[1] for r in runs)
            results[setup] = (total, extract)
            print(f"  {kind:<10} {setup:<8} ({layout} frames): {total * 1000:8.1f} ms/prompt "
                  f"(media extraction {extract * 1000:7.1f} ms, processor calls {(total - extract) * 1000:7.1f} ms; "
                  f"{runs[0][2]} prompt tokens)")
        (stock, stock_x), (ours, ours_x) = results["stock"], results["videossr"]
        print(f"  {kind:<10} per prompt: {stock / ours:.1f}x lower with processor calls, "
              f"{stock_x / ours_x:.1f}x lower for the dataset class's media extraction alone")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
