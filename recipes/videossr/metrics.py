"""One table of a training run's metrics, from every attempt's verl file log; CSV + PNG + summary.

    python -m recipes.videossr.metrics RUN_DIR [--out DIR]     # default --out: RUN_DIR/metrics/

A run with the rollout-group statistics (``+adaptive=...``, ``recipes.videossr.adaptive``) also
gets ``groups.png``: per task, the fraction of zero-variance GRPO groups and the mean group reward
over steps, and the difficulty level of each family when the levels adapt.

``launch/train.sh`` runs verl with ``trainer.logger=[console,file]`` and points
``VERL_FILE_LOGGER_PATH`` at ``RUN_DIR/logs/metrics-<attempt>.jsonl``, one file per attempt
(attempt = UTC start time, so name order is time order). verl 0.9.1's ``FileLogger`` writes one
line per ``Tracking.log`` call: ``{"step": <global step>, "data": {<metric key>: <number>}}``.

Merging attempts. A resumed attempt starts at its checkpoint's step ``s`` (it logs the resume
validation there, or its first training step ``s + 1`` when ``val_before_train`` is off) and redoes
every step after it, so when an attempt's first line has step ``s``:

* earlier attempts' rows for steps ``> s`` are dropped (a crashed attempt's steps past its last
  checkpoint belong to a branch nobody continued, even where the resumed attempt has not caught up);
* at step ``s`` itself the later attempt's keys win and the earlier keys it did not log stay (the
  checkpointed step's training metrics, logged once by the attempt that trained it).

A torn last line (a crash mid-write, or a run still writing) and any unreadable line are skipped
with a warning; the log files are only read, never repaired, so a live run can be watched.

>>> row = {"step": 5, "attempt": "20261202T003419Z", "critic/score/mean": 0.5,
...        "val-core/videossr/jigsaw/n6/acc/mean@1": 0.25, "val-aux/videossr/jigsaw/n6/score/mean@1": 0.4}
>>> validation_scores(row)
{'videossr/jigsaw/n6': ('acc/mean@1', 0.25)}
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Iterable

from PIL import Image, ImageDraw

from data_prep.jsonl import write_atomic
from recipes.videossr.eval.plot import GREY, PALETTE, _font

# Keys of verl 0.9.1's metrics (verl/trainer/ppo/metric_utils.py::compute_data_metrics):
# critic/score = the reward function's sequence score, critic/rewards = after the in-reward KL
# penalty (equal to score unless algorithm.use_kl_in_reward).
TRAIN_REWARD_KEYS = ("critic/score/mean", "critic/rewards/mean")
RESPONSE_LENGTH_KEY = "response_length/mean"
# verl's _val_metrics_update: val-core/<data_source>/<core var>/<metric>, core var = "acc" when the
# reward returns one (ours does: the VIUBench metric), else "reward"; mean@N, N = validation samples
# per prompt. data_source itself contains slashes (videossr/<task>/<subtype>).
VAL_CORE = re.compile(r"^val-core/(?P<source>.+)/(?P<var>[^/]+)/mean@(?P<n>\d+)$")
ATTEMPT_GLOB = "metrics-*.jsonl"
# recipes.videossr.adaptive.controller: videossr_groups/<task or all>/<stat>, videossr_adaptive/<family>/level
GROUP_TASK = re.compile(r"^videossr_groups/(?P<task>[^/]+)/(?P<stat>zero_var_frac|reward_mean)$")
ADAPTIVE_LEVEL = re.compile(r"^videossr_adaptive/(?P<family>.+)/level$")


def metric_files(path: str | Path) -> list[Path]:
    """The ``metrics-*.jsonl`` files of a run folder, its ``logs`` folder or one ``.jsonl``, oldest first."""
    path = Path(path)
    if path.is_file():
        files = [path]
    elif (path / "logs").is_dir():
        files = sorted((path / "logs").glob(ATTEMPT_GLOB))
    else:
        files = sorted(path.glob(ATTEMPT_GLOB)) if path.is_dir() else []
    if not files:
        raise FileNotFoundError(
            f"no {ATTEMPT_GLOB} files at {path} (looked in {path / 'logs'} and {path}): launch/train.sh "
            "writes RUN_DIR/logs/metrics-<attempt>.jsonl, one per attempt, through verl's file logger "
            "(trainer.logger=[console,file] and VERL_FILE_LOGGER_PATH)"
        )
    return files


def attempt_name(path: Path) -> str:
    """``metrics-20261202T003419Z.jsonl`` -> ``20261202T003419Z`` (any other name: its stem)."""
    return path.stem[len("metrics-"):] if path.stem.startswith("metrics-") else path.stem


def read_attempt(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(step, metrics)`` per complete line of one verl file log; bad lines are warned about and skipped."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines[-1].strip():  # no newline after it: the writer died (or is still) mid-line
        warnings.warn(f"{path}: skipping a truncated last line ({len(lines[-1])} bytes; the attempt crashed "
                      "mid-write or is still running)", stacklevel=2)
    records = []
    for n, line in enumerate(lines[:-1], 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            step, metrics = int(record["step"]), record["data"]
            if not isinstance(metrics, dict):
                raise TypeError(f"'data' is a {type(metrics).__name__}")
        except (ValueError, KeyError, TypeError) as exc:
            warnings.warn(f"{path}:{n}: skipping an unreadable line ({type(exc).__name__}: {exc})",
                          stacklevel=2)
            continue
        records.append((step, metrics))
    return records


def merge_attempts(attempts: Iterable[tuple[str, list[tuple[int, dict[str, Any]]]]]) -> list[dict[str, Any]]:
    """One row per step from ``(attempt, records)`` in time order (the rules are in the module docstring)."""
    table: dict[int, dict[str, Any]] = {}
    for attempt, records in attempts:
        if not records:  # died before its first log line: it changed nothing
            continue
        restart = records[0][0]
        for step in [s for s in table if s > restart]:
            del table[step]
        for step, metrics in records:
            row = table.setdefault(step, {})
            row.update(metrics)
            row["attempt"] = attempt
    return [{"step": step, "attempt": table[step].pop("attempt"), **dict(sorted(table[step].items()))}
            for step in sorted(table)]


def read_run_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every attempt's metrics of a run as one step-ordered table: ``[{"step", "attempt", **metrics}]``.

    ``run_dir``: a ``RUN_DIR`` of ``launch/train.sh``, its ``logs`` folder, or one ``.jsonl`` file.
    Raises ``FileNotFoundError`` when there is no metrics file.
    """
    return merge_attempts((attempt_name(p), read_attempt(p)) for p in metric_files(run_dir))


