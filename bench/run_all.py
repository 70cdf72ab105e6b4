"""``make bench``: run every CPU benchmark, print each figure next to its goal, write one JSON summary.

Each benchmark runs as its own child process (``bench/<script> --json FILE``) so none inherits
another's imports, caches or threads. The summary records the machine the figures came from
(cores, CPU model, memory, load average before and after, package versions, commit): a figure
without its machine means nothing. The README's benchmark table is rendered from the committed
summary, ``bench/results/summary.json`` (a test checks they agree), so README figures are
regenerated, never typed:

    python bench/run_all.py                           # -> outputs/bench/summary.json + table
    python bench/run_all.py --out bench/results/summary.json --write-readme README.md
    python bench/run_all.py --render bench/results/summary.json --write-readme README.md  # no re-run

``--only NAME`` runs a subset (``rewards``, ``demo``, ...; with ``--merge`` into an existing summary);
``--with-tests`` adds the wall time of ``make test``'s command (minutes, so not part of the default run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- bench-table:begin (bench/run_all.py --write-readme) -->", "<!-- bench-table:end -->"


@dataclass(frozen=True)
class Bench:
    name: str
    argv: tuple[str, ...]  # after the interpreter; "--json FILE" is appended
    python: str = ""  # another interpreter (e.g. .venv-vllm's), "" = this one
    optional: bool = False  # skipped with a note when its interpreter is missing


@dataclass(frozen=True)
class Figure:
    """One README figure: where it comes from in a bench's JSON, and its goal (if the issue set one)."""

    bench: str
    key: str
    label: str
    unit: str
    goal: Optional[tuple[str, float]] = None  # ("<=", 1.3) / (">=", 25)
    scale: float = 1.0  # the JSON value times this is the figure (bytes -> MB: 1e-6)

    def met(self, value: float) -> Optional[bool]:
        if self.goal is None:
            return None
        op, bound = self.goal
        return value <= bound if op == "<=" else value >= bound


BENCHES = (
    Bench("frames", ("bench/bench_frames.py",)),
    Bench("build", ("bench/bench_build.py",)),
    Bench("rollout", ("bench/bench_rollout_video.py",)),
    Bench("rewards", ("bench/bench_rewards.py",)),
    Bench("fidelity", ("bench/bench_fidelity.py",)),
    Bench("demo", ("bench/bench_demo.py",)),
    Bench("adaptive", ("bench/bench_adaptive.py", "--plot", "bench/results/bench_adaptive.png")),
    Bench("vllm_cache", ("bench/bench_mm_processor_cache.py",), python=".venv-vllm/bin/python", optional=True),
)
# The README check compares against the summary this very run is writing: not part of the timing.
TESTS = Bench("tests", ("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", "--deselect",
                        "tests/bench/test_run_all_on_cpu.py::test_readme_table_is_the_committed_summary"))

