"""``python -m recipes.videossr.token_counts --data DATA_DIR_OR_PARQUET --model MODEL_DIR [MODEL_DIR ...]``

Prompt-token counts per task, measured through the rollout path verl uses (they decide
``max_prompt_length`` in training and ``max_model_len`` in the vLLM evaluation).

Each row goes through ``VideoSSRDataset`` (verl's ``RLHFDataset``), its multimodal processing, and
verl's Qwen-VL continuous-token builder with a model's real processor -- the exact ids the rollout
sends to vLLM (and the same count the evaluation's prompts have). Only the processor matters, so the
tiny offline models give the real counts for Qwen2.5-VL and Qwen3-VL.

The command records them next to the parquet, ``DATA_DIR/<stem>.tokens.json`` (``viubench.parquet``
-> ``viubench.tokens.json``), per model family (``config.json``'s ``model_type``), merged with the
families already recorded there, and re-writes the dataset card (``DATA_DIR/README.md``) when the
folder is a ``python -m data_prep build`` output::

    {"format": 1, "parquet": "viubench.parquet",
     "models": {"qwen3_vl": {"data_sources": {"videossr/jigsaw/n8": {"rows", "min", "mean", "max"}, ...},
                             "measured_with": "<model folder name>", "parquet_rows": 9,
                             "parquet_sha256": "...", "processor": {<video processor pixel/patch settings>},
                             "processor_files_sha256": "..."}}}

A family's record is *stale* when the parquet's sha256 or row count, or the processor settings, are
not the recorded ones: ``recorded_prompt_tokens`` (what the evaluation reads) refuses it, the card
says so, and recording again replaces it (a fresh record is reused unless ``--force``; when the
parquet and the model folder's processor files are byte-identical to the recorded ones it is
reused without loading the processor at all).

>>> counts = prompt_token_counts("outputs/demo/data/viubench.parquet", "outputs/demo/models/tiny-qwen3_vl")  # doctest: +SKIP
>>> counts["videossr/jigsaw/n8"]                                                                           # doctest: +SKIP
{'rows': 3, 'min': 1709, 'mean': 1712.3, 'max': 1715}
>>> tokens_path("outputs/demo/data/viubench.parquet").name
'viubench.tokens.json'
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from data_prep.jsonl import file_sha256, write_atomic

FORMAT = 1
TOKENS_SUFFIX = ".tokens.json"
COMMAND = "python -m recipes.videossr.token_counts"
# Video-processor settings that change how many tokens a clip becomes (pixel budget, patch grid).
PROCESSOR_KEYS = (
    "video_processor_type",
    "image_processor_type",
    "patch_size",
    "merge_size",
    "temporal_patch_size",
    "size",
    "min_pixels",
    "max_pixels",
    "do_resize",
)


WEIGHT_SUFFIXES = {".safetensors", ".bin", ".pt", ".pth", ".gguf"}


class TokenRecordError(ValueError):
    """No usable token record (missing, other family, stale); the message says how to record one."""


def tokens_path(parquet: str | os.PathLike) -> Path:
    """``DATA_DIR/<stem>.tokens.json`` for ``DATA_DIR/<stem>.parquet``."""
    parquet = Path(parquet)
    return parquet.with_name(parquet.stem + TOKENS_SUFFIX)


def parquet_rows(parquet: str | os.PathLike) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(parquet).metadata.num_rows)


def model_type_of(model: str | os.PathLike) -> str:
    """The model family: ``config.json``'s ``model_type`` (``qwen2_5_vl``, ``qwen3_vl``, ...)."""
    config = Path(model) / "config.json"
    if config.is_file():
        return str(json.loads(config.read_text())["model_type"])
    from transformers import AutoConfig  # a hub id

    return str(AutoConfig.from_pretrained(str(model)).model_type)


def processor_settings(processor: Any) -> dict[str, Any]:
    """The settings of the processor's video (else image) processor that decide a clip's token count."""
    sub = getattr(processor, "video_processor", None) or getattr(processor, "image_processor", None)
    values = sub.to_dict() if hasattr(sub, "to_dict") else dict(vars(sub or {}))
    kept = {k: values[k] for k in PROCESSOR_KEYS if values.get(k) is not None}
    return json.loads(json.dumps(kept, sort_keys=True, default=str))  # plain JSON values: compare as stored


def processor_files_sha256(model: str | os.PathLike) -> str | None:
    """One hash of a model folder's processor files (configs, tokenizer, chat template; not weights).

    What lets a fresh record be reused without loading the processor (``make demo``'s second run);
    None for a hub id, which is then always loaded.
    """
    folder = Path(model)
    if not folder.is_dir():
        return None
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix not in WEIGHT_SUFFIXES:
            h.update(f"{path.name}\0{file_sha256(path)}\n".encode())
    return h.hexdigest()


