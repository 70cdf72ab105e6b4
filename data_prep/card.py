"""The dataset card: ``DATA_DIR/README.md`` in Hugging Face style, covering every build in the folder.

For each ``<stem>.build.json`` next to its parquet: the exact command and options, counts per
subtype, answer statistics, and the answer priors (``rewards.priors.answer_priors``): per subtype
the expected score of a random guess next to the best constant answer, for whichever generator
mode (paper or uniform) built it. A policy that scores no better than the best constant has
learned the prior, not the video. When ``<stem>.tokens.json`` exists (written by
``python -m recipes.videossr.token_counts``), the prompt-token counts per model family and
data_source (a record for an older build of the parquet is listed as stale, without counts).

>>> from data_prep.card import write_card
>>> write_card("outputs/demo/data")        # doctest: +SKIP
PosixPath('outputs/demo/data/README.md')
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from data_prep.build import size_shortfall
from data_prep.jsonl import file_sha256, read_records, write_atomic
from data_prep.label_quality import label_quality
from data_prep.media import NEW_FRAMES, resolve_videos
from data_prep.portable import is_self_contained
from data_prep.profiles import SUMMARIES as PROFILE_SUMMARIES
from rewards.priors import answer_priors


def write_card(data_dir: str | os.PathLike) -> Path:
    """(Re)write ``README.md`` from the builds found in ``data_dir``; returns its path."""
    data_dir = Path(data_dir)
    builds = []
    for cfg_path in sorted(data_dir.glob("*.build.json")):
        info = json.loads(cfg_path.read_text())
        parquet = data_dir / info["config"]["mix"]["output"]
        if parquet.exists():
            builds.append((cfg_path.name.removesuffix(".build.json"), info, parquet))
    text = render_card(data_dir, builds)
    path = data_dir / "README.md"
    write_atomic(path, text.encode("utf-8"))
    return path


def render_card(data_dir: Path, builds: list[tuple[str, dict, Path]]) -> str:
    front = [
        "---",
        "pretty_name: VideoSSR pretext-task data",
        "license: other",
        "task_categories:",
        "- video-text-to-text",
        "tags:",
        "- videossr",
        "- self-supervised",
        "- reinforcement-learning",
        "- verl",
        "configs:",
    ]
    for stem, info, parquet in builds:
        front += [
            f"- config_name: {stem}",
            "  data_files:",
            f"  - split: {info['config']['mix']['split']}",
            f"    path: {parquet.name}",
        ]
    body = [
        "---",
        "",
        "# VideoSSR pretext-task data",
        "",
        "Self-supervised, verifiable video questions (Anomaly Grounding, Object Counting, Temporal "
        "Jigsaw; VideoSSR, arXiv 2511.06281) in verl's parquet layout: `data_source` = "
        "`videossr/<task>/<subtype>` (one validation metric per subtype), `prompt` (system + user "
        "with one `<video>` tag per entry of `videos`), `videos` (frame lists with `sample_fps`, "
        "`max_pixels`, `min_pixels`), `reward_model.ground_truth`, `extra_info` (task, subtype, "
        "difficulty, video id, seed, `meta` JSON with the facts that verify the answer).",
        "",
        "Frame paths in the rows are relative to this folder. Frames that a task changed (perturbed or "
        "shape-drawn) live under `frames/<sample_id>/`; all other frames under `source_frames/`, "
        + ("which holds the frames the rows use (self-contained: this folder alone is the dataset). "
           if is_self_contained(data_dir) else
           "a link to the frames folder the build read (keep both; `python -m data_prep media <this folder> "
           "--copy` makes it self-contained, `--frames NEW_DIR` re-links a moved frames folder). ")
        + "Load the rows anywhere with `datasets.load_dataset(\"parquet\", ...)` and join the paths to this folder "
        "(`data_prep.media.resolve_videos`). "
        "Timestamps: answers in seconds use each video's `sample_fps` from the frames manifest "
        "(the frame stage's `--fps-mode`: `paper` = 48 / full duration, as the reference data).",
        "",
    ]
    for stem, info, parquet in builds:
        body += _build_section(data_dir, stem, info, parquet)
    return "\n".join(front + body) + "\n"


def _build_section(data_dir: Path, stem: str, info: dict, parquet: Path) -> list[str]:
    cfg = info["config"]
    rows = pq.read_table(parquet).to_pylist()
    skipped = [r for r in read_records(data_dir / f"{stem}.rows.jsonl", repair=False) if r["status"] != "ok"]
    mix = cfg["mix"]
    lines = [
        f"## `{parquet.name}` ({mix['name']}, {mix['split']} split)",
        "",
        "Built with:",
        "",
        "```",
        info.get("command", ""),
        "```",
        "",
        "| option | value |",
        "|---|---|",
    ]
    for key in (
        "seed",
        "size",
        "per_subtype",
        "uniform",
        "eval_fraction",
        "tier",
        "max_pixels",
        "min_pixels",
        "num_videos",
        "frames_dir",
    ):
        lines.append(f"| {key} | `{cfg[key]}` |")
    lines.append(f"| mix file | `{mix['source']}` (videos: `{mix['videos']}`) |")
    profile = cfg.get("profile", "paper")
    lines.append(f"| generator profile | `{profile}` |")
    if mix.get("options"):
        lines.append(f"| mix generator options | `{json.dumps(mix['options'], sort_keys=True)}` |")
    if cfg.get("generator_options"):
        lines.append(f"| effective generator options | `{json.dumps(cfg['generator_options'], sort_keys=True)}` |")
    generator = PROFILE_SUMMARIES.get(profile, profile)
    mode = "uniform answers (--uniform)" if cfg["uniform"] else "the paper's answer distributions"
    lines += [
        "",
        f"Generator profile `{profile}`: {generator}. Answers: {mode}. Videos: a hash of the video id puts a fraction "
        f"{cfg['eval_fraction']} of the videos in the eval split (VIUBench) and the rest in the train "
        "split, so builds with the same fraction never share a video.",
        "",
    ]
    if mix["videos"] == "per_entry":
        lines += [
            "Within a subtype each question uses a different video while enough eval videos exist "
            "(then videos repeat with fresh seeds); one eval video may serve several subtypes.",
            "",
        ]
    asked = cfg["size"] if cfg.get("size") is not None else mix.get("size")
    planned = sum(1 for _ in read_records(data_dir / f"{stem}.rows.jsonl", repair=False))
    shortfall = size_shortfall(mix["videos"], asked, planned, cfg["num_videos"], mix["split"])
    if shortfall:
        lines += [f"Note: {shortfall}.", ""]
    lines += [
        "### Counts and answers",
        "",
        "| data_source | rows | videos | answer statistics |",
        "|---|---|---|---|",
    ]
    by_source: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_source[row["data_source"]].append(row)
    for source in sorted(by_source):
        group = by_source[source]
        videos = len({r["extra_info"]["video_id"] for r in group})
        lines.append(f"| `{source}` | {len(group)} | {videos} | {answer_statistics(group)} |")
    lines += [
        "",
        f"Skipped samples: {len(skipped)}"
        + "".join(f"\n- {r['sample_id']}: {r['reason']}" for r in skipped[:20]),
        "",
    ]
    val = parquet.with_name(f"{stem}_val.parquet")
    if val.is_file():
        counts = Counter(r["data_source"] for r in pq.read_table(val, columns=["data_source"]).to_pylist())
        per = sorted(set(counts.values()))
        lines += [
            f"Validation slice: `{val.name}`, {sum(counts.values())} rows = the first "
            f"{'/'.join(map(str, per))} rows of each of its {len(counts)} data sources in this file (the "
            "recipes' `data.val_files` during training).",
            "",
        ]
    lines += _label_quality_section(rows)
    lines += _priors_section(rows, cfg.get("generator_options"))
    lines += _storage_section(data_dir, rows)
    lines += _tokens_section(parquet)
    return lines


def storage_bytes(data_dir: Path, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Bytes on disk of the frames ``rows`` reference, each file counted once.

    ``referenced``: unchanged frames in the frames folder; ``new``: the frames the tasks wrote under
    ``DATA_DIR/frames``; ``videos``: distinct source videos (grounding swap partners included);
    ``missing``: referenced files not found.

    >>> storage_bytes(Path("/nonexistent"), [])
    {'referenced': 0, 'new': 0, 'videos': 0, 'missing': 0}
    """
    root = data_dir.resolve()
    new_root = os.path.join(root / NEW_FRAMES, "")  # string prefixes: no Path per frame
    paths = {p for row in rows for video in resolve_videos(row["videos"], root) for p in video["video"]}
    videos = {row["extra_info"]["video_id"] for row in rows}
    videos |= {v for row in rows if (v := json.loads(row["extra_info"]["meta"]).get("partner_video_id"))}
    sizes = {"referenced": 0, "new": 0, "videos": len(videos), "missing": 0}
    for path in paths:
        try:
            size = os.stat(path).st_size
        except OSError:
            sizes["missing"] += 1
            continue
        sizes["new" if path.startswith(new_root) else "referenced"] += size
    return sizes


