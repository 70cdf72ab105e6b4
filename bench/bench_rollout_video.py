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
            one processor call per stage per prompt, shared by the n sessions

Input: a seeded 720p synthetic video (``data_prep.synthetic``) run through the frame stage twice
(source-resolution tier and the default tiers). Sessions run one after another so the figure is
CPU cost, not wall time under verl's thread pool. Every session here answers one token; sampled
GRPO answers differ, which changes nothing here (post-processing shares the clips' features, keyed
by frames and kwargs, not by the answer). Prints per-prompt milliseconds per stage, for
each n, and a table of the ratios.

    python bench/bench_rollout_video.py [--work outputs/bench/rollout] [--n 8,16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

from omegaconf import OmegaConf

from data_prep.frames import FrameOptions, extract_frames, frame_paths, load_manifest
from data_prep.schema import TRAIN_MAX_PIXELS, TRAIN_MIN_PIXELS
from data_prep.synthetic import SynthSpec, write_video
from recipes.videossr.dataset import VideoSSRDataset
from recipes.videossr.processor_cache import PROCESSOR_CACHE, configure
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


def one_prompt(session: Session, messages, n: int) -> tuple[float, float, float, int]:
    """n sessions of one prompt, one after another, from cold caches (a new prompt)."""
    VideoSSRDataset._clip_cache.clear()
    PROCESSOR_CACHE.clear()
    runs = [session.run(messages) for _ in range(n)]
    return tuple(sum(r[i] for r in runs) for i in range(3)) + (runs[0][3],)


def main() -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="outputs/bench/rollout")
    parser.add_argument("--n", default="8,16", help="rollout.n sessions per prompt, comma-separated (default 8,16)")
    parser.add_argument("--repeats", type=int, default=3, help="prompts timed per setup (median reported)")
    args = parser.parse_args()
    from transformers import AutoProcessor
    from verl.utils.tokenizer.continuous_token_wiring import create_continuous_token_builder

    ns = [int(n) for n in str(args.n).split(",")]
    work = Path(args.work)
    layouts = prepare(work)
    print("rollout-side video cost per prompt, 48 frames, max_pixels 256*256 (CPU, ms per prompt: media "
          "extraction + prompt-build processor + post-processing processor)")
    table = []
    for kind in ("qwen3_vl", "qwen2_5_vl"):
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
        for n in ns:
            results = {}
            for setup, session in sessions.items():
                runs = [one_prompt(session, messages[setup], n) for _ in range(args.repeats)]
                parts = [statistics.median(r[i] for r in runs) * 1000 for i in range(3)]
                results[setup] = parts
                print(f"  {kind:<10} n={n:<3} {setup:<9}: {sum(parts):8.1f} ms (extraction {parts[0]:7.1f}, "
                      f"prompt build {parts[1]:7.1f}, post-processing {parts[2]:7.1f}; {runs[0][3]} prompt tokens)")
            stock, plain, ours = results["stock"], results["no-pcache"], results["videossr"]
            table.append((kind, n, sum(stock), sum(plain), sum(ours), sum(stock) / sum(ours),
                          (stock[1] + stock[2]) / (ours[1] + ours[2]), sum(plain) / sum(ours)))
    print("\n| family | n | stock ms/prompt | videossr, no processor cache | videossr | stock/videossr "
          "| processor calls alone | processor cache's share |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, n, stock, plain, ours, ratio, processor_ratio, cache_ratio in table:
        print(f"| {kind} | {n} | {stock:.0f} | {plain:.0f} | {ours:.0f} | {ratio:.1f}x lower "
              f"| {processor_ratio:.1f}x lower | {cache_ratio:.1f}x lower |")
    print(f"(processor cache after the last prompt: {PROCESSOR_CACHE.stats()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
