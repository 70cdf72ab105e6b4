"""VIUBench: evaluate a model on the verl parquet that ``python -m data_prep build --recipe viubench`` writes.

Output folder (``--out``)::

    run.json        the settings; a resume must match them
    samples.jsonl   one record per question (id, data_source, subtype, prompt, output, parsed,
                    metric, status), appended as answers arrive, sorted by id at the end
    results.md      Table 1 layout (this run + the reference rows) and the failure accounting;
                    a data source Table 1 has no column for (a fork's task) gets its own, after them
    results.csv     the same table as CSV
    summary.json    table values, per-data_source counts, settings, the table's headers and which
                    questions were evaluated (``data``: file, fingerprint, n of the file's N)
    results.png     bar chart of the table rows

``run.json`` is written once the model loaded (``samples.SampleStore``); missing input files stop
the run before that unless ``--score-missing-as-zero``.

Example::

    python -m recipes.videossr.eval viubench --model Qwen/Qwen3-VL-8B-Instruct \\
        --data outputs/demo/data/viubench.parquet --out outputs/eval/qwen3vl8b --backend vllm

vLLM's ``max_model_len`` (``--max-model-len auto``, the default): the longest prompt of the
evaluated data_sources recorded in ``viubench.tokens.json`` for the model's family
(``python -m recipes.videossr.token_counts --data DATA --model MODEL`` records it) + the answer
budget, see ``backends.base.model_len_for``. No record, or a stale one: a clear error, never the
model's full context. An explicit ``--max-model-len N`` wins.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_prep.jsonl import dumps, write_atomic
from data_prep.media import media_root_of, missing_media_hint, resolve_videos
from recipes.videossr.eval import plot
from recipes.videossr.eval.backends import GenerationSettings, check_model, load_backend
from recipes.videossr.eval.backends.base import AUTO, model_len_for
from recipes.videossr.eval.columns import PAPER, Layout, evaluated_layout, table_headers
from recipes.videossr.eval.conversation import build_conversation, media_files, user_text
from recipes.videossr.eval.random_guess import (REFERENCE_LABELS, best_constant_row, random_guess_row,
                                                reference_label)
from recipes.videossr.eval.runner import EvalSample, run_samples
from recipes.videossr.eval.samples import SampleStore
from recipes.videossr.eval.scoring import viubench_scorer
from recipes.videossr.eval.table import (
    ResultsRow,
    accounting_markdown,
    merged_headers,
    results_row,
    to_csv,
    to_markdown,
    unknown_sources,
)
from rewards.naming import parse_data_source
from rewards.scoring import DEFAULT_PARSE_MODE


@dataclass(frozen=True)
class ViubenchConfig:
    model: str
    data: str  # a parquet file or a folder of them
    out: str
    backend: str = "hf"
    label: str | None = None  # row name in the tables; default: the model folder's name
    batch_size: int = 8
    max_new_tokens: int = 128
    max_pixels: int | None = None  # override every clip's max_pixels; None keeps the row's (512*512)
    limit: int | None = None  # first N questions only (smoke tests)
    retry_errors: bool = False
    parse_mode: str = DEFAULT_PARSE_MODE  # rewards.score parse mode: "released" = the paper's reward
    device: str | None = None
    dtype: str = "auto"
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.8  # vllm
    max_model_len: int | str = AUTO  # vllm: tokens, or "auto" = from the parquet's token record
    media_root: str | None = None  # where the rows' relative frame paths resolve; None: the parquet's folder
    score_missing_as_zero: bool = False  # questions whose frames are missing: 0 instead of stopping the run

    def __post_init__(self) -> None:
        check_counts(self)


def check_counts(config: Any) -> None:
    """The counts of an eval config: positive (the command line checks the same, before any work)."""
    for name in ("batch_size", "max_new_tokens", "limit", "tensor_parallel_size", "max_pixels"):
        value = getattr(config, name, None)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


DEFAULT_PARQUET = "viubench.parquet"  # the name ``python -m data_prep build --recipe viubench`` writes


def viubench_parquet(data: str | os.PathLike) -> Path:
    """The VIUBench parquet: ``data`` itself, or ``data/viubench.parquet`` for a data folder.

    >>> viubench_parquet("/nonexistent")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no VIUBench parquet at /nonexistent (build one: python -m data_prep build --recipe viubench)
    """
    path = Path(data)
    if path.is_dir():
        path = path / DEFAULT_PARQUET
    if not path.is_file():
        raise FileNotFoundError(f"no VIUBench parquet at {path} (build one: python -m data_prep build --recipe viubench)")
    return path


def load_rows(data: str | os.PathLike, media_root: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """The parquet's rows in order, each tagged with a stable ``_id`` ("viubench:00042") and the
    ``_media_root`` its relative frame paths resolve against (``data_prep.media``)."""
    import pyarrow.parquet as pq

    path = viubench_parquet(data)
    root = media_root_of(path, media_root)
    rows = pq.read_table(path).to_pylist()
    for k, row in enumerate(rows):
        missing = [key for key in ("data_source", "prompt", "videos", "reward_model") if not row.get(key)]
        if missing or "ground_truth" not in row["reward_model"]:
            raise ValueError(f"{path}: row {k} lacks {', '.join(missing) or 'reward_model.ground_truth'}")
        row["_id"] = f"{path.stem}:{k:05d}"
        row["_media_root"] = root
    return rows


def rows_fingerprint(rows: list[dict[str, Any]]) -> str:
    """Hash of what defines the questions (ids, sources, prompts, answers, frames)."""
    h = hashlib.sha256()
    for r in rows:
        key = [r["_id"], r["data_source"], r["prompt"], r["videos"], r["reward_model"]["ground_truth"]]
        h.update(dumps({"k": key}).encode())
    return h.hexdigest()[:16]


def to_sample(row: dict[str, Any], overrides: dict[str, Any]) -> EvalSample:
    if row.get("_media_root"):  # the stored (relative) paths keep defining the run's fingerprint
        row = {**row, "videos": resolve_videos(row["videos"], row["_media_root"])}
    try:
        source = parse_data_source(row["data_source"])
        messages = build_conversation(row, overrides)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"VIUBench row {row.get('_id')}: {exc}") from None
    return EvalSample(
        id=row["_id"],
        group=row["data_source"],
        messages=messages,
        media=media_files(row),
        answer=str(row["reward_model"]["ground_truth"]),
        prompt=user_text(row),
        fields={"data_source": row["data_source"], "task": source.task, "subtype": source.subtype},
        context={"extra_info": row.get("extra_info") or {}},
    )


def vllm_max_model_len(config: ViubenchConfig, rows: list[dict[str, Any]], progress: bool = False) -> int:
    """``config.max_model_len`` if a number; for ``auto`` the recorded longest prompt + the answer budget.

    Raises ``TokenRecordError`` (a ``ValueError``: one line on the command line) naming the
    command that records the counts and the ``--max-model-len`` flag.
    """
    if config.max_model_len != AUTO:
        return int(config.max_model_len)
    from transformers import AutoProcessor

    from recipes.videossr.token_counts import TokenRecordError, recorded_prompt_tokens, tokens_path

    parquet = viubench_parquet(config.data)
    hint = "or pass --max-model-len N"
    stored = [int(v["max_pixels"]) for r in rows for v in r["videos"] if v.get("max_pixels")]
    if config.max_pixels and (not stored or config.max_pixels > min(stored)):
        raise TokenRecordError(
            f"vllm max_model_len: --max-pixels {config.max_pixels} exceeds the rows' max_pixels "
            f"({min(stored) if stored else 'unknown'}) the token record measured, so it does not bound these "
            "prompts: pass --max-model-len N"
        )
    try:
        prompt = recorded_prompt_tokens(parquet, config.model, AutoProcessor.from_pretrained(config.model),
                                        {r["data_source"] for r in rows})
    except TokenRecordError as exc:
        raise TokenRecordError(f"vllm max_model_len: {exc} {hint}") from None
    length = model_len_for(prompt, config.max_new_tokens)
    if progress:
        print(f"[eval] vllm max_model_len {length}: longest recorded prompt {prompt} + {config.max_new_tokens} "
              f"new tokens (+ slack, rounded) from {tokens_path(parquet)}", file=sys.stderr)
    return length


def run_viubench(config: ViubenchConfig, progress: bool = True) -> dict[str, Any]:
    """Evaluate (or resume) one model on VIUBench and write all outputs; returns the summary."""
    all_rows = load_rows(config.data, config.media_root)
    rows = all_rows[: config.limit]
    layout = evaluated_layout((r["data_source"], r.get("extra_info")) for r in rows)
    overrides = {"max_pixels": config.max_pixels} if config.max_pixels else {}
    samples = [to_sample(r, overrides) for r in rows]
    scorer = viubench_scorer(parse_mode=config.parse_mode)
    for sample in samples:  # a malformed ground truth stops the run here, naming its row, not mid-way
        scorer(sample, "")
    out = Path(config.out)
    model_ref = str(Path(config.model).resolve()) if Path(config.model).exists() else config.model
    settings = {
        "benchmark": "viubench",
        "model": model_ref,
        "backend": config.backend,
        "data_fingerprint": rows_fingerprint(rows),
        "questions": len(rows),
        "max_new_tokens": config.max_new_tokens,
        "max_pixels_override": config.max_pixels,
        "parse_mode": config.parse_mode,
    }
    store = SampleStore(out, settings, retry_errors=config.retry_errors)
    root = media_root_of(viubench_parquet(config.data), config.media_root)

    def backend():  # called only if some question still needs the model
        check_model(config.model)
        max_model_len = vllm_max_model_len(config, rows, progress) if config.backend == "vllm" else None
        return load_backend(config.backend, config.model, GenerationSettings.of(config, max_model_len))

    records = run_samples(
        samples,
        backend,
        store,
        scorer,
        batch_size=config.batch_size,
        progress=progress,
        missing_as_zero=config.score_missing_as_zero,
        missing_hint=lambda path: missing_media_hint(path, root),
    )
    label = config.label or Path(config.model.rstrip("/")).name
    rows_out = [results_row(label, records, layout), random_guess_row(rows, layout), best_constant_row(rows, layout)]
    data = {
        "file": str(viubench_parquet(config.data).resolve()),
        "fingerprint": settings["data_fingerprint"],
        "questions": len(rows),
        "questions_in_file": len(all_rows),
        "file_fingerprint": rows_fingerprint(all_rows),
    }
    return write_viubench_outputs(out, rows_out, settings, layout=layout, data=data)


def write_viubench_outputs(out: Path, rows: list[ResultsRow], settings: dict[str, Any], layout: Layout = PAPER,
                           data: dict[str, Any] | None = None) -> dict[str, Any]:
    """results.md / results.csv / summary.json / results.png for ``rows`` (first row = this run).

    ``layout``: the table's columns (``columns.evaluated_layout``); ``data``: which questions were
    evaluated (recorded for ``eval table``)."""
    run = rows[0]
    n_columns = len(layout.columns)
    notes = [
        "Every question counts: unparsable answers, generation errors and missing videos score 0.",
        f"Overall = mean of the {n_columns} subtype columns"
        + ("" if layout == PAPER else f" (Table 1's {len(PAPER.columns)} and {n_columns - len(PAPER.columns)} more: "
           "not comparable with the paper's Overall)")
        + "; an empty cell means its questions are absent.",
        "Random guess: exact expectation of the rewards scorer over these questions. Best constant: the single "
        "answer that scores best on each subtype, chosen on these very answers (an oracle; high on small sets).",
    ]
    if data and data.get("questions_in_file") and data["questions"] < data["questions_in_file"]:
        notes.append(f"Partial run: the first {data['questions']} of the {data['questions_in_file']} questions "
                     f"of {data['file']} (--limit); compare it only with runs on the same questions.")
    extra = unknown_sources(run, layout)
    if extra:
        notes.append(f"Evaluated but not in the table: {', '.join(extra)}.")
    headers = table_headers(layout)
    md = "\n".join(
        [
            "# VIUBench results",
            "",
            to_markdown(rows, layout=layout),
            "## Questions per data_source and how they ended",
            "",
            accounting_markdown(run),
            *[f"- {n}" for n in notes],
            "",
        ]
    )
    summary = {
        "settings": settings,
        "rows": [{"label": r.label, "values": r.values} for r in rows],
        "counts": run.counts,
        "headers": headers,
        "data": data,
    }
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "results.md", md.encode())
    write_atomic(out / "results.csv", to_csv(rows, layout=layout).encode())
    write_atomic(out / "summary.json", (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode())
    plot.write_bar_chart(rows[:2], out / "results.png", title="VIUBench", headers=headers)  # the run vs random guess
    return summary


def load_summary_rows(run_dir: str | os.PathLike, label: str | None = None) -> list[ResultsRow]:
    """Table rows of a finished run folder (its run row first, then its reference rows)."""
    return load_run(run_dir, label).rows


@dataclass
class RunTable:
    """A finished run folder as ``eval table`` reads it."""

    run_dir: Path
    rows: list[ResultsRow]  # the run's row, then its reference rows
    headers: list[str]
    fingerprint: str  # of the evaluated questions
    questions: int
    questions_in_file: int | None  # None: recorded before runs said it
    file: str

    @property
    def partial(self) -> bool:
        return self.questions_in_file is not None and self.questions < self.questions_in_file

    def describe(self) -> str:
        part = f"the first {self.questions} of {self.questions_in_file}" if self.partial else f"{self.questions}"
        where = f" of {self.file}" if self.file else ""
        return f"{part} questions{where} (rows fingerprint {self.fingerprint})"


def load_run(run_dir: str | os.PathLike, label: str | None = None) -> RunTable:
    """A finished VIUBench run folder (``summary.json``), with what identifies its questions."""
    run_dir = Path(run_dir)
    path = run_dir / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no summary.json (not a finished `eval viubench` run folder)")
    summary = json.loads(path.read_text())
    rows = [ResultsRow(reference_label(r["label"]) if k else r["label"], r["values"])
            for k, r in enumerate(summary["rows"])]
    if label:
        rows[0].label = label
    settings, data = summary.get("settings", {}), summary.get("data") or {}
    return RunTable(
        run_dir=run_dir,
        rows=rows,
        headers=summary.get("headers") or table_headers(),
        fingerprint=data.get("fingerprint") or settings.get("data_fingerprint", "unknown"),
        questions=int(data.get("questions") or settings.get("questions") or 0),
        questions_in_file=data.get("questions_in_file"),
        file=data.get("file", ""),
    )


def unique_labels(runs: list[RunTable]) -> None:
    """Make the runs' row labels unique (in place): a repeated label gets its run folder's name,
    then a number; a label equal to a reference row's is treated as repeated."""
    seen = set(REFERENCE_LABELS)
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.rows[0].label] = counts.get(run.rows[0].label, 0) + 1
    for run in runs:
        label = run.rows[0].label
        if counts[label] > 1 or label in seen:
            label = f"{label} ({run.run_dir.name})"
        base, k = label, 2
        while label in seen:
            label, k = f"{base} #{k}", k + 1
        seen.add(label)
        run.rows[0].label = label


