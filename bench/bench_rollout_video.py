"""Benchmark the rollout-side video cost per prompt at rollout.n sessions, as verl 0.9.1 incurs it (CPU).

Per session verl calls the dataset class's ``process_multi_modal_info`` (qwen-vl-utils decodes and
resizes the clip's frames), the processor to build the prompt (its Qwen-VL continuous-token
builder), and the processor again in post-processing (``AgentLoopWorker._compute_multi_modal_inputs``).
Three setups, same prompt (one 48-frame clip, max_pixels 256*256, min_pixels 128*128):

  stock     verl's ``RLHFDataset`` on frames stored at source resolution (the reference code's
            layout: 48 full-resolution 720p JPEGs per video), decoded again in every session;
            verl's builder and post-processing in every session
  no-pcache as videossr with ``data.videossr.processor_cache_mb=0`` (decode cache only)
  videossr  ``VideoSSRDataset`` on this project's train-tier frames (stored at <= 256*256) with
            its decode cache, and the recipe's agent-loop path (``VideoSSRAgentLoop`` prompt build,
            ``VideoSSRAgentLoopWorker`` post-processing) with its processor cache: one decode and
            one video-processor pass per clip per prompt (``recipes.videossr.video_features``),
            shared by both stages and the n sessions

Input: a seeded 720p synthetic video (``data_prep.synthetic``) run through the frame stage twice
(source-resolution tier and the default tiers, every tier written whatever the video's split).
Sessions run one after another so the figure is CPU cost, not wall time under verl's thread pool.
Every session here answers one token; sampled GRPO answers differ, which changes nothing here
(post-processing shares the clips' features, keyed by frames and kwargs, not by the answer). One
timed prompt runs max(--n) sessions from cold caches; its first k sessions are exactly a k-session
prompt (a session only reuses what earlier ones computed), so every n is a prefix of the same runs.
Prints per-prompt milliseconds per stage for each n (best of --repeats prompts by default: the
figures are wall time, and other load on the cores only ever adds to them), then a table of the
ratios with the goal: stock/videossr >= 25x at n=8, processor included, for both families.

    python bench/bench_rollout_video.py [--work outputs/bench/rollout] [--n 8,16] [--repeats 3]
                                        [--stat min|median] [--families qwen3_vl,qwen2_5_vl] [--json PATH]

``--json PATH`` writes ``{"figures": {"<family>_n<n>_<name>": value}, "goal": {...}, ...}`` with the
names ``stock_ms``, ``no_pcache_ms``, ``videossr_ms``, ``speedup`` (stock/videossr, the goal's
figure), ``processor_speedup``, ``cache_share`` and ``videossr_{extraction,prompt_build,post_processing}_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import shutil
import statistics
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

from omegaconf import OmegaConf

from data_prep.frames import FrameOptions, extract_frames, frame_paths, load_manifest
from data_prep.schema import TRAIN_MAX_PIXELS, TRAIN_MIN_PIXELS
from data_prep.synthetic import SynthSpec, write_video
from recipes.videossr.dataset import VideoSSRDataset
from recipes.videossr.processor_cache import PROCESSOR_CACHE, configure
from recipes.videossr.tiny_models import build_tiny_model


def frame_options(tiers: Optional[dict[str, int]]) -> FrameOptions:
    """The frame stage's options with every tier written for the one synthetic video.

    By default the frame stage writes a split-named tier (``train``, ``eval``) only for the videos
    of that split (``data_prep.builders.splits.split_of``); the bench reads the ``train`` tier of
    a single video whatever its split, so it asks for every tier (``eval_fraction=None``).
    """
    options = {"tiers": tiers} if tiers else {}
    if "eval_fraction" in {f.name for f in dataclasses.fields(FrameOptions)}:
        options["eval_fraction"] = None
    return FrameOptions(**options)


def prepare(work: Path) -> dict[str, tuple[list[str], float]]:
    """Frames of one 720p video in both layouts: {"source": (paths, fps), "train": (paths, fps)}."""
    video = work / "videos" / "synth_720p.mp4"
    if not video.exists():
        write_video(video, SynthSpec(width=1280, height=720, fps=24, seconds=6.0, num_objects=6), seed=0)
    layouts = {}
    for name, tiers in (("source", {"source": 1 << 40}), ("train", None)):
        options = frame_options(tiers)
        out = work / f"frames_{name}"
        try:
            extract_frames([str(video.parent)], out, options, progress=False)
        except ValueError as exc:  # built by an older frame stage with other options: this bench's own folder
            print(f"rebuilding {out} ({str(exc).splitlines()[0][:120]}...)")
            shutil.rmtree(out)
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
FAMILIES = ("qwen3_vl", "qwen2_5_vl")
GOAL_SPEEDUP, GOAL_N = 25.0, 8  # stock/videossr per prompt, processor included, both families


class Session:
    """One rollout session's video work, as verl's agent-loop worker does it (stock) or as ours does.

    stock     ``RLHFDataset.process_multi_modal_info``, verl's continuous-token builder, then
              ``AgentLoopWorker._compute_multi_modal_inputs`` (post-processing), every session
    videossr  ``VideoSSRDataset`` (decode cache), ``VideoSSRAgentLoop``'s prompt build (Qwen3-VL: per-clip
              expansion; Qwen2.5-VL: verl's builder) and ``VideoSSRAgentLoopWorker._compute_multi_modal_inputs``,
              both through ``recipes.videossr.processor_cache`` (shared by the n sessions)
    """

    def __init__(self, setup: str, kind: str, processor, builder, patch: int, cache_mb: int = 1024):
        from verl.experimental.agent_loop.agent_loop import AgentLoopWorker

        from recipes.videossr.agent_loop import VideoSSRAgentLoopWorker, _CachedBuilder

        self.setup, self.kind, self.processor, self.patch = setup, kind, processor, patch
        self.dataset_cls = VideoSSRDataset if setup != "stock" else __import__(
            "verl.utils.dataset.rl_dataset", fromlist=["RLHFDataset"]).RLHFDataset
        self.config = OmegaConf.create({"videossr": {}})
        worker = object.__new__(VideoSSRAgentLoopWorker if setup != "stock" else AgentLoopWorker)
        worker.processor, worker.tokenizer, worker.mm_processor_kwargs = processor, processor.tokenizer, {}
        worker.config = OmegaConf.create({"data": {"videossr": {"processor_cache_mb": cache_mb}}})
        self.worker = worker
        self.builder = builder
        if setup != "stock":
            loop = SimpleNamespace(tokenizer=processor.tokenizer, processor=processor, family=kind,
                                   apply_chat_template_kwargs={}, mm_processor_kwargs={})
            self.builder = _CachedBuilder(builder, PROCESSOR_CACHE, loop)

    def run(self, messages) -> tuple[float, float, float, int]:
        """Seconds spent in (media extraction, prompt build, post-processing); prompt tokens."""
        import torch
        from verl.utils.tokenizer.chat_template import apply_chat_template

        from recipes.videossr.agent_loop import qwen3_vl_prompt

        configure(self.worker.config.data)  # processor_cache_mb of this setup
        t0 = time.perf_counter()
        # One long-lived loop, as in verl's agent-loop workers (asyncio.run per call would add a
        # new loop and executor thread to every session and bill it to the extraction).
        _, videos, _ = LOOP.run_until_complete(self.dataset_cls.process_multi_modal_info(messages, self.patch,
                                                                                         self.config))
        t1 = time.perf_counter()
        if self.setup != "stock" and self.kind == "qwen3_vl":
            text = apply_chat_template(self.processor, messages, tokenize=False, add_generation_prompt=True)
            _, ids = qwen3_vl_prompt(self.processor, text, list(videos), None, cache=PROCESSOR_CACHE)
        else:
            ids = self.builder.build_initial_tokens(messages, videos=videos, mm_inputs_out={})
        t2 = time.perf_counter()
        eos = self.processor.tokenizer.eos_token_id
        output = SimpleNamespace(multi_modal_data={"videos": videos}, mm_processor_kwargs=None)
        self.worker._compute_multi_modal_inputs(output, torch.tensor([list(ids) + [eos]]))  # one-token answer
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, len(ids)


def one_prompt(session: Session, messages, n: int) -> list[tuple[float, float, float, int]]:
    """n sessions of one prompt, one after another, from cold caches (a new prompt): each session's
    ``(extraction, prompt build, post-processing, prompt tokens)``. The first k sessions of an
    n-session prompt are a k-session prompt (nothing is shared with a later session), so one run
    at the largest n gives every smaller n as a prefix."""
    VideoSSRDataset._clip_cache.clear()
    PROCESSOR_CACHE.clear()
    return [session.run(messages) for _ in range(n)]


def prefix_ms(runs: list[list[tuple]], n: int, stat) -> list[float]:
    """Per-stage milliseconds of the first n sessions, ``stat`` (min = best of the repeats) over the runs."""
    return [stat(sum(r[i] for r in run[:n]) for run in runs) * 1000 for i in range(3)]


def figure_key(kind: str, n: int, name: str) -> str:
    return f"{kind}_n{n}_{name}"


def main() -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="outputs/bench/rollout")
    parser.add_argument("--n", default="8,16", help="rollout.n sessions per prompt, comma-separated (default 8,16)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="prompts timed per setup (default 3; each runs max(n) sessions, "
                             "smaller n are its prefixes)")
    parser.add_argument("--stat", choices=("min", "median"), default="min",
                        help="over the repeats: min = best of N (default; least disturbed by other load), or median")
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma-separated (default {','.join(FAMILIES)})")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as a JSON dict (bench/run_all.py)")
    args = parser.parse_args()
    from transformers import AutoProcessor
    from verl.utils.tokenizer.continuous_token_wiring import create_continuous_token_builder

    ns = sorted({int(n) for n in str(args.n).split(",")})
    families = [f for f in str(args.families).split(",") if f]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown or args.repeats < 1:
        parser.error(f"unknown families {unknown} (known: {FAMILIES})" if unknown else "--repeats must be >= 1")
    stat = min if args.stat == "min" else statistics.median
    started = time.perf_counter()
    work = Path(args.work)
    layouts = prepare(work)
    print("rollout-side video cost per prompt, 48 frames, max_pixels 256*256 (CPU, ms per prompt: media "
          f"extraction + prompt-build processor + post-processing processor; {args.stat} of {args.repeats} prompts)")
    table, figures = [], {}
    for kind in families:
        model_dir = work / f"tiny-{kind}"
        if not (model_dir / "config.json").exists():
            build_tiny_model(kind, model_dir)
        processor = AutoProcessor.from_pretrained(model_dir)
        patch = processor.video_processor.patch_size
        builder = create_continuous_token_builder(processor.tokenizer, hf_model_type=kind, processor=processor)
        sessions = {"stock": Session("stock", kind, processor, builder, patch),
                    "no-pcache": Session("no-pcache", kind, processor, builder, patch, cache_mb=0),
                    "videossr": Session("videossr", kind, processor, builder, patch)}
        messages = {"stock": messages_for(*layouts["source"])}
        messages["no-pcache"] = messages["videossr"] = messages_for(*layouts["train"])
        for setup, session in sessions.items():
            one_prompt(session, messages[setup], 1)  # warm-up (imports, page cache)
        runs = {setup: [one_prompt(session, messages[setup], ns[-1]) for _ in range(args.repeats)]
                for setup, session in sessions.items()}
        for n in ns:
            results = {setup: prefix_ms(runs[setup], n, stat) for setup in sessions}
            for setup, parts in results.items():
                print(f"  {kind:<10} n={n:<3} {setup:<9}: {sum(parts):8.1f} ms (extraction {parts[0]:7.1f}, "
                      f"prompt build {parts[1]:7.1f}, post-processing {parts[2]:7.1f}; "
                      f"{runs[setup][0][0][3]} prompt tokens)")
            stock, plain, ours = results["stock"], results["no-pcache"], results["videossr"]
            row = {"stock_ms": sum(stock), "no_pcache_ms": sum(plain), "videossr_ms": sum(ours),
                   "speedup": sum(stock) / sum(ours),
                   "processor_speedup": (stock[1] + stock[2]) / (ours[1] + ours[2]),
                   "cache_share": sum(plain) / sum(ours),
                   "videossr_extraction_ms": ours[0], "videossr_prompt_build_ms": ours[1],
                   "videossr_post_processing_ms": ours[2]}
            figures.update({figure_key(kind, n, k): round(v, 2) for k, v in row.items()})
            table.append((kind, n, row))
    print("\n| family | n | stock ms/prompt | videossr, no processor cache | videossr | stock/videossr | goal "
          "| processor calls alone | processor cache's share |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, n, row in table:
        goal = (f">= {GOAL_SPEEDUP:g}x: {'met' if row['speedup'] >= GOAL_SPEEDUP else 'NOT MET'}" if n == GOAL_N
                else f"(goal at n={GOAL_N})")
        print(f"| {kind} | {n} | {row['stock_ms']:.0f} | {row['no_pcache_ms']:.0f} | {row['videossr_ms']:.0f} "
              f"| {row['speedup']:.1f}x lower | {goal} | {row['processor_speedup']:.1f}x lower "
              f"| {row['cache_share']:.1f}x lower |")
    print(f"goal: stock/videossr >= {GOAL_SPEEDUP:g}x at n={GOAL_N}, processor included, for both families "
          f"(timings are wall time on this machine: other load on the cores shows up; {args.stat} of "
          f"{args.repeats} prompts)")
    print(f"(processor cache after the last prompt: {PROCESSOR_CACHE.stats()}; {time.perf_counter() - started:.0f} s)")
    if args.json:
        goal = {"speedup_min": GOAL_SPEEDUP, "n": GOAL_N, "processor_included": True, "families": list(FAMILIES)}
        if GOAL_N in ns:
            goal["met"] = {kind: figures[figure_key(kind, GOAL_N, "speedup")] >= GOAL_SPEEDUP for kind in families}
        out = {"figures": figures, "goal": goal, "n": ns, "repeats": args.repeats, "stat": args.stat,
               "seconds": round(time.perf_counter() - started, 1)}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
