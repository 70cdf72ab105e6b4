"""``make e2e``: verl's real trainer, end to end, on a CPU, for both tiny Qwen-VL families.

    .venv-vllm/bin/python tests/e2e/cpu_train_e2e.py --data outputs/demo/data --models outputs/demo/models \\
        --out outputs/e2e [--families qwen3_vl qwen2_5_vl] [--json FILE]

Per family, with ``launch/train.sh`` (``DEVICE=cpu``, config ``videossr_cpu``: 3 GRPO steps, the
recipe's agent loop, reward and dataset, the KL loss with the reference model, validation on the
VIUBench slice, a checkpoint per step; the rollout trace and verl's rollout dumps on):

1. the run is killed with SIGKILL once step 2's checkpoint is complete -- the first family's as a
   crash (the trainer's process group), the second's as a dead worker (verl's FSDP actor process):
   the launcher must exit non-zero, leave no process and no shared memory behind;
2. the same command resumes it: step 3 and the final validation, exit 0;
3. the steps trained the batches verl's seeded sampler deals, the killed attempt and the resumed one
   together (same data order as an uninterrupted run);
4. ``python -m recipes.videossr.run_checks``: vLLM generated from exactly the prompt ids the actor
   scored, verl's rollout-vs-actor probability metrics are within bounds, every trained score is the
   reward function's value for the logged response;
5. ``python -m recipes.videossr.metrics`` reads the run (steps 1-3 in its CSV);
6. ``launch/export_hf.sh`` exports step 3; ``python -m recipes.videossr.eval viubench`` evaluates the
   export with the HF backend, and the first family's also with vLLM's CPU build (one engine start
   each: CI time).

Once (the first family): a one-step run with a scripted reward (``tests/e2e/scripted_reward.py``)
must move the policy the GRPO way (``checks.grpo_direction``), and a run whose reward raises must
stop with a non-zero exit within STALL_TIMEOUT, leaving nothing behind.

Every check prints one line; the run exits 1 on the first failed one. ``--json`` writes the figures
(times, peak memory, the GRPO deltas) for ``bench/bench_cpu_train.py`` and the README.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks  # noqa: E402  (tests/e2e/checks.py)
from train_run import TrainRun, session_processes  # noqa: E402

from recipes.videossr import shm  # noqa: E402

FAMILIES = ("qwen3_vl", "qwen2_5_vl")
STEPS = 3
KILL_AFTER_STEP = 2
RUN_TIMEOUT = 1200       # one launcher run, start-up included (a step is ~25 s on 2 cores)
STALL_TIMEOUT = 300      # the launcher stops a run whose log is silent this long
EXIT_AFTER_KILL = 120    # seconds the launcher may take to notice the killed trainer and clean up
MIN_PEARSON = 0.999      # float32 on both sides (videossr_cpu.yaml): measured >= 0.99999
MAX_PROBS_DIFF = 1e-3    # measured <= 5e-5
GRPO_LR = 1e-4           # the direction check's one update (the paper's 1e-6 moves a tiny model too little to read)
EVAL_LIMIT = 9
WORKER_TO_KILL = "WorkerDict"  # verl's FSDP actor/ref worker process (ray::WorkerDict...)


class Failed(Exception):
    pass


def say(message: str) -> None:
    print(f"[e2e] {message}", flush=True)


def check(ok: bool, message: str, problems: list[str] | None = None) -> None:
    say(f"{'ok    ' if ok else 'FAILED'} {message}")
    if not ok:
        for p in (problems or [])[:10]:
            say(f"         {p}")
        raise Failed(message)


def run_python(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def trace_overrides(run_dir: Path) -> list[str]:
    return [f"+data.videossr.rollout_trace_dir={run_dir / 'trace'}", f"trainer.rollout_data_dir={run_dir / 'rollouts'}"]


def latest_step(run_dir: Path) -> int:
    tracker = run_dir / "checkpoints" / "latest_checkpointed_iteration.txt"
    try:
        return int(tracker.read_text().strip())
    except (FileNotFoundError, ValueError):
        return 0


def resolved_config(run_dir: Path):
    from recipes.videossr.run_checks import latest_config

    return latest_config(run_dir)


def family_run(family: str, model: Path, data: Path, out: Path, figures: dict, kill: str = "trainer",
               eval_backends: tuple[str, ...] = ("hf", "vllm")) -> None:
    run_dir = out / family
    shm_before = shm.entries()
    overrides = trace_overrides(run_dir) + [f"trainer.total_training_steps={STEPS}"]
    env = {"STALL_TIMEOUT": str(STALL_TIMEOUT)}

    # 1. kill after step 2's checkpoint
    say(f"{family}: training, to be killed after step {KILL_AFTER_STEP}'s checkpoint ({run_dir})")
    first = TrainRun(run_dir, model, data, overrides, env).start()
    deadline = time.monotonic() + RUN_TIMEOUT
    while latest_step(run_dir) < KILL_AFTER_STEP:
        if first.proc.poll() is not None:
            check(False, f"{family}: the run ended (exit {first.proc.returncode}) before step {KILL_AFTER_STEP}'s "
                         f"checkpoint; see {run_dir}/logs")
        if time.monotonic() > deadline:
            first.stop()
            check(False, f"{family}: no step-{KILL_AFTER_STEP} checkpoint within {RUN_TIMEOUT} s")
        time.sleep(2)
    if kill == "trainer":
        session, what = first.kill_trainer(), "the trainer's process group (a crash)"
    else:
        session, what = first.kill_worker(kill), f"the {kill} Ray worker (a dead worker)"
    killed_at = time.monotonic()
    try:
        rc = first.wait(EXIT_AFTER_KILL)
    except subprocess.TimeoutExpired:
        first.stop()
        check(False, f"{family}: the launcher did not exit within {EXIT_AFTER_KILL} s of the SIGKILL of {what}")
    check(rc != 0, f"{family}: SIGKILL of {what} after step {KILL_AFTER_STEP}: launcher exit {rc} after "
                   f"{time.monotonic() - killed_at:.0f} s")
    left = session_processes(session)
    check(not left, f"{family}: no process of the killed run is left (Ray and vLLM workers included)", left)
    left = checks.shm_left(shm_before)
    check(not left, f"{family}: the killed run left no shared memory in /dev/shm", left)

    # 2. resume
    say(f"{family}: resuming")
    second = TrainRun(run_dir, model, data, overrides, env).start()
    rc = second.wait(RUN_TIMEOUT)
    check(rc == 0 and latest_step(run_dir) == STEPS, f"{family}: the resumed run trained step {STEPS} and exited "
                                                     f"{rc} ({second.elapsed:.0f} s)")
    left = checks.shm_left(shm_before) + (session_processes(second.session) if second.session else [])
    check(not left, f"{family}: the finished run left no process and no shared memory behind", left)
    figures[family] = {"killed_run_s": round(first.elapsed, 1), "resumed_run_s": round(second.elapsed, 1),
                       "peak_pss_gb": round(max(first.peak_pss, second.peak_pss) / 2**30, 2),
                       "peak_rss_gb": round(max(first.peak_rss, second.peak_rss) / 2**30, 2),
                       "peak_processes": max(first.peak_processes, second.peak_processes)}

    # 3. data order across the kill
    config = resolved_config(run_dir)
    import pyarrow.parquet as pq

    rows = [info["index"] for info in pq.read_table(config.data.train_files, columns=["extra_info"])
            .column("extra_info").to_pylist()]
    expected = checks.expected_batches(config.data, rows, STEPS)
    problems = checks.data_order(checks.last_attempt_records(run_dir / "trace"), expected,
                                 int(config.actor_rollout_ref.rollout.n))
    check(not problems, f"{family}: steps 1-{STEPS} trained the batches of verl's seeded sampler across the "
                        f"kill and resume {expected}", problems)

    # 4. tokens, probabilities, rewards
    result = run_python("-m", "recipes.videossr.run_checks", str(run_dir), "--require-all",
                        "--min-pearson", str(MIN_PEARSON), "--max-probs-diff", str(MAX_PROBS_DIFF))
    for line in result.stdout.strip().splitlines():
        say(f"         {line}")
    check(result.returncode == 0, f"{family}: run_checks (tokens, probabilities, rewards)", [result.stderr[-2000:]])

    # 5. metrics
    result = run_python("-m", "recipes.videossr.metrics", str(run_dir))
    table = run_dir / "metrics" / "metrics.csv"
    steps = ([int(float(line.split(",")[0])) for line in table.read_text().splitlines()[1:]]
             if table.is_file() else [])
    check(result.returncode == 0 and set(range(1, STEPS + 1)) <= set(steps),
          f"{family}: python -m recipes.videossr.metrics read steps {sorted(set(steps))}", [result.stderr[-2000:]])

    # 6. export + eval
    export = run_dir / "hf" / f"global_step_{STEPS}"
    result = subprocess.run(["bash", str(ROOT / "launch" / "export_hf.sh")], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "RUN_DIR": str(run_dir), "PYTHON": sys.executable},
                            timeout=900)
    check(result.returncode == 0 and (export / "config.json").is_file(),
          f"{family}: launch/export_hf.sh exported step {STEPS} to {export}", [result.stderr[-2000:]])
    for backend in eval_backends:
        out_dir = run_dir / f"eval-{backend}"
        args = ["-m", "recipes.videossr.eval", "viubench", "--model", str(export), "--data", str(data),
                "--out", str(out_dir), "--backend", backend, "--limit", str(EVAL_LIMIT), "--max-new-tokens", "16"]
        if backend == "hf":
            args += ["--device", "cpu"]
        started = time.monotonic()
        result = run_python(*args, timeout=1200)
        check(result.returncode == 0 and (out_dir / "results.md").is_file(),
              f"{family}: eval viubench of the export, {backend} backend ({time.monotonic() - started:.0f} s)",
              [result.stderr[-3000:]])
        figures[family][f"eval_{backend}_s"] = round(time.monotonic() - started, 1)


def grpo_run(family: str, model: Path, data: Path, out: Path, figures: dict) -> None:
    """One GRPO update with a reward the tiny model can earn: the policy moves the advantages' way."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoTokenizer

    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    import scripted_reward

    run_dir = out / f"grpo-{family}"
    overrides = trace_overrides(run_dir) + [
        "trainer.total_training_steps=1", "trainer.test_freq=-1",
        f"reward.custom_reward_function.path={ROOT / 'tests' / 'e2e' / 'scripted_reward.py'}",
        "reward.custom_reward_function.name=compute_score", f"actor_rollout_ref.actor.optim.lr={GRPO_LR}",
        # 8 answers per prompt: a group whose rewards all agree (advantage 0) becomes unlikely (2 / 2**8)
        "actor_rollout_ref.rollout.n=8"]
    say(f"{family}: one GRPO update with the scripted reward (lr {GRPO_LR:g}) ({run_dir})")
    run = TrainRun(run_dir, model, data, overrides, {"STALL_TIMEOUT": str(STALL_TIMEOUT)}).start()
    rc = run.wait(RUN_TIMEOUT)
    check(rc == 0 and latest_step(run_dir) == 1, f"{family}: the scripted-reward run trained step 1 (exit {rc})")
    result = subprocess.run(["bash", str(ROOT / "launch" / "export_hf.sh")], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "RUN_DIR": str(run_dir), "PYTHON": sys.executable},
                            timeout=900)
    check(result.returncode == 0, f"{family}: exported the updated policy", [result.stderr[-2000:]])

    records = checks.last_attempt_records(run_dir / "trace").get(1, [])
    tokenizer = AutoTokenizer.from_pretrained(str(model))
    signed = checks.advantage_signs(records, lambda r: scripted_reward.compute_score(
        r["data_source"], tokenizer.decode(r["response_ids"], skip_special_tokens=True), r["ground_truth"]))
    scored = [(r, s) for r, s in signed if s != 0]

    from recipes.videossr.agreement.trainer_side import TrainerHarness

    config = resolved_config(run_dir)
    harness = TrainerHarness(model, config.data.train_files)
    import pyarrow.parquet as pq

    position = {info["index"]: i for i, info in enumerate(
        pq.read_table(config.data.train_files, columns=["extra_info"]).column("extra_info").to_pylist())}
    samples = [harness.actor_sample(position[r["index"]], r["response_ids"]) for r, _ in scored]
    logps = {}
    for name, path in (("before", model), ("after", run_dir / "hf" / "global_step_1")):
        policy = AutoModelForImageTextToText.from_pretrained(str(path), torch_dtype=torch.float32,
                                                             attn_implementation="sdpa").eval()
        logps[name] = [checks.response_logprob(policy, s) for s in samples]
    deltas = [(sign, after - before) for (_, sign), before, after in zip(scored, logps["before"], logps["after"])]
    problems, numbers = checks.grpo_direction(deltas)
    check(not problems, f"{family}: after one update, log p of positive-advantage responses rose relative to "
                        f"negative ones ({numbers})", problems)
    figures["grpo_direction"] = {"family": family, **numbers}


