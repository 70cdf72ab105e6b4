"""Evaluation: VIUBench (the paper's Table 1), downstream video benchmarks, an lmms-eval task.

Command line: ``python -m recipes.videossr.eval viubench|downstream|table|lmms-task --help``.

Python API::

    from recipes.videossr.eval.viubench import ViubenchConfig, run_viubench
    summary = run_viubench(ViubenchConfig(model="path/to/model", data="data/viubench", out="out/run"))

    from recipes.videossr.eval.downstream.runner import DownstreamConfig, run_downstream
    from recipes.videossr.eval.table import results_row, to_markdown, to_csv

Modules: ``columns`` (Table 1 layout), ``samples`` (per-sample JSONL + resume), ``runner`` (the
shared loop and failure accounting), ``scoring`` (VIUBench metric = ``rewards.score``),
``random_guess`` (reference rows), ``table`` / ``plot`` (outputs), ``backends`` (hf, vllm),
``conversation`` (parquet row -> chat), ``downstream`` (MC and grounding), ``lmms_task`` +
``lmms_eval_task/`` (lmms-eval integration), ``agree`` (the same inputs and scores in every harness).
"""