FIGURES = (
    Figure("frames", "stage_vs_bound", "frame stage, 1 worker, / decode-only bound (full decode)", "x", ("<=", 1.3)),
    Figure("frames", "stage_vs_skip_bound", "same, / bound that also skips unneeded non-reference frames", "x"),
    Figure("frames", "speedup_workers", "frame stage, `--workers 2` vs 1", "x", (">=", 1.5)),
    Figure("frames", "speedup_ray", "frame stage, Ray with 2 local CPUs vs 1 (start-up excluded)", "x", (">=", 1.5)),
    Figure("frames", "bytes_per_video_all_folder", "frames folder per video, every tier (`--all-tiers`, before)", "MB",
           scale=1e-6),
    Figure("frames", "bytes_per_video_split_folder", "frames folder per video, each video its split's tier (default)",
           "MB", scale=1e-6),
    Figure("build", "speedup_viubench", "build (VIUBench), `--workers 2` vs 1", "x", (">=", 1.5)),
    Figure("build", "speedup_ray", "build, Ray with 2 local CPUs vs 1", "x", (">=", 1.5)),
    Figure("rollout", "qwen3_vl_n8_speedup", "rollout-side video cost per prompt, n=8, processor included, stock verl / recipe, Qwen3-VL", "x", (">=", 25.0)),
    Figure("rollout", "qwen3_vl_n8_stock_ms", "same, stock verl per prompt, Qwen3-VL", "ms"),
    Figure("rollout", "qwen3_vl_n8_videossr_ms", "same, recipe per prompt, Qwen3-VL", "ms"),
    Figure("rollout", "qwen3_vl_n16_speedup", "same at n=16, Qwen3-VL", "x"),
    Figure("rollout", "qwen2_5_vl_n8_speedup", "rollout-side video cost per prompt, n=8, processor included, stock verl / recipe, Qwen2.5-VL", "x", (">=", 25.0)),
    Figure("rollout", "qwen2_5_vl_n8_stock_ms", "same, stock verl per prompt, Qwen2.5-VL", "ms"),
    Figure("rollout", "qwen2_5_vl_n8_videossr_ms", "same, recipe per prompt, Qwen2.5-VL", "ms"),
    Figure("rollout", "qwen2_5_vl_n16_speedup", "same at n=16, Qwen2.5-VL", "x"),
    Figure("rewards", "typical_us_released", "reward per typical answer, released parse mode", "us"),
    Figure("rewards", "typical_us_strict", "reward per typical answer, strict", "us"),
    Figure("rewards", "typical_us_lenient", "reward per typical answer, lenient", "us"),
    Figure("rewards", "worst_1mb_ms_released", "worst 1 MB adversarial response, released", "ms"),
    Figure("rewards", "worst_1mb_ms_lenient", "worst 1 MB adversarial response, lenient", "ms"),
    Figure("fidelity", "real_baseline", "stored vs released frames at the model's input, unperturbed (bikes.mp4)", "/255"),
    Figure("fidelity", "real_diff_min", "same, perturbed frames: smallest over perturbations", "/255"),
    Figure("fidelity", "real_diff_max", "same, perturbed frames: largest (noise aside)", "/255"),
    Figure("fidelity", "real_noise_std_released", "noise strength the model sees, released pipeline (std)", "/255"),
    Figure("fidelity", "real_noise_std_ours", "noise strength the model sees, this repository (std)", "/255"),
    Figure("vllm_cache", "qwen2_5_vl_1clip_n8_s_0gb", "vLLM processor per 1-clip prompt, n=8, Qwen2.5-VL, no cache", "s"),
    Figure("vllm_cache", "qwen2_5_vl_1clip_n8_s_4gb", "same, `mm_processor_cache_gb: 4` (the recipe's)", "s"),
    Figure("vllm_cache", "qwen3_vl_1clip_n8_s_0gb", "vLLM processor per 1-clip prompt, n=8, Qwen3-VL, no cache", "s"),
    Figure("vllm_cache", "qwen3_vl_1clip_n8_s_4gb", "same, `mm_processor_cache_gb: 4` (the recipe's)", "s"),
    Figure("vllm_cache", "qwen3_vl_8clips_n8_speedup", "same cache, 8-clip jigsaw prompt, Qwen3-VL", "x"),
    Figure("demo", "fresh_s", "`make demo` into an empty folder", "s"),
    Figure("demo", "bytes_per_video", "`make demo`: frames + task outputs per video (reference layout: 13.2 MB)", "MB",
           ("<=", 2.6), scale=1e-6),
    Figure("demo", "again_s", "second `make demo`, everything built", "s", ("<=", 5.0)),
    Figure("adaptive", "adaptive_zero_var_max_pct_where_fixed_over_50",
           "simulated GRPO (300 steps): adaptive levels, worst zero-variance group share where the fixed mix is over 50%",
           "%", ("<=", 20.0)),
    Figure("adaptive", "steps_fixed_over_50", "same simulation: steps where the paper's fixed mix is over 50%", "steps"),
    Figure("adaptive", "fixed_zero_var_mean_pct", "same: zero-variance group share, fixed mix (mean over steps)", "%"),
    Figure("adaptive", "adaptive_zero_var_mean_pct", "same: zero-variance group share, adaptive levels", "%"),
    Figure("adaptive", "dynamic_zero_var_mean_pct", "same: zero-variance share of generated groups, DAPO dynamic sampling",
           "%"),
    Figure("adaptive", "fixed_informative_per_step", "same: informative samples trained per step, fixed mix", "samples"),
    Figure("adaptive", "adaptive_informative_per_step", "same: informative samples per step, adaptive levels", "samples"),
    Figure("adaptive", "dynamic_informative_per_step", "same: informative samples per step, dynamic sampling", "samples"),
    Figure("adaptive", "dynamic_generation_x", "same: rollouts generated per step, dynamic sampling / fixed mix", "x"),
    Figure("adaptive", "adaptive_first_step_ladder_exhausted",
           "same: first step a family's hardest level is too easy (its ladder has run out)", "step"),
    Figure("tests", "seconds", "`make test` (CPU suite, venv ready)", "s", ("<=", 900.0)),
)