def validation_scores(row: dict[str, Any]) -> dict[str, tuple[str, float]]:
    """``{data_source: (metric, value)}`` of a row's ``val-core/.../mean@N`` keys (largest N per source)."""
    found: dict[str, tuple[int, str, float]] = {}
    for key, value in row.items():
        m = VAL_CORE.match(key)
        if m and _is_number(value) and int(m["n"]) >= found.get(m["source"], (-1,))[0]:
            found[m["source"]] = (int(m["n"]), f"{m['var']}/mean@{m['n']}", float(value))
    return {source: (metric, value) for source, (_, metric, value) in sorted(found.items())}


def _is_number(value: Any) -> bool:
    # orjson writes NaN/inf as null; bools are not metrics to draw
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- CSV --------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return repr(value) if isinstance(value, float) else str(value)  # repr: shortest exact float text


def metrics_csv(rows: list[dict[str, Any]]) -> str:
    """The table as CSV: columns ``step``, ``attempt``, then the metric keys sorted; empty = not logged."""
    keys = sorted({k for row in rows for k in row} - {"step", "attempt"})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", "attempt", *keys])
    for row in rows:
        writer.writerow([_cell(row.get(k)) for k in ("step", "attempt", *keys)])
    return out.getvalue()


def write_metrics_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write ``metrics_csv(rows)`` to ``path`` atomically (same rows, same bytes); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, metrics_csv(rows).encode("utf-8"))
    return path