def failing_run(family: str, model: Path, data: Path, out: Path, figures: dict) -> None:
    """A reward that raises: the launcher must exit non-zero within a bounded time, leaving nothing."""
    run_dir = out / f"broken-{family}"
    shm_before = shm.entries()
    overrides = [f"reward.custom_reward_function.path={ROOT / 'tests' / 'e2e' / 'scripted_reward.py'}",
                 "reward.custom_reward_function.name=broken_score", "trainer.total_training_steps=1"]
    say(f"{family}: a run whose reward raises ({run_dir})")
    run = TrainRun(run_dir, model, data, overrides, {"STALL_TIMEOUT": str(STALL_TIMEOUT)}).start()
    try:
        rc = run.wait(RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        run.stop()
        check(False, f"{family}: the run with a broken reward did not stop within {RUN_TIMEOUT} s")
    check(rc != 0, f"{family}: the run with a broken reward stopped with exit {rc} after {run.elapsed:.0f} s")
    left = checks.shm_left(shm_before) + (session_processes(run.session) if run.session else [])
    check(not left, f"{family}: the failed run left no process and no shared memory behind", left)
    figures["broken_reward"] = {"exit": rc, "seconds": round(run.elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the CPU end-to-end training run (make e2e)", allow_abbrev=False)
    parser.add_argument("--data", type=Path, required=True, help="the demo's data folder (make demo)")
    parser.add_argument("--models", type=Path, required=True, help="folder of tiny-<family> model folders")
    parser.add_argument("--out", type=Path, required=True, help="run folders (emptied first)")
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--skip", nargs="*", default=[], choices=("grpo", "broken"), help="checks to leave out")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    import shutil

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    data, out = args.data.resolve(), args.out.resolve()
    figures: dict = {}
    started = time.monotonic()
    try:
        for i, family in enumerate(args.families):
            # The first family's run dies as a crash would (the trainer's process group), the next one's by
            # a dead worker (the FSDP actor's Ray process); the vLLM backend evaluates the first export
            # (each backend is one engine start: CI time).
            family_run(family, (args.models / f"tiny-{family}").resolve(), data, out, figures,
                       kill="trainer" if i % 2 == 0 else WORKER_TO_KILL,
                       eval_backends=("hf", "vllm") if i == 0 else ("hf",))
        first = args.families[0]
        model = (args.models / f"tiny-{first}").resolve()
        if "grpo" not in args.skip:
            grpo_run(first, model, data, out, figures)
        if "broken" not in args.skip:
            failing_run(first, model, data, out, figures)
    except Failed as failure:
        say(f"FAILED: {failure}")
        return 1
    finally:
        figures["total_s"] = round(time.monotonic() - started, 1)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    say(f"PASSED in {figures['total_s']:.0f} s: {json.dumps(figures, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