def _storage_section(data_dir: Path, rows: list[dict[str, Any]]) -> list[str]:
    s = storage_bytes(data_dir, rows)
    if not rows or not s["videos"]:
        return []
    mb = lambda b: f"{b / 1e6:.2f} MB"  # noqa: E731
    per_video = lambda b: f"{b / s['videos'] / 1e6:.2f} MB"  # noqa: E731
    lines = [
        "### Storage",
        "",
        "| frames | total | per video | per row |",
        "|---|---|---|---|",
        f"| referenced in the frames folder (`source_frames/`, this split's tier) | {mb(s['referenced'])} | {per_video(s['referenced'])} | "
        f"{s['referenced'] / len(rows) / 1e6:.2f} MB |",
        f"| written by the tasks (`frames/`) | {mb(s['new'])} | {per_video(s['new'])} | {s['new'] / len(rows) / 1e6:.2f} MB |",
        f"| both | {mb(s['referenced'] + s['new'])} | {per_video(s['referenced'] + s['new'])} | "
        f"{(s['referenced'] + s['new']) / len(rows) / 1e6:.2f} MB |",
        "",
        f"{s['videos']} source videos; each file counted once, however many rows show it.",
    ]
    if s["missing"]:
        lines.append(f"Missing: {s['missing']} referenced frame files were not found (moved or deleted frames folder?).")
    return lines + [""]