def prompt_token_counts(parquet: str | os.PathLike, model_dir: str | os.PathLike,
                        processor: Any = None) -> dict[str, dict[str, Any]]:
    """``{data_source: {"rows", "min", "mean", "max"}}`` of prompt lengths in tokens (frames included)."""
    from omegaconf import OmegaConf
    from transformers import AutoProcessor
    from verl.utils.tokenizer.continuous_token_wiring import create_continuous_token_builder

    from recipes.videossr.dataset import VideoSSRDataset

    processor = processor or AutoProcessor.from_pretrained(model_dir)
    model_type = model_type_of(model_dir)
    patch = processor.video_processor.patch_size
    with tempfile.TemporaryDirectory() as cache:
        config = OmegaConf.create({"filter_overlong_prompts": False, "return_raw_chat": True, "cache_dir": cache,
                                   "image_patch_size": patch, "videossr": {"check_frame_files": True}})
        dataset = VideoSSRDataset(str(parquet), processor.tokenizer, config, processor)
        builder = create_continuous_token_builder(processor.tokenizer, hf_model_type=model_type, processor=processor)
        lengths: dict[str, list[int]] = defaultdict(list)
        for i in range(len(dataset)):
            row = dataset[i]
            _, videos, _ = asyncio.run(VideoSSRDataset.process_multi_modal_info(row["raw_prompt"], patch, config))
            ids = builder.build_initial_tokens(row["raw_prompt"], videos=videos)
            lengths[row["data_source"]].append(len(ids))
    return {
        source: {"rows": len(v), "min": min(v), "mean": round(sum(v) / len(v), 1), "max": max(v)}
        for source, v in sorted(lengths.items())
    }


def read_record(parquet: str | os.PathLike) -> dict[str, Any]:
    """The token record beside ``parquet`` (``{}`` when there is none)."""
    path = tokens_path(parquet)
    if not path.is_file():
        return {}
    record = json.loads(path.read_text())
    if record.get("format") != FORMAT:
        raise TokenRecordError(f"{path}: unknown format {record.get('format')!r}; record again: "
                               f"{command_for(parquet, '<model folder>')}")
    return record


def staleness(entry: dict[str, Any], sha256: str, rows: int, processor: dict[str, Any] | None = None) -> str | None:
    """Why a family's record does not describe this parquet (and processor), or None if it does.

    >>> entry = {"parquet_sha256": "ab", "parquet_rows": 9, "processor": {"patch_size": 16}}
    >>> staleness(entry, "ab", 9, {"patch_size": 16}) is None
    True
    >>> staleness(entry, "cd", 9)
    'the parquet changed since it was recorded (sha256 cd, recorded ab)'
    >>> staleness(entry, "ab", 9, {"patch_size": 14})
    'the processor settings differ: recorded {"patch_size": 16}, this model {"patch_size": 14}'
    """
    if entry.get("parquet_sha256") != sha256:
        return f"the parquet changed since it was recorded (sha256 {sha256}, recorded {entry.get('parquet_sha256')})"
    if entry.get("parquet_rows") != rows:
        return f"the parquet has {rows} rows, the record {entry.get('parquet_rows')}"
    if processor is not None and entry.get("processor") != processor:
        recorded = json.dumps(entry.get("processor"), sort_keys=True)
        return f"the processor settings differ: recorded {recorded}, this model {json.dumps(processor, sort_keys=True)}"
    return None


def command_for(data: str | os.PathLike, model: str | os.PathLike) -> str:
    return f"{COMMAND} --data {data} --model {model}"


