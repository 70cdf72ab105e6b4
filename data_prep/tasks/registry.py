"""One declaration per pretext task, and the registry every layer reads it from.

A task is one :class:`PretextTask`: its generator (``make_sample``), its reward (parse an answer,
grade it: ``rewards.tasks.base.Reward``), its subtypes, the options a mix may override (with their
defaults), its question text and its VIUBench columns, declared next to each other in one module
that ends with ``TASK = PretextTask(...)``. Everything else reads that declaration: the builder
(``data_prep.build``, ``data_prep.builders``), mix validation, the reward router
(``rewards.scoring``), the priors, and the evaluation tables (``recipes.videossr.eval.columns``).

Layers (imports only point down)::

    recipes/, eval            recipes.videossr.*, recipes.videossr.eval.*
    build and rewards         data_prep.build, data_prep.builders.*, rewards.scoring, rewards.priors,
                              rewards.verl_reward
    tasks                     data_prep.tasks.registry (this module), data_prep.tasks.<name>,
                              rewards.tasks.<name> (the reward halves of the shipped tasks)
    bottom                    data_prep.schema, data_prep.jsonl, rewards.naming, rewards.tasks.base

Naming a task: the shipped ones by name (``grounding``, ``counting``, ``jigsaw``); any other by
import path (``my_lab.tasks.arrow_of_time``: the module's ``TASK``; ``pkg.mod:ATTR`` for another
attribute). A mix entry ``task:`` takes either; the rows then carry the short name in their
``data_source`` (``videossr/<name>/<subtype>``) and the import path in ``extra_info.meta``
(``task_module``; shipped tasks' rows are unchanged), so any process that reads a row (verl's reward
worker, the evaluation) finds the task without configuration. ``$VIDEOSSR_TASKS`` (comma-separated
import paths) and the reward option ``tasks`` register tasks up front, for rows that lack it.

>>> {"counting", "grounding", "jigsaw"} <= set(shipped_tasks())
True
>>> get_task("counting").subtypes["hard"]
'hard'
"""

from __future__ import annotations

import copy
import importlib
import json
import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping, Optional

from rewards.naming import make_data_source
from rewards.tasks.base import Reward

# The shipped tasks (modules data_prep.tasks.<name>), in the order of the paper's Table 1.
SHIPPED = ("counting", "grounding", "jigsaw")
ENV_VAR = "VIDEOSSR_TASKS"
META_KEY = "task_module"  # extra_info.meta key naming a non-shipped task's import path

_REGISTRY: dict[str, "PretextTask"] = {}


