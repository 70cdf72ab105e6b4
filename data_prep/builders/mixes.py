"""Mix files: a small YAML that says which samples a build contains (no code edit needed).

Example (``data_prep/mixes/example.yaml``)::

    name: my_mix              # output file: <name>.parquet unless `output` is given
    split: train              # train: training videos, "train" frame tier, 256*256 pixels
                              # eval: VIUBench videos, "eval" tier, 512*512 pixels
    videos: disjoint          # disjoint: one sample per video, no video used twice (training)
                              # per_entry: videos distinct within an entry, reused across entries
    uniform: false            # true: uniform answer distributions (see the task modules)
    profile: paper            # generator profile: paper (released generators) | verified
    validation_slice: 32      # optional: also write <name>_val.parquet, the first 32 rows of each
                              # subtype (the recipes' training-time validation set)
    entries:                  # count = proportions for `disjoint` mixes (scaled to the videos
      - {task: grounding, subtype: mirror, count: 100}      # available and to --size),
      - {task: counting, difficulty: hard, count: 50}       # exact numbers for `per_entry` mixes
      - {task: jigsaw, subtype: n8, count: 50}              # (or --per-subtype for each)

``subtype`` or ``difficulty`` names the variant (counting: easy/hard; jigsaw: easy=n6, hard=n8;
grounding: the perturbation).

Graded entries (beyond the paper; the difficulty ladders each task declares, ``PretextTask.levels``,
see ``data_prep.tasks.registry``): ``levels: all`` (or a list of level numbers) expands one entry
into one entry per level, its ``count`` split evenly over them (largest remainder), each naming
the graded subtype of its level::

      - {task: grounding, subtype: mirror, levels: all, count: 400}   # mirror_l0 .. mirror_l3
      - {task: counting, levels: [0, 1, 2], count: 300}              # l0, l1 (= easy), l2 (= hard)
      - {task: jigsaw, subtype: l5, count: 50}                       # one level by its graded name

The rows then carry their level (``extra_info.difficulty`` = ``l<k>``, ``extra_info.meta.level``);
``data_prep/mixes/videossr_graded.yaml`` is VideoSSR-30K's mix with every level of every entry. ``task`` is a shipped task's name or any task's import path
(``my_lab.tasks.arrow_of_time``: a module ending with ``TASK = PretextTask(...)``, see
``data_prep.tasks.registry``); rows and options use the task's short name.

Generator parameters (the options each task declares, ``PretextTask.options``, with their
defaults; a profile, ``data_prep/profiles.py``, presets some; every one documented in its task or
perturbation module) may be overridden per mix, and are recorded in the build's options and
dataset card::

    options:
      grounding: {segment_length: [8, 16], perturbation_args: {noise: {sigma: [35, 70]}, slow: {factor: 2}}}
      # grounding also takes temporal_segment_length: [6, 8] (slow/fast/stutter_hold/shuffle only; null: segment_length)
      counting: {levels: {easy: [3, 3], hard: [4, 4]}, size: [0.2, 0.4], central: 0.7, min_frame_gap: 9,
                 placement: released}
      jigsaw: {clip_frames: null}   # frames kept per clip (null: all of its 48 // n)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from data_prep.builders.splits import SPLITS
from data_prep.profiles import DEFAULT_PROFILE, check_profile
from data_prep.tasks import get_task, known_tasks

ENTRY_KEYS = ("task", "subtype", "difficulty", "count", "levels")

MIX_DIR = Path(__file__).resolve().parent.parent / "mixes"
VIDEO_MODES = ("disjoint", "per_entry")


@dataclass(frozen=True)
class MixEntry:
    task: str
    subtype: str
    count: int


@dataclass(frozen=True)
class Mix:
    name: str
    split: str
    videos: str
    entries: tuple[MixEntry, ...]
    output: str
    uniform: bool = False
    profile: str = DEFAULT_PROFILE  # generator profile (data_prep.profiles): paper | verified
    size: Optional[int] = None  # default cap on the total (disjoint mixes)
    source: str = ""  # file it was read from
    options: dict[str, Any] = field(default_factory=dict)  # generator parameters, by task (see below)
    # Rows per data source copied into <stem>_val.parquet, the training-time validation set
    # (None: no slice). A slice of the built rows, so it never changes the rows themselves.
    validation_slice: Optional[int] = None


def builtin_mixes() -> list[str]:
    """Names of the mixes shipped in ``data_prep/mixes``.

    >>> "videossr30k" in builtin_mixes() and "viubench" in builtin_mixes()
    True
    """
    return sorted(p.stem for p in MIX_DIR.glob("*.yaml"))


def load_mix(name_or_path: str | os.PathLike) -> Mix:
    """A built-in mix by name (``videossr30k``, ``viubench``, ``example``) or a YAML file path."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = MIX_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            raise ValueError(
                f"unknown recipe {name_or_path!r}; built-in: {builtin_mixes()} (or pass a YAML path)"
            )
    if not path.exists():
        raise FileNotFoundError(f"mix file {path} not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from None
    return parse_mix(data, source=str(path))


def parse_mix(data: Any, source: str = "<mix>") -> Mix:
    """Validate a mix mapping; every error names the file and the entry."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a mix is a mapping with name, split, entries")
    known = {"name", "split", "videos", "uniform", "profile", "size", "entries", "output", "description", "options",
             "validation_slice"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{source}: unknown keys {unknown} (known: {sorted(known)})")
    name = str(data.get("name") or Path(source).stem)
    split = data.get("split", "train")
    if split not in SPLITS:
        raise ValueError(f"{source}: split must be one of {SPLITS}, got {split!r}")
    videos = data.get("videos", "disjoint")
    if videos not in VIDEO_MODES:
        raise ValueError(f"{source}: videos must be one of {VIDEO_MODES}, got {videos!r}")
    entries = []
    for i, item in enumerate(data.get("entries") or []):
        where = f"{source}: entries[{i}]"
        if not isinstance(item, dict) or "task" not in item:
            raise ValueError(f"{where}: needs at least task and count")
        unknown_keys = sorted(set(item) - set(ENTRY_KEYS))
        if unknown_keys:
            raise ValueError(f"{where}: unknown keys {unknown_keys} (known: {list(ENTRY_KEYS)})")
        try:
            task = get_task(item["task"])
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        subtype = item.get("subtype")
        if subtype is None and "difficulty" in item:
            matches = [s for s, level in task.subtypes.items() if level == item["difficulty"]]
            if len(matches) != 1:
                raise ValueError(
                    f"{where}: difficulty {item['difficulty']!r} does not name one {task.name} subtype"
                )
            subtype = matches[0]
        count = item.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"{where}: count must be a non-negative integer, got {count!r}")
        if "levels" in item:
            entries += _graded_entries(task, subtype, item["levels"], count, where)
            continue
        subtype = str(subtype or task.default_subtype)
        if not task.has_subtype(subtype):
            raise ValueError(
                f"{where}: unknown {task.name} subtype {subtype!r}; known: {sorted(task.subtypes)}"
            )
        entries.append(MixEntry(task.name, subtype, count))
    if not entries:
        raise ValueError(f"{source}: no entries")
    if len({(e.task, e.subtype) for e in entries}) != len(entries):
        raise ValueError(f"{source}: an entry (task, subtype) appears twice; merge the counts")
    options = _parse_options(data.get("options") or {}, source)
    size = data.get("size")
    validation_slice = data.get("validation_slice")
    if validation_slice is not None and (
        not isinstance(validation_slice, int) or isinstance(validation_slice, bool) or validation_slice < 1
    ):
        raise ValueError(f"{source}: validation_slice must be a positive integer (rows per subtype), "
                         f"got {validation_slice!r}")
    try:
        profile = check_profile(str(data.get("profile", DEFAULT_PROFILE)))
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None
    return Mix(
        name=name,
        split=split,
        videos=videos,
        entries=tuple(entries),
        output=str(data.get("output") or f"{name}.parquet"),
        uniform=bool(data.get("uniform", False)),
        profile=profile,
        size=int(size) if size is not None else None,
        source=source,
        options=options,
        validation_slice=validation_slice,
    )


def _graded_entries(task: Any, subtype: Any, levels: Any, count: int, where: str) -> list[MixEntry]:
    """One entry per level of ``levels`` (``all`` or a list of level numbers), ``count`` split evenly."""
    if not task.levels:
        raise ValueError(f"{where}: task {task.name!r} declares no difficulty levels")
    ladder = list(range(len(task.levels)))
    if levels == "all":
        chosen = ladder
    elif (isinstance(levels, list) and levels and len(set(levels)) == len(levels)
          and all(isinstance(k, int) and not isinstance(k, bool) and k in ladder for k in levels)):
        chosen = sorted(levels)
    else:
        raise ValueError(f"{where}: levels must be 'all' or a list of distinct level numbers in {ladder}, "
                         f"got {levels!r}")
    if task.levels_set_subtype and subtype is not None:
        raise ValueError(f"{where}: {task.name}'s levels set the subtype (l0..l{ladder[-1]}); give no subtype")
    base = "" if task.levels_set_subtype else str(subtype or task.default_subtype)
    if base and not task.has_subtype(base):
        raise ValueError(f"{where}: unknown {task.name} subtype {base!r}; known: {sorted(task.subtypes)}")
    from data_prep.builders.plan import allocate  # plan imports this module

    counts = allocate([1] * len(chosen), count)
    return [MixEntry(task.name, task.graded_subtype(k, base), n) for k, n in zip(chosen, counts)]


def _parse_options(options: Any, source: str) -> dict[str, Any]:
    """``options:`` validated against each task's declared options; keys become task names."""
    if not isinstance(options, dict):
        raise ValueError(f"{source}: options must map task names {sorted(known_tasks())} to parameters")
    parsed: dict[str, Any] = {}
    for key, params in options.items():
        try:
            task = get_task(str(key))
        except ValueError:
            raise ValueError(
                f"{source}: options must map task names {sorted(known_tasks())} (or a task's import path) "
                f"to parameters, got {key!r}"
            ) from None
        problems = task.option_problems(params)
        if problems:
            raise ValueError(f"{source}: options.{task.name}: {problems[0]}")
        parsed[task.name] = params
    return parsed