# --- PNG (Pillow, as recipes/videossr/eval/plot.py: no plotting dependency) -----------------------------

Series = tuple[str, list[tuple[float, float]]]  # legend label, (step, value) points
MAX_DOTS = 120  # a series with more points is drawn as a line only (dots would hide it)


def _ticks(lo: float, hi: float, count: int = 5, integer: bool = False) -> tuple[float, float, list[float]]:
    """A round axis range covering lo..hi and its ticks (steps of 1, 2 or 5 times a power of ten)."""
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1.0, round(step))
    start, end = math.floor(lo / step) * step, math.ceil(hi / step) * step
    return start, end, [start + i * step for i in range(round((end - start) / step) + 1)]


def _panel(d: ImageDraw.ImageDraw, box: tuple[int, int, int, int], title: str, series: list[Series],
           x_range: tuple[float, float], note: str, y_range: tuple[float, float] | None = None) -> None:
    """One line chart in ``box`` (left, top, right, bottom), legend at its right; ``note`` when empty."""
    small, normal = _font(11), _font(14)
    left, top, right, bottom = box
    legend_w = 230
    x0, y0, x1, y1 = left + 60, top + 28, right - legend_w, bottom - 30  # plot area
    d.text((left, top + 4), title, fill="black", font=normal)
    d.rectangle([x0, y0, x1, y1], outline=GREY)
    series = [(label, pts) for label, pts in series if pts]  # a key never logged: no legend entry
    points = [p for _, pts in series for p in pts]
    if not points:
        d.text(((x0 + x1) / 2, (y0 + y1) / 2), note, fill=GREY, font=normal, anchor="mm")
        return
    xlo, xhi, xticks = _ticks(*x_range, count=8, integer=True)
    ys = [y for _, y in points]
    ylo, yhi, yticks = _ticks(*(y_range or (min(ys), max(ys))))

    def px(x: float, y: float) -> tuple[float, float]:
        return x0 + (x - xlo) / (xhi - xlo) * (x1 - x0), y1 - (y - ylo) / (yhi - ylo) * (y1 - y0)

    for t in yticks:
        _, y = px(xlo, t)
        d.line([(x0, y), (x1, y)], fill=(225, 225, 225))
        d.text((x0 - 6, y), f"{t:.6g}", fill="black", font=small, anchor="rm")
    for t in xticks:
        x, _ = px(t, ylo)
        d.line([(x, y1), (x, y1 + 4)], fill="black")
        d.text((x, y1 + 6), f"{t:.0f}", fill="black", font=small, anchor="mt")
    d.text(((x0 + x1) / 2, bottom - 2), "step", fill="black", font=small, anchor="mb")
    for k, (label, pts) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        xy = [px(x, y) for x, y in pts]
        if len(xy) > 1:
            d.line(xy, fill=colour, width=2)
        for x, y in xy if len(xy) <= MAX_DOTS else ():  # dots: validation runs every test_freq steps,
            d.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=colour)  # a lone point must show
        ly = y0 + 16 * k
        d.rectangle([x1 + 12, ly, x1 + 24, ly + 12], fill=colour)
        d.text((x1 + 30, ly), label[:32], fill="black", font=small)