TOKENS_COMMAND = "python -m recipes.videossr.token_counts"


def _tokens_section(parquet: Path) -> list[str]:
    """Prompt tokens per model family and data_source, from ``<stem>.tokens.json`` if recorded.

    The record is written by ``recipes/videossr/token_counts.py`` (its docstring has the format);
    a family whose parquet sha256 or row count is not this file's is listed as stale.
    """
    lines = ["### Prompt tokens", ""]
    record_path = parquet.with_name(parquet.stem + ".tokens.json")
    how = f"`{TOKENS_COMMAND} --data <this folder> --model <model folder>`"
    if not record_path.is_file():
        return lines + [f"Not recorded: {how} measures them (the vLLM evaluation sizes `max_model_len` from them).", ""]
    models = json.loads(record_path.read_text()).get("models", {})
    sha256 = file_sha256(parquet)
    rows = pq.ParquetFile(parquet).metadata.num_rows
    fresh = {f: e for f, e in sorted(models.items()) if e.get("parquet_sha256") == sha256 and e.get("parquet_rows") == rows}
    stale = sorted(set(models) - set(fresh))
    lines += [
        f"Prompt length in tokens (frames included) through `VideoSSRDataset` and verl's rollout tokenization with "
        f"each model family's processor (`{record_path.name}`, {how}). The vLLM evaluation sizes `max_model_len` "
        "from the longest prompt it evaluates + `--max-new-tokens`.",
        "",
    ]
    if fresh:
        lines += ["| model family | measured with | data_source | rows | min | mean | max |", "|---|---|---|---|---|---|---|"]
        for family, entry in fresh.items():
            for source, c in sorted(entry["data_sources"].items()):
                lines.append(f"| `{family}` | `{entry.get('measured_with', '')}` | `{source}` | {c['rows']} | {c['min']} | "
                             f"{c['mean']} | {c['max']} |")
        longest = ", ".join(f"`{f}` {max(c['max'] for c in e['data_sources'].values())}" for f, e in fresh.items()
                            if e["data_sources"])
        lines += ["", f"Longest prompt: {longest} tokens."]
    if stale:
        lines += ["", f"Stale (recorded for another build of `{parquet.name}`; record again): "
                      + ", ".join(f"`{f}`" for f in stale) + "."]
    return lines + [""]