def machine() -> dict[str, Any]:
    """What the figures were measured on (no host name, no paths)."""
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    try:
        mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal"))) / 2**20
    except (OSError, StopIteration):
        mem = 0.0
    versions = {}
    for package in ("torch", "transformers", "av", "pillow", "verl", "vllm"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        commit += "-dirty" if dirty else ""  # measured on uncommitted changes
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem, 1),
        "system": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "packages": versions,
        "commit": commit,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def run_bench(bench: Bench, work: Path) -> dict[str, Any]:
    python = str(ROOT / bench.python) if bench.python else sys.executable
    if bench.python and not Path(python).exists():
        return {"status": "not run", "note": f"needs {bench.python}", "figures": {}}
    out = work / f"{bench.name}.json"
    argv = [python, *bench.argv] + ([] if bench is TESTS else ["--json", str(out)])
    print(f"== {bench.name}: {' '.join([Path(python).name, *argv[1:]])}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, stderr=subprocess.STDOUT)  # progress shows as it runs
    seconds = round(time.perf_counter() - start, 1)
    if proc.returncode:
        return {"status": f"failed (exit {proc.returncode})", "seconds": seconds, "figures": {}}
    figures = {"seconds": seconds} if bench is TESTS else json.loads(out.read_text())
    figures = figures.get("figures", figures)  # a bench with a richer JSON keeps its flat figures there
    return {"status": "ok", "seconds": seconds, "figures": figures}


def collect(benches: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for fig in FIGURES:
        got = benches.get(fig.bench, {}).get("figures", {})
        if fig.key not in got:
            continue
        value = round(got[fig.key] * fig.scale, 3 if abs(got[fig.key] * fig.scale) < 100 else 1)
        rows.append({"bench": fig.bench, "key": fig.key, "label": fig.label, "value": value, "unit": fig.unit,
                     "goal": f"{fig.goal[0]} {fig.goal[1]:g} {fig.unit}" if fig.goal else "", "met": fig.met(value)})
    return rows


def render_table(summary: dict[str, Any]) -> str:
    """The README block: one line per figure, then the machine it was measured on."""
    m = summary["machine"]
    lines = [BEGIN, "", "| figure | measured | goal | |", "|---|---|---|---|"]
    for row in summary["figures"]:
        mark = {True: "met", False: "**not met**", None: ""}[row["met"]]
        lines.append(f"| {row['label']} | {row['value']:g} {row['unit']} | {row['goal']} | {mark} |")
    packages = ", ".join(f"{k} {v}" for k, v in sorted(m["packages"].items()))
    load = summary["load_average"]
    bench_s = sum(b.get("seconds", 0) for name, b in summary["benches"].items() if name != TESTS.name)
    lines += [
        "",
        f"Measured by `make bench` ({bench_s:.0f} s of benchmarks) on {m['date']}, commit `{m['commit']}`: "
        f"{m['usable_cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['system']}, load average "
        f"{load['before']:.2f} before / {load['after']:.2f} after; Python {m['python']}, {packages}.",
    ]
    skipped = [f"`{name}` ({b.get('note') or b['status']})" for name, b in summary["benches"].items() if b["status"] != "ok"]
    if skipped:
        lines.append(f"Not in this run: {', '.join(skipped)}.")
    return "\n".join(lines + ["", END])


def write_readme(readme: Path, summary: dict[str, Any]) -> None:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme} has no {BEGIN} ... {END} block")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(head + render_table(summary) + tail)


def print_table(summary: dict[str, Any]) -> None:
    print("\n== figures (goal where the issue set one)")
    for row in summary["figures"]:
        mark = {True: "met", False: "NOT MET", None: ""}[row["met"]]
        print(f"  {row['label']:<72} {row['value']:>10g} {row['unit']:<3} {row['goal']:>14} {mark}")
    for name, bench in summary["benches"].items():
        if bench["status"] != "ok":
            print(f"  {name}: {bench['status']} {bench.get('note', '')}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/summary.json"))
    parser.add_argument("--only", nargs="*", default=None, help="bench names to run (default: all)")
    parser.add_argument("--with-tests", action="store_true", help="also time the CPU test suite")
    parser.add_argument("--render", type=Path, default=None, help="do not run: render this summary")
    parser.add_argument("--write-readme", type=Path, default=None, help="rewrite this README's benchmark block")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other benches' results already in --out (re-run only --only's)")
    args = parser.parse_args(argv)

    if args.render:
        summary = json.loads(args.render.read_text())
    else:
        chosen = [b for b in BENCHES if args.only is None or b.name in args.only]
        chosen += [TESTS] if args.with_tests else []
        before, start = os.getloadavg()[0], time.perf_counter()
        benches = {}
        with tempfile.TemporaryDirectory() as work:
            for bench in chosen:
                benches[bench.name] = run_bench(bench, Path(work))
        seconds = round(time.perf_counter() - start, 1)
        if args.merge and args.out.is_file():
            old = json.loads(args.out.read_text())
            benches = {**old["benches"], **benches}
            seconds = round(seconds + old["seconds"] - sum(old["benches"].get(b.name, {}).get("seconds", 0)
                                                           for b in chosen), 1)
            before = old["load_average"]["before"]
        summary = {"machine": machine(), "seconds": seconds,
                   "load_average": {"before": before, "after": os.getloadavg()[0]}, "benches": benches}
        summary["figures"] = collect(benches)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        print(f"\nsummary: {args.out}")
    print_table(summary)
    if args.write_readme:
        write_readme(args.write_readme, summary)
        print(f"README block rewritten: {args.write_readme}")
    failed = [n for n, b in summary["benches"].items() if b["status"].startswith("failed")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