@dataclass(frozen=True)
class PretextTask:
    """Everything about one pretext task, in one place.

    Fields:
      name             the ``<task>`` of ``videossr/<task>/<subtype>`` (lowercase [a-z0-9_])
      subtypes         subtype -> difficulty (``easy`` | ``hard`` | ``standard``, ...)
      default_subtype  the subtype of a mix entry that names none
      make_sample      (SampleSpec, TaskContext) -> one verl row (``data_prep.tasks.base.make_row``)
      reward           ``rewards.tasks.base.Reward``: parse_answer + grade (the rest has defaults)
      options          option -> default; a mix may override them (``options: {<task>: {...}}``)
      check_options    params -> None, raises ``ValueError`` on a bad value (ranges, choices)
      question         subtype -> the question text the rows ask (documentation, previews, tests)
      columns          VIUBench columns: ((subtype, header label), ...) in table order
      average_label    header of the task-average column (default ``<Name>-Avg``)
      accepts_subtype  subtype -> bool, for subtypes beyond ``subtypes`` (jigsaw ``n2`` .. ``n9``)
      needs_partner    subtype -> bool: the sample needs a second video (``SampleSpec.partner_video_id``)
      module           set by the registry: import path of a non-shipped task ("" when shipped)
    """

    name: str
    subtypes: Mapping[str, str]
    default_subtype: str
    make_sample: Callable[..., dict]
    reward: Reward
    options: Mapping[str, Any] = field(default_factory=dict)
    check_options: Optional[Callable[[Mapping[str, Any]], None]] = None
    question: Optional[Callable[[str], str]] = None
    columns: tuple[tuple[str, str], ...] = ()
    average_label: str = ""
    accepts_subtype: Optional[Callable[[str], bool]] = None
    needs_partner: Optional[Callable[[str], bool]] = None
    module: str = ""

    def __post_init__(self) -> None:
        make_data_source(self.name, self.default_subtype)  # raises on a name unfit for data_source
        if self.default_subtype not in self.subtypes:
            raise ValueError(f"task {self.name!r}: default_subtype {self.default_subtype!r} not in its subtypes")
        for subtype, _ in self.columns:
            if not self.has_subtype(subtype):
                raise ValueError(f"task {self.name!r}: column subtype {subtype!r} is not one of its subtypes")

    @property
    def avg_label(self) -> str:
        """The task-average column's header.

        >>> get_task("jigsaw").avg_label
        'Jig-Avg'
        """
        return self.average_label or f"{self.name.replace('_', ' ').title().replace(' ', '')}-Avg"

    def has_subtype(self, subtype: str) -> bool:
        return subtype in self.subtypes or bool(self.accepts_subtype and self.accepts_subtype(subtype))

    def data_source(self, subtype: str) -> str:
        return make_data_source(self.name, subtype)

    def effective_options(self, build_options: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
        """The declared defaults with a build's ``options[<name>]`` merged over them (key by key).

        >>> get_task("grounding").effective_options({"grounding": {"segment_length": [4, 6]}})["segment_length"]
        [4, 6]
        >>> get_task("counting").effective_options({"counting": {"levels": {"hard": [5, 5]}}})["levels"]["easy"]
        (3, 3)
        """
        merged = copy.deepcopy(dict(self.options))
        _merge(merged, (build_options or {}).get(self.name) or {})
        return merged

    def options_in(self, ctx: Any) -> dict[str, Any]:
        """This task's effective options in a build (``TaskContext.options``), for ``make_sample``."""
        return self.effective_options(ctx.options)

    def option_problems(self, params: Any) -> list[str]:
        """Why a mix's ``options.<name>`` mapping is invalid (empty: valid); names the known options."""
        if params is None:
            return []
        if not isinstance(params, Mapping):
            return [f"must map option names {sorted(self.options)} to values, got {params!r}"]
        unknown = sorted(set(params) - set(self.options))
        if unknown:
            return [f"unknown {unknown} (known: {sorted(self.options)})"]
        if self.check_options is not None:
            try:
                self.check_options(params)
            except ValueError as err:
                return [str(err)]
        return []


def _merge(base: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            base[key] = dict(base[key])
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def register_task(task: PretextTask, module: str = "") -> PretextTask:
    """Add ``task`` to this process's registry (idempotent); a second task under a taken name raises."""
    known = _REGISTRY.get(task.name)
    if known is not None:
        if known is task or (module and known.module == module) or known.make_sample is task.make_sample:
            return known
        where = known.module or f"data_prep.tasks.{known.name}"
        raise ValueError(f"task name {task.name!r} is taken by {where}; rename the task in {module or task}")
    if task.name in SHIPPED and module:
        raise ValueError(f"task name {task.name!r} is a shipped task's; rename the task in {module}")
    task = replace(task, module=module) if module else task
    _REGISTRY[task.name] = task
    return task


def _import_task(path: str) -> PretextTask:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"cannot import task module {module_name!r}: {err}") from None
    task = getattr(module, attr or "TASK", None)
    if not isinstance(task, PretextTask):
        raise ValueError(f"{path!r} must define {attr or 'TASK'} = PretextTask(...) (data_prep.tasks.registry)")
    if module_name == f"data_prep.tasks.{task.name}" and task.name in SHIPPED and not attr:
        return register_task(task)
    return register_task(task, module=path)


def get_task(ref: str) -> PretextTask:
    """The task named ``ref``: a shipped or registered name, or an import path (imported once).

    ``ValueError`` listing the known tasks otherwise.

    >>> get_task("jigsaw").default_subtype
    'n6'
    """
    if not isinstance(ref, str) or not ref:
        raise ValueError(f"a task is named by a string, got {ref!r}")
    if ref in _REGISTRY:
        return _REGISTRY[ref]
    if ref in SHIPPED:
        return _import_task(f"data_prep.tasks.{ref}")
    if "." in ref or ":" in ref:
        return _import_task(ref)
    register_env_tasks()
    if ref in _REGISTRY:
        return _REGISTRY[ref]
    raise ValueError(
        f"unknown task {ref!r}; known: {sorted(set(SHIPPED) | set(_REGISTRY))} "
        "(or name a task by import path, e.g. my_lab.tasks.arrow_of_time)"
    )


def register_tasks(paths: Iterable[str] | str | None) -> list[PretextTask]:
    """Register tasks by import path (a list, or one comma-separated string); returns them."""
    if paths is None:
        return []
    items = paths.split(",") if isinstance(paths, str) else list(paths)
    return [get_task(str(p).strip()) for p in items if str(p).strip()]


def register_env_tasks() -> list[PretextTask]:
    """Register the tasks ``$VIDEOSSR_TASKS`` names (comma-separated import paths)."""
    return register_tasks(os.environ.get(ENV_VAR, ""))


def find_task(name: str, extra_info: Optional[Mapping[str, Any]] = None) -> Optional[PretextTask]:
    """The task a row names: by ``name``, else the import path in its ``extra_info.meta``, else
    ``$VIDEOSSR_TASKS``; ``None`` when none of them gives a task called ``name``.

    >>> find_task("grounding").name, find_task("arrow_of_time") is None
    ('grounding', True)
    """
    if name in _REGISTRY or name in SHIPPED:
        return get_task(name)
    path = row_task_module(extra_info)
    if path:
        task = get_task(path)
        if task.name == name:
            return task
    register_env_tasks()
    return _REGISTRY.get(name)


def row_task_module(extra_info: Optional[Mapping[str, Any]]) -> str:
    """The import path a row's ``extra_info.meta`` records for its task ("" for shipped tasks)."""
    meta = extra_info.get("meta") if isinstance(extra_info, Mapping) else None
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            return ""
    value = meta.get(META_KEY) if isinstance(meta, Mapping) else None
    return value if isinstance(value, str) else ""


def shipped_tasks() -> dict[str, PretextTask]:
    """The tasks this repository ships, in Table 1 order."""
    return {name: get_task(name) for name in SHIPPED}


def known_tasks() -> dict[str, PretextTask]:
    """Shipped tasks then every task registered in this process (by import path or env)."""
    tasks = shipped_tasks()
    return tasks | {name: task for name, task in _REGISTRY.items() if name not in tasks}
