"""The training loop's first measured figures: verl's real trainer on a CPU (``make bench-train``).

    .venv-vllm/bin/python bench/bench_cpu_train.py [--families qwen3_vl qwen2_5_vl] [--steps 3] \\
        [--out outputs/bench-train] [--json bench/results/cpu_train.json]

For each tiny family and with the recipe's processor cache on (``data.videossr.processor_cache_mb``
as in ``videossr_cpu.yaml``) and off (0), one ``DEVICE=cpu bash launch/train.sh`` run of the demo
data (``make demo``): per step, verl's own timing metrics (``timing_s/gen`` -- generation, the
reward inside it (verl's V1 agent loop scores each answer as it arrives) --, ``old_log_prob``,
``ref``, ``update_actor``, ``update_weights``, ``step``), start-up (launcher start to verl's "ready
to fit"), and the peak memory of every process of the run (proportional set size, sampled once a
second; resident size for comparison). Step 1 is reported apart (first-call costs); the others are
averaged. These are CPU figures of tiny random models on the paper's inputs (48 frames per prompt):
they say where a step's time goes and what the loop costs to start, not what a GPU run takes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from train_run import TrainRun  # noqa: E402  (tests/e2e/train_run.py)

from recipes.videossr.metrics import read_run_metrics  # noqa: E402

PHASES = ("gen", "old_log_prob", "ref", "update_actor", "update_weights", "step")
READY = re.compile(r"INFO:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+:all initialize finished, ready to fit")


def startup_seconds(run_dir: Path, started_utc: dt.datetime) -> float | None:
    for log in sorted((run_dir / "logs").glob("train-*.log")):
        match = READY.search(log.read_text(errors="ignore"))
        if match:
            ready = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
            return round((ready - started_utc).total_seconds(), 1)
    return None


def measure(family: str, cache: bool, steps: int, data: Path, models: Path, out: Path) -> dict:
    run_dir = out / f"{family}-cache-{'on' if cache else 'off'}"
    shutil.rmtree(run_dir, ignore_errors=True)
    overrides = [f"trainer.total_training_steps={steps}", "trainer.save_freq=-1", "trainer.test_freq=-1"]
    if not cache:
        overrides.append("data.videossr.processor_cache_mb=0")
    started = dt.datetime.now(dt.timezone.utc)
    run = TrainRun(run_dir, (models / f"tiny-{family}").resolve(), data.resolve(), overrides,
                   {"STALL_TIMEOUT": "600"}).start()
    rc = run.wait(3600)
    if rc != 0:
        raise SystemExit(f"bench_cpu_train: the {family} run (cache {cache}) failed with exit {rc}; see {run_dir}/logs")
    rows = [r for r in read_run_metrics(run_dir) if "timing_s/step" in r]
    first, rest = rows[0], rows[1:] or rows[:1]
    mean = {p: round(sum(r.get(f"timing_s/{p}", 0.0) for r in rest) / len(rest), 2) for p in PHASES}
    return {"family": family, "processor_cache": cache, "steps": len(rows), "run_s": round(run.elapsed, 1),
            "startup_s": startup_seconds(run_dir, started),
            "step1": {p: round(first.get(f"timing_s/{p}", 0.0), 2) for p in PHASES}, "mean_after_step1": mean,
            "peak_pss_gb": round(run.peak_pss / 2**30, 2), "peak_rss_gb": round(run.peak_rss / 2**30, 2),
            "peak_processes": run.peak_processes}


def markdown(results: list[dict]) -> str:
    head = ("| family | processor cache | start-up s | step 1 s | step s (later) | gen + reward | old log-prob | "
            "ref | update | weight sync | peak memory (PSS / RSS, GB) |\n|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in results:
        m = r["mean_after_step1"]
        lines.append(f"| {r['family']} | {'on' if r['processor_cache'] else 'off'} | {r['startup_s']} | "
                     f"{r['step1']['step']} | {m['step']} | {m['gen']} | {m['old_log_prob']} | {m['ref']} | "
                     f"{m['update_actor']} | {m['update_weights']} | {r['peak_pss_gb']} / {r['peak_rss_gb']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="verl's trainer on a CPU: time per phase, start-up, memory",
                                     allow_abbrev=False)
    parser.add_argument("--data", type=Path, default=ROOT / "outputs" / "demo" / "data")
    parser.add_argument("--models", type=Path, default=ROOT / "outputs" / "demo" / "models")
    parser.add_argument("--families", nargs="+", default=["qwen3_vl", "qwen2_5_vl"])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "bench-train")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be >= 2 (step 1 is reported apart)")
    results = []
    for family in args.families:
        for cache in (True, False):
            started = time.monotonic()
            results.append(measure(family, cache, args.steps, args.data, args.models, args.out))
            print(f"[bench-train] {family}, processor cache {'on' if cache else 'off'}: "
                  f"{time.monotonic() - started:.0f} s", flush=True)
    print(markdown(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": {"cores": os.cpu_count()}, "runs": results},
                                        indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
