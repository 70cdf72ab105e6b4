"""``python -m recipes.videossr.eval <command>``: evaluate models the way the paper measures them.

Commands (one module each, registered in ``COMMANDS``):

  viubench    a model on the VIUBench parquet -> per-sample JSONL, Table 1 (md/csv), bar chart
  bench       one of the paper's 16 downstream benchmarks (Tables 2-3), read from its own release
              files, in the paper's protocol, swept over 32/48/64 frames (``bench --list``)
  tables      Tables 2 and 3 (md/csv/png, both accountings) from finished ``bench`` folders
  downstream  a model on a local multiple-choice or temporal-grounding benchmark (JSON items)
  table       combine finished VIUBench run folders into one table + bar chart
  lmms-task   write the lmms-eval VIUBench task (YAML + utils.py) for a local parquet
  agree       the same rows + model through the in-tree HF backend, lmms-eval and vLLM: identical
              inputs and identical scores (one table harness x column)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from data_prep.jsonl import write_atomic
from data_prep.validate import fraction, positive_float, positive_int
from recipes.videossr.eval.backends.base import AUTO, check_gpu_memory_utilization, parse_max_model_len
from recipes.videossr.eval.downstream.runner import DownstreamConfig
from recipes.videossr.eval.runner import MISSING_OPTION
from rewards.scoring import DEFAULT_PARSE_MODE, PARSE_MODES

COMMANDS = {
    "viubench": "evaluate a model on VIUBench",
    "bench": "evaluate a model on one of the paper's 16 downstream benchmarks (bench --list)",
    "tables": "Tables 2-3 from finished bench folders",
    "downstream": "evaluate a model on a local MC / temporal-grounding benchmark",
    "table": "combine VIUBench run folders into one table and chart",
    "lmms-task": "write the lmms-eval VIUBench task for a local parquet",
    "agree": "check that the HF backend, lmms-eval and vLLM see identical inputs and score identically",
}


def _arg(check):
    """An argparse ``type`` from a checker that raises ValueError (argparse then prints its message)."""

    def convert(value: str):
        try:
            return check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = check.__name__
    return convert


POSITIVE = _arg(positive_int)


def _add_model_args(p: argparse.ArgumentParser, required: bool = True, missing_as_zero: bool = True) -> None:
    p.add_argument("--model", required=required, help="HF model folder or hub id")
    p.add_argument("--out", required=required, help="output folder (resumes if it holds the same run)")
    p.add_argument("--backend", default="hf", choices=["hf", "vllm"], help="hf (CPU/GPU) or vllm (GPU)")
    p.add_argument("--batch-size", type=POSITIVE, default=8, help="questions per generation batch (default 8)")
    p.add_argument("--max-new-tokens", type=POSITIVE, default=128, help="generation budget (paper: 128)")
    p.add_argument("--limit", type=POSITIVE, default=None, help="only the first N questions (smoke tests)")
    p.add_argument("--retry-errors", action="store_true", help="re-ask questions whose generation failed")
    if missing_as_zero:  # bench has --max-missing instead
        p.add_argument(MISSING_OPTION, action="store_true",
                       help="score questions whose input files are missing as 0 instead of stopping the run "
                            "(they are asked again once the files exist)")
    p.add_argument("--device", default=None, help="hf: cpu / cuda (default: cuda if available)")
    p.add_argument("--dtype", default="auto", help="hf: torch dtype, e.g. bfloat16 (default: auto)")
    p.add_argument("--tensor-parallel-size", type=POSITIVE, default=1, help="vllm only")
    p.add_argument("--gpu-memory-utilization", type=_arg(check_gpu_memory_utilization), default=0.8,
                   help="vllm only: its share of the GPU memory, 0 < x <= 1 (default 0.8)")
    p.add_argument("--max-model-len", type=_arg(parse_max_model_len), default=AUTO,
                   help="vllm only: context tokens (prompt + answer); auto (default) = viubench: the longest "
                        "prompt in DATA/<stem>.tokens.json (python -m recipes.videossr.token_counts) + "
                        "--max-new-tokens; downstream: a bound from the frame and pixel budgets")
    p.add_argument("--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recipes.videossr.eval", description=__doc__.splitlines()[0],
                                     allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("viubench", allow_abbrev=False, help=COMMANDS["viubench"])
    _add_model_args(v)
    v.add_argument("--data", required=True, help="VIUBench parquet file or folder (python -m data_prep build --recipe viubench)")
    v.add_argument("--label", default=None, help="row name in the table (default: model folder name)")
    v.add_argument("--max-pixels", type=POSITIVE, default=None, help="override per-frame pixels (rows carry 512*512)")
    v.add_argument("--media-root", default=None,
                   help="folder the rows' relative frame paths resolve against (default: the parquet's folder)")
    v.add_argument("--parse-mode", default=DEFAULT_PARSE_MODE, choices=list(PARSE_MODES),
                   help=f"answer parsing of rewards.score (default {DEFAULT_PARSE_MODE}: as the paper's reward)")

    d = sub.add_parser("downstream", allow_abbrev=False, help=COMMANDS["downstream"])
    _add_model_args(d)
    d.add_argument("--items", required=True, help='JSON/JSONL of {"video": id, "question": ..., "answer": ...}')
    d.add_argument("--videos", default=None, help="folder holding the videos (ids may omit the extension)")
    d.add_argument("--name", default=None, help="benchmark name (default: items file stem)")
    d.add_argument("--kind", default="auto", choices=["auto", "mc", "tg"])
    defaults = DownstreamConfig  # the option defaults are the config's (one source, README checked against it)
    d.add_argument("--fps", type=_arg(positive_float), default=defaults.fps,
                   help=f"frame sampling rate (default {defaults.fps:g}, the paper's)")
    d.add_argument("--max-frames", type=POSITIVE, nargs="+", default=list(defaults.max_frames),
                   help=f"frame budgets, one run each (default {' '.join(map(str, defaults.max_frames))}, the paper's)")
    d.add_argument("--max-pixels", type=POSITIVE, default=defaults.max_pixels,
                   help=f"pixels per frame (default {defaults.max_pixels}, 512*512 as the paper)")

    b = sub.add_parser("bench", allow_abbrev=False, help=COMMANDS["bench"])
    b.add_argument("benchmark", nargs="?", metavar="NAME", help="registry name (bench --list shows them)")
    b.add_argument("--list", action="store_true", help="list the benchmarks: release, split, rule, lmms-eval task")
    _add_model_args(b, required=False, missing_as_zero=False)
    from recipes.videossr.eval.bench.runner import BenchConfig

    b.add_argument("--root", default=None, help="the benchmark's release folder, as downloaded (bench --list: layout)")
    b.add_argument("--label", default=None, help="row name in Tables 2-3 (default: the model folder's name)")
    b.add_argument("--fps", type=_arg(positive_float), default=BenchConfig.fps,
                   help=f"frame sampling rate (default {BenchConfig.fps:g}, the paper's)")
    b.add_argument("--max-frames", type=POSITIVE, nargs="+", default=list(BenchConfig.max_frames),
                   help=f"frame budgets of the sweep, one run folder each (default "
                        f"{' '.join(map(str, BenchConfig.max_frames))}, the paper's)")
    b.add_argument("--max-pixels", type=POSITIVE, default=BenchConfig.max_pixels,
                   help=f"pixels per frame at most (default {BenchConfig.max_pixels}, 512*512 as the paper)")
    b.add_argument("--min-pixels", type=POSITIVE, default=BenchConfig.min_pixels,
                   help=f"pixels per frame at least (default {BenchConfig.min_pixels}, 128*128 as the paper)")
    b.add_argument("--max-missing", type=_arg(fraction), default=BenchConfig.max_missing,
                   help=f"fraction of items whose videos may be missing before the run refuses (default "
                        f"{BenchConfig.max_missing:g}; 1 = never refuse); missing videos are listed in OUT/missing.txt")
    b.set_defaults(max_new_tokens=None)

    tb = sub.add_parser("tables", allow_abbrev=False, help=COMMANDS["tables"])
    tb.add_argument("runs", nargs="+", metavar="BENCH_OUT", help="output folders of python -m recipes.videossr.eval bench")
    tb.add_argument("--viubench", nargs="+", default=None, metavar="VIU_RUN",
                    help="eval viubench output folders, matched to rows by label (the 17-benchmark average)")
    tb.add_argument("--out", required=True, help="folder for tables.md, tables.csv, tables.png")

    t = sub.add_parser("table", allow_abbrev=False, help=COMMANDS["table"])
    t.add_argument("runs", nargs="+", metavar="RUN_DIR", help="VIUBench output folders (each has summary.json)")
    t.add_argument("--labels", nargs="*", default=None, help="row names, one per run")
    t.add_argument("--out", required=True, help="folder for table.md, table.csv, table.png")
    t.add_argument("--separate", action="store_true",
                   help="runs on different questions (other data, a --limit subset): one table per set of "
                        "questions instead of refusing them")

    m = sub.add_parser("lmms-task", allow_abbrev=False, help=COMMANDS["lmms-task"])
    m.add_argument("--data", required=True, help="VIUBench parquet file or folder")
    m.add_argument("--out", required=True, help="folder to pass to lmms-eval as --include_path")
    m.add_argument("--media-root", default=None,
                   help="folder the rows' relative frame paths resolve against (default: the parquet's folder)")
    m.add_argument("--per-subtype", type=POSITIVE, default=None,
                   help="only the first K questions of every subtype (a stratified subset; lmms-eval's --limit "
                        "takes the first N rows, which are sorted by subtype)")

    a = sub.add_parser("agree", allow_abbrev=False, help=COMMANDS["agree"])
    a.add_argument("--data", required=True, help="VIUBench parquet file or folder")
    a.add_argument("--model", required=True, action="append", dest="models",
                   help="HF model folder (repeat for several; Qwen2.5-VL / Qwen3-VL)")
    a.add_argument("--out", required=True, help="folder for report.md, report.json and each harness's records")
    a.add_argument("--harnesses", default="hf,lmms,vllm",
                   help="comma list of hf, lmms, vllm (default all; one whose environment is missing is skipped)")
    a.add_argument("--hf-python", default=None, help="interpreter of the in-tree HF harness (default: this one)")
    a.add_argument("--lmms-python", default=None, help="interpreter with lmms-eval 0.7.3 (default .venv-lmms/bin/python)")
    a.add_argument("--vllm-python", default=None, help="interpreter with vLLM 0.24 (default .venv-vllm/bin/python)")
    a.add_argument("--per-subtype", type=POSITIVE, default=None, help="only the first K questions of every subtype")
    a.add_argument("--max-new-tokens", type=POSITIVE, default=128,
                   help="generation budget of every harness (default 128)")
    a.add_argument("--dtype", default="bfloat16",
                   help="in-tree HF model dtype (default bfloat16: lmms-eval's Qwen-VL classes always load bfloat16)")
    a.add_argument("--media-root", default=None,
                   help="folder the rows' relative frame paths resolve against (default: the parquet's folder)")
    return parser


def config_from_args(config_class, args: argparse.Namespace, **converted: Any):
    """``config_class`` from the parsed flags: each field takes the flag of the same name (argparse's
    dest: ``--batch-size`` -> ``batch_size``); fields without a flag keep their default; ``converted``
    overrides values that need another type. A new option is its field plus its ``add_argument``.
    """
    names = {field.name for field in dataclasses.fields(config_class)}
    return config_class(**{**{k: v for k, v in vars(args).items() if k in names}, **converted})


def _run_viubench(args: argparse.Namespace) -> int:
    from recipes.videossr.eval.viubench import ViubenchConfig, run_viubench

    config = config_from_args(ViubenchConfig, args)
    summary = run_viubench(config, progress=not args.quiet)
    print((Path(args.out) / "results.md").read_text())
    return 0 if summary else 1


def _run_downstream(args: argparse.Namespace) -> int:
    from recipes.videossr.eval.downstream.runner import DownstreamConfig, run_downstream

    config = config_from_args(DownstreamConfig, args, max_frames=tuple(args.max_frames))
    run_downstream(config, progress=not args.quiet)
    print((Path(args.out) / "summary.md").read_text())
    return 0


def _run_bench(args: argparse.Namespace) -> int:
    from recipes.videossr.eval.bench.registry import all_benchmarks
    from recipes.videossr.eval.bench.runner import BenchConfig, run_bench

    if args.list:
        for bench in all_benchmarks():
            print(f"{bench.name:15s} {bench.title} (Table {bench.table}, {bench.domain}, {bench.kind})\n"
                  f"{'':15s} release: {bench.release}; split: {bench.split}\n{'':15s} layout: {bench.layout}\n"
                  f"{'':15s} rule: {bench.rule}\n{'':15s} lmms-eval: {bench.lmms_task or 'none'}")
        return 0
    missing = [flag for flag, value in (("NAME", args.benchmark), ("--root", args.root), ("--model", args.model),
                                        ("--out", args.out)) if value is None]
    if missing:
        raise ValueError(f"bench needs {', '.join(missing)} (or --list)")
    config = config_from_args(BenchConfig, args, max_frames=tuple(args.max_frames))
    run_bench(config, progress=not args.quiet)
    print((Path(args.out) / "summary.md").read_text())
    return 0


def _run_tables(args: argparse.Namespace) -> int:
    from recipes.videossr.eval.bench.tables import write_tables

    print(write_tables(args.runs, args.out, args.viubench or []))
    return 0


def _run_table(args: argparse.Namespace) -> int:
    from recipes.videossr.eval.plot import write_bar_chart
    from recipes.videossr.eval.viubench import compare_runs

    comparison = compare_runs(args.runs, args.labels, separate=args.separate)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "table.md", comparison.markdown.encode())
    write_atomic(out / "table.csv", comparison.csv.encode())
    write_bar_chart(comparison.chart_rows, out / "table.png", title="VIUBench", headers=comparison.headers)
    print(comparison.markdown)
    return 0


def _run_lmms_task(args: argparse.Namespace) -> int:
    from recipes.videossr.eval.lmms_task import write_lmms_task

    from recipes.videossr.eval.lmms_task import read_task_settings

    path = write_lmms_task(args.data, args.out, media_root=args.media_root, per_subtype=args.per_subtype)
    settings = read_task_settings(path.parent)
    print(f"wrote {path} ({settings['questions']} questions); run, e.g.:\n"
          f"  python -m lmms_eval --model qwen2_5_vl --model_args pretrained=MODEL,{settings['model_args']} "
          f"--tasks viubench --include_path {path.parent} --batch_size 1 --log_samples --output_path OUT")
    return 0


def _run_agree(args: argparse.Namespace) -> int:
    from recipes.videossr.eval.agree import HARNESSES, AgreeConfig, run_agree

    harnesses = tuple(h.strip() for h in args.harnesses.split(",") if h.strip())
    unknown = sorted(set(harnesses) - set(HARNESSES))
    if unknown or not harnesses:
        raise ValueError(f"--harnesses: unknown {', '.join(unknown) or '(none given)'} (choose from {', '.join(HARNESSES)})")
    config = AgreeConfig(data=args.data, models=tuple(args.models), out=args.out, harnesses=harnesses,
                         hf_python=args.hf_python, lmms_python=args.lmms_python, vllm_python=args.vllm_python,
                         per_subtype=args.per_subtype, max_new_tokens=args.max_new_tokens, dtype=args.dtype,
                         media_root=args.media_root)
    try:
        report = run_agree(config)
    except RuntimeError as exc:  # a harness failed: its log tail, no traceback of this process
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print((Path(args.out) / "report.md").read_text())
    return 0 if report.ok else 1


RUNNERS = {
    "viubench": _run_viubench,
    "bench": _run_bench,
    "tables": _run_tables,
    "downstream": _run_downstream,
    "table": _run_table,
    "lmms-task": _run_lmms_task,
    "agree": _run_agree,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return RUNNERS[args.command](args)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # user errors (a ModelLoadError, MissingInputs too): one line
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: answers so far are kept; run the same command again to resume", file=sys.stderr)
        return 130