def _label_quality_section(rows: list[dict[str, Any]]) -> list[str]:
    q = label_quality(rows)
    lines = [
        "### Label quality",
        "",
        "How often a label cannot be verified from the pixels (`data_prep/label_quality.py`).",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    if q["counting_frames"]:
        lines.append(
            f"| counting: shape-drawn frames with overlapping shapes | {q['counting_overlap_fraction']:.1%} "
            f"of {q['counting_frames']} |"
        )
    if q["grounding_rows"]:
        lines.append(
            "| grounding: rows whose first or last perturbed frame is the original | "
            f"{q['grounding_edge_identical_fraction']:.1%} of {q['grounding_rows']} |"
        )
    if not (q["counting_frames"] or q["grounding_rows"]):
        lines.append("| (no counting or grounding rows) | - |")
    return lines + [""]


def answer_statistics(rows: list[dict[str, Any]]) -> str:
    """One short line describing the answers of one subtype.

    >>> answer_statistics([{"extra_info": {"task": "jigsaw", "answer": "123"}}])
    'identity order 1/1; most common answer `123` (1x)'
    """
    task = rows[0]["extra_info"]["task"]
    answers = [r["extra_info"]["answer"] for r in rows]
    common, times = Counter(answers).most_common(1)[0]
    tail = f"most common answer `{common}` ({times}x)"
    if task == "counting":
        counts = np.array([[int(x) for x in a.split(",")] for a in answers])
        return f"per-type count mean {counts.mean():.2f}, range {counts.min()}-{counts.max()}; {tail}"
    if task == "grounding":
        spans = [json.loads(r["extra_info"]["meta"]) for r in rows]
        starts = np.array([m["start_frame"] for m in spans])
        lengths = np.array([m["end_frame"] - m["start_frame"] for m in spans])
        return (
            f"start frame mean {starts.mean():.1f} (range {starts.min()}-{starts.max()}), "
            f"length mean {lengths.mean():.1f} frames (range {lengths.min()}-{lengths.max()})"
        )
    if task == "jigsaw":
        identity = sum(a == "".join(str(k + 1) for k in range(len(a))) for a in answers)
        return f"identity order {identity}/{len(answers)}; {tail}"
    return tail


def _priors_section(rows: list[dict[str, Any]], options: dict[str, Any] | None = None) -> list[str]:
    lines = [
        "### Answer priors",
        "",
        "Expected score of a uniformly random guess versus the best single constant answer "
        "(measured on this file's answers with the training reward; `acc` = the VIUBench metric).",
        "",
    ]
    priors = answer_priors(rows, options)  # the build's generator options: priors of what was built
    lines += [
        "| data_source | n | random guess acc | random guess score | best constant (score) | its acc | its score "
        "| best constant (acc) | its acc |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for source in sorted(priors):
        p = priors[source]
        lines.append(
            f"| `{source}` | {p['n']} | {_pick(p, 'random_acc', 'random_guess_acc'):.3f} | "
            f"{_pick(p, 'random_score', 'random_guess_score'):.3f} | `{p['best_constant']}` | "
            f"{p['best_constant_acc']:.3f} | {p['best_constant_score']:.3f} | "
            f"`{p.get('best_acc_constant', p['best_constant'])}` | "
            f"{p.get('best_acc_constant_acc', p['best_constant_acc']):.3f} |"
        )
    return lines + [""]


def _pick(figures: dict, *names: str) -> float:
    for name in names:
        if name in figures:
            return float(figures[name])
    raise KeyError(f"answer_priors gave none of {names}")