@dataclass
class Comparison:
    """What ``eval table`` writes: one table per set of evaluated questions."""

    markdown: str
    csv: str
    chart_rows: list[ResultsRow]
    headers: list[str]


def compare_runs(run_dirs: list[str], labels: list[str] | None = None, separate: bool = False) -> Comparison:
    """One table of finished runs on the same questions; runs on different questions (other data,
    or a ``--limit`` subset) are refused, or with ``separate`` get a table each. Labels are made
    unique; each table has its own reference rows (they depend on the questions)."""
    if labels and len(labels) != len(run_dirs):
        raise ValueError(f"{len(labels)} --labels for {len(run_dirs)} runs")
    runs = [load_run(d, labels[k] if labels else None) for k, d in enumerate(run_dirs)]
    unique_labels(runs)
    groups: dict[str, list[RunTable]] = {}
    for run in runs:
        groups.setdefault(run.fingerprint, []).append(run)
    if len(groups) > 1 and not separate:
        lines = "; ".join(f"{', '.join(str(r.run_dir) for r in group)}: {group[0].describe()}"
                          for group in groups.values())
        raise ValueError(f"these runs evaluated different questions, so one table would compare unlike numbers: "
                         f"{lines}. Evaluate every model on the same rows (same data, no or the same --limit), "
                         "or pass --separate for one table per set of questions")
    headers = merged_headers(run.headers for run in runs)
    sections, csv_rows, data_col, questions_col, chart = [], [], [], [], []
    for fingerprint, group in groups.items():
        references: dict[str, ResultsRow] = {}
        for run in group:
            for ref in run.rows[1:]:
                references.setdefault(ref.label, ref)
        table_rows = [run.rows[0] for run in group] + list(references.values())
        title = f"## {group[0].describe()}"
        note = ["", "Partial: these runs answered a --limit subset; their numbers compare only with runs on the "
                    "same subset."] if group[0].partial else []
        sections += [title, *note, "", to_markdown(table_rows, headers=headers)]
        csv_rows += table_rows
        data_col += [fingerprint] * len(table_rows)
        questions_col += [str(group[0].questions)] * len(table_rows)
        chart += [r for r in table_rows if r.label != REFERENCE_LABELS[1]] if len(groups) == 1 else [
            r for r in table_rows if r.label not in REFERENCE_LABELS]
    markdown = "\n".join(["# VIUBench", "", *sections])
    csv_text = to_csv(csv_rows, headers=headers, lead={"data_fingerprint": data_col, "questions": questions_col})
    return Comparison(markdown, csv_text, chart, headers)