def _line(rows: list[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    return [(row["step"], float(row[key])) for row in rows if _is_number(row.get(key))]


def draw_run_metrics(rows: list[dict[str, Any]], title: str = "") -> Image.Image:
    """The three panels of ``plot_run_metrics`` as a PIL image."""
    steps = [row["step"] for row in rows] or [0]
    x_range = (min(steps), max(steps))
    reward = [(key, _line(rows, key)) for key in TRAIN_REWARD_KEYS]
    length = [(RESPONSE_LENGTH_KEY, _line(rows, RESPONSE_LENGTH_KEY))]
    by_source: dict[str, list[tuple[float, float]]] = {}
    metric_names: set[str] = set()
    for row in rows:
        for source, (metric, value) in validation_scores(row).items():
            by_source.setdefault(source, []).append((row["step"], value))
            metric_names.add(metric)
    val = sorted(by_source.items())
    val_values = [y for _, pts in val for _, y in pts]
    val_range = (0.0, 1.0) if val_values and 0 <= min(val_values) and max(val_values) <= 1 else None
    width, panel_h = 1000, 260
    val_h = max(panel_h, 28 + 16 * len(val) + 40)  # room for one legend entry per data source
    img = Image.new("RGB", (width, 40 + 2 * panel_h + val_h), "white")
    d = ImageDraw.Draw(img)
    d.text((10, 10), title, fill="black", font=_font(14))
    _panel(d, (10, 40, width - 10, 40 + panel_h), "training reward (mean over the batch)", reward, x_range,
           f"no {' / '.join(TRAIN_REWARD_KEYS)} in the logs")
    _panel(d, (10, 40 + panel_h, width - 10, 40 + 2 * panel_h), "mean response length (tokens)", length,
           x_range, f"no {RESPONSE_LENGTH_KEY} in the logs")
    val_title = f"validation score per task ({', '.join(sorted(metric_names)) or 'val-core'})"
    _panel(d, (10, 40 + 2 * panel_h, width - 10, 40 + 2 * panel_h + val_h), val_title, val, x_range,
           "no val-core/<data_source>/<var>/mean@N in the logs (trainer.test_freq)", y_range=val_range)
    return img


def plot_run_metrics(rows: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Write the PNG (training reward, mean response length, validation score per data source over
    steps) to ``path`` atomically; a metric absent from the logs gives an empty panel with a note."""
    return _write_png(draw_run_metrics(rows, title), path)


def _write_png(img: Image.Image, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    write_atomic(path, buf.getvalue())
    return path


def group_series(rows: list[dict[str, Any]]) -> dict[str, list[Series]]:
    """``{"zero_var_frac" | "reward_mean" | "level": [(label, points), ...]}`` of the group statistics
    per task (``all`` first) and the adaptive level per family, each sorted by label."""
    found: dict[str, dict[str, list[tuple[float, float]]]] = {"zero_var_frac": {}, "reward_mean": {}, "level": {}}
    for row in rows:
        for key, value in row.items():
            if not _is_number(value):
                continue
            m = GROUP_TASK.match(key)
            if m:
                found[m["stat"]].setdefault(m["task"], []).append((row["step"], float(value)))
                continue
            m = ADAPTIVE_LEVEL.match(key)
            if m:
                found["level"].setdefault(m["family"], []).append((row["step"], float(value)))
    order = lambda label: (label != "all", label)  # noqa: E731
    return {stat: [(label, found[stat][label]) for label in sorted(found[stat], key=order)] for stat in found}


def has_group_metrics(rows: list[dict[str, Any]]) -> bool:
    return any(GROUP_TASK.match(key) for row in rows for key in row)


def draw_group_metrics(rows: list[dict[str, Any]], title: str = "") -> Image.Image:
    """The panels of ``plot_group_metrics`` as a PIL image."""
    steps = [row["step"] for row in rows] or [0]
    x_range = (min(steps), max(steps))
    series = group_series(rows)
    width, panel_h = 1000, 260
    img = Image.new("RGB", (width, 40 + 3 * panel_h), "white")
    d = ImageDraw.Draw(img)
    d.text((10, 10), title, fill="black", font=_font(14))
    _panel(d, (10, 40, width - 10, 40 + panel_h), "GRPO groups with zero variance (all n rollouts scored the same)",
           series["zero_var_frac"], x_range, "no videossr_groups/<task>/zero_var_frac in the logs (+adaptive=metrics)",
           y_range=(0.0, 1.0))
    _panel(d, (10, 40 + panel_h, width - 10, 40 + 2 * panel_h), "mean reward of the step's groups",
           series["reward_mean"], x_range, "no videossr_groups/<task>/reward_mean in the logs", y_range=(0.0, 1.0))
    _panel(d, (10, 40 + 2 * panel_h, width - 10, 40 + 3 * panel_h), "difficulty level per family (adaptive)",
           series["level"], x_range, "levels fixed (no videossr_adaptive/<family>/level: +adaptive=levels)")
    return img


def plot_panels(panels: list[tuple[str, list[Series], tuple[float, float] | None]], path: str | Path,
                title: str = "") -> Path:
    """Stacked line charts, one per ``(title, series, y_range)`` (``y_range`` None: fit the data),
    written to ``path`` atomically (``bench/bench_adaptive.py`` draws its simulation with it)."""
    xs = [x for _, series, _ in panels for _, pts in series for x, _ in pts] or [0]
    width, panel_h = 1000, 260
    img = Image.new("RGB", (width, 40 + len(panels) * panel_h), "white")
    d = ImageDraw.Draw(img)
    d.text((10, 10), title, fill="black", font=_font(14))
    for k, (name, series, y_range) in enumerate(panels):
        top = 40 + k * panel_h
        _panel(d, (10, top, width - 10, top + panel_h), name, series, (min(xs), max(xs)), "no data", y_range=y_range)
    return _write_png(img, path)


def plot_group_metrics(rows: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Write the group-statistics PNG (zero-variance fraction and mean reward per task, level per
    family, over steps) to ``path`` atomically."""
    return _write_png(draw_group_metrics(rows, title), path)


# --- command line ------------------------------------------------------------------------------------


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """A few lines for the terminal: attempts, steps, last training reward, last validation scores."""
    attempts = sorted({row["attempt"] for row in rows})
    steps = [row["step"] for row in rows]
    lines = [f"{len(attempts)} attempt(s) in the table: {', '.join(attempts) or '-'}"]
    lines.append(f"{len(steps)} step(s): {min(steps)}..{max(steps)}" if steps else "0 steps logged yet")
    for key in TRAIN_REWARD_KEYS[:1]:
        last = [(row["step"], row[key]) for row in rows if _is_number(row.get(key))]
        lines.append(f"last {key}: {last[-1][1]:.4f} (step {last[-1][0]})" if last else f"no {key} logged")
    val = [(row["step"], validation_scores(row)) for row in rows]
    val = [(step, scores) for step, scores in val if scores]
    if val:
        step, scores = val[-1]
        lines.append(f"last validation (step {step}):")
        lines += [f"  {source:<32} {metric:<14} {value:.4f}" for source, (metric, value) in scores.items()]
    else:
        lines.append("no validation logged")
    zero = [(row["step"], row["videossr_groups/all/zero_var_frac"]) for row in rows
            if _is_number(row.get("videossr_groups/all/zero_var_frac"))]
    if zero:
        lines.append(f"last zero-variance group fraction: {zero[-1][1]:.3f} (step {zero[-1][0]})")
    return lines


def default_out(path: str | Path) -> Path:
    """``RUN_DIR/metrics`` of a run folder, its ``logs`` folder/a file there; else ``<folder>/metrics``."""
    path = Path(path)
    folder = path.parent if path.is_file() else path
    if not (folder / "logs").is_dir() and folder.name == "logs":
        folder = folder.parent
    return folder / "metrics"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, prog="python -m recipes.videossr.metrics",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="RUN_DIR of launch/train.sh, its logs/ or one .jsonl")
    parser.add_argument("--out", type=Path,
                        help="folder for metrics.csv and metrics.png (default: RUN_DIR/metrics)")
    args = parser.parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            files = metric_files(args.run_dir)
            rows = read_run_metrics(args.run_dir)
        except OSError as exc:  # no logs or unreadable: one line, no traceback
            print(f"error: {exc}", file=sys.stderr)
            return 1
    for w in caught:  # one plain line each, without the warnings module's source-line echo
        print(f"warning: {w.message}", file=sys.stderr)
    out = args.out or default_out(args.run_dir)
    csv_path = write_metrics_csv(rows, out / "metrics.csv")
    title = f"{default_out(args.run_dir).parent.name}: {len(files)} metrics file(s)"
    png_path = plot_run_metrics(rows, out / "metrics.png", title=title)
    for line in summary(rows):
        print(line)
    print(f"wrote {csv_path} and {png_path}")
    if has_group_metrics(rows):
        print(f"wrote {plot_group_metrics(rows, out / 'groups.png', title=title)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