def record_token_counts(parquet: str | os.PathLike, model_dir: str | os.PathLike, force: bool = False) -> Path:
    """Measure (unless a fresh record exists and not ``force``) and record ``parquet``'s counts for one family.

    Merges into ``<stem>.tokens.json`` (other families are kept as they are), written atomically
    with sorted keys: the same parquet and processor give the same bytes. Returns the file's path.
    """
    parquet = Path(parquet)
    family = model_type_of(model_dir)
    files = processor_files_sha256(model_dir)
    sha256, rows = file_sha256(parquet), parquet_rows(parquet)
    record = read_record(parquet)
    models = dict(record.get("models", {}))
    entry = models.get(family)
    unchanged = (not force and entry is not None and files is not None
                 and entry.get("processor_files_sha256") == files and staleness(entry, sha256, rows) is None)
    if not unchanged:  # only now pay for loading the processor (seconds: transformers' import)
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(model_dir)
        settings = processor_settings(processor)
        if force or entry is None or staleness(entry, sha256, rows, settings) is not None:
            entry = {
                "data_sources": prompt_token_counts(parquet, model_dir, processor),
                "measured_with": Path(str(model_dir).rstrip("/")).name,
                "parquet_rows": rows,
                "parquet_sha256": sha256,
                "processor": settings,
            }
        models[family] = {**entry, "processor_files_sha256": files} if files else entry
    record = {"format": FORMAT, "parquet": parquet.name, "models": models}
    path = tokens_path(parquet)
    write_atomic(path, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
    return path


def recorded_prompt_tokens(parquet: str | os.PathLike, model: str | os.PathLike, processor: Any,
                           data_sources: Iterable[str]) -> int:
    """The longest recorded prompt over ``data_sources`` for ``model``'s family (what vLLM must fit).

    Raises ``TokenRecordError`` -- naming the command that records them -- when the record is
    missing, lacks the family or a data_source, or is stale for this parquet or this processor.
    """
    parquet = Path(parquet)
    family = model_type_of(model)
    path = tokens_path(parquet)
    how = f"record them with `{command_for(parquet, model)}`"
    entry = read_record(parquet).get("models", {}).get(family)
    if entry is None:
        what = f"no {path}" if not path.is_file() else f"{path} has no record for model family {family!r}"
        raise TokenRecordError(f"{what}: {how}")
    why = staleness(entry, file_sha256(parquet), parquet_rows(parquet), processor_settings(processor))
    if why:
        raise TokenRecordError(f"{path}: the {family} record is stale ({why}): {how}")
    counts = entry["data_sources"]
    sources = sorted(set(data_sources))
    missing = [s for s in sources if s not in counts]
    if missing:
        raise TokenRecordError(f"{path}: the {family} record lacks {', '.join(missing)} (stale): {how}")
    return max(int(counts[s]["max"]) for s in sources) if sources else 0


def format_counts(title: str, counts: dict[str, dict[str, Any]]) -> list[str]:
    """Report lines: one per data_source, then the overall maximum.

    >>> format_counts("m", {"videossr/jigsaw/n6": {"rows": 2, "min": 10, "mean": 11.0, "max": 12}})[1]
    '    videossr/jigsaw/n6                  rows   2  min     10  mean     11.0  max     12'
    """
    lines = [f"  {title}"]
    for source, c in counts.items():
        lines.append(f"    {source:<34}  rows {c['rows']:>3}  min {c['min']:>6}  mean {c['mean']:>8}  max {c['max']:>6}")
    if counts:
        lines.append(f"    longest prompt: {max(c['max'] for c in counts.values())} tokens")
    return lines


def record_and_report(parquets: list[Path], models: list[Path], force: bool = False) -> list[str]:
    """Record every (parquet, model) pair, re-write the card of build folders; report lines."""
    report = []
    for parquet in parquets:
        for model in models:
            path = record_token_counts(parquet, model, force=force)
            family = model_type_of(model)
            counts = json.loads(path.read_text())["models"][family]["data_sources"]
            report += format_counts(f"{family} processor, {parquet.name} -> {path}", counts)
    for folder in sorted({p.parent for p in parquets}):
        if any(folder.glob("*.build.json")):  # a data_prep build folder: its card lists the counts
            from data_prep.card import write_card

            report.append(f"  dataset card: {write_card(folder)}")
    return report


def demo_step(out: Path, args) -> list[str]:
    """``make demo``'s step: tiny Qwen2.5-VL / Qwen3-VL processors, prompt tokens per task, recorded."""
    from recipes.videossr.tiny_models import build_tiny_model

    models = []
    for kind in ("qwen2_5_vl", "qwen3_vl"):
        model_dir = out / "models" / f"tiny-{kind}"
        if not (model_dir / "config.json").exists():
            build_tiny_model(kind, model_dir)
        models.append(model_dir)
    report = ["prompt tokens per task (VideoSSRDataset + verl's rollout tokenization; max_prompt_length 8192):"]
    return report + record_and_report(sorted((out / "data").glob("*.parquet")), models)


def parquets_of(data: str | os.PathLike) -> list[Path]:
    """``data`` itself (a parquet file) or every ``*.parquet`` in the folder ``data``."""
    path = Path(data)
    found = sorted(path.glob("*.parquet")) if path.is_dir() else [path] if path.is_file() else []
    if not found:
        raise FileNotFoundError(f"no parquet at {path}")
    return found


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[1].replace("\n", " "),
                                allow_abbrev=False)
    p.add_argument("--data", required=True, help="a parquet, or a data folder (every *.parquet in it)")
    p.add_argument("--model", required=True, nargs="+", help="model folder(s) or hub id(s): whose processor measures")
    p.add_argument("--force", action="store_true", help="measure again even if a fresh record exists")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = record_and_report(parquets_of(args.data), [Path(m) for m in args.model], force=args.force)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
