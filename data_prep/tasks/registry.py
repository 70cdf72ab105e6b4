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

Difficulty levels (beyond the paper; ``recipes.videossr.adaptive`` chooses among them during
training): a task may declare ``levels``, an ordered ladder of :class:`Level` (easiest first) built
from its own knobs. A *graded subtype* names one rung: ``"<subtype>_l<k>"`` for a task whose
subtypes are kinds (grounding: ``mirror_l2``), ``"l<k>"`` for a task whose subtype is itself the
difficulty (counting, jigsaw). A mix entry names a graded subtype (or ``levels: all``, see
``data_prep.builders.mixes``); ``make_sample`` then generates with the level's options over the
build's, the row keeps an ordinary ``data_source`` (the level's own subtype, or the entry's), and
carries its level in ``extra_info.difficulty`` (``"l<k>"``) and ``extra_info.meta`` (``level``,
``level_name``, ``level_family``). Rows of the paper's subtypes are unchanged.

>>> {"counting", "grounding", "jigsaw"} <= set(shipped_tasks())
True
>>> get_task("counting").subtypes["hard"]
'hard'
>>> get_task("grounding").parse_graded("mirror_l2"), get_task("jigsaw").row_subtype("l0")
(('mirror', 2), 'n4')
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping, Optional

from rewards.naming import make_data_source
from rewards.tasks.base import Reward

# The shipped tasks (modules data_prep.tasks.<name>), in the order of the paper's Table 1.
SHIPPED = ("counting", "grounding", "jigsaw")
ENV_VAR = "VIDEOSSR_TASKS"
META_KEY = "task_module"  # extra_info.meta key naming a non-shipped task's import path
# extra_info.meta keys of a graded row (absent from the rows of the paper's subtypes)
LEVEL_KEY, LEVEL_NAME_KEY, LEVEL_FAMILY_KEY = "level", "level_name", "level_family"
_GRADED = re.compile(r"^(?:(?P<base>[a-z0-9][a-z0-9_]*)_)?l(?P<k>\d+)$")

_REGISTRY: dict[str, "PretextTask"] = {}


@dataclass(frozen=True)
class Level:
    """One rung of a task's difficulty ladder.

    Fields:
      name     short label (docs, metrics, ``extra_info.meta.level_name``), e.g. ``"F3xK3"``
      options  the task's options at this level, merged over the build's (key by key)
      subtype  the rows' subtype at this level, for tasks whose subtype is the difficulty
               (jigsaw ``n4``; counting ``easy``); "" keeps the entry's subtype (grounding's
               perturbation)
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    subtype: str = ""


class GradedSampler:
    """``make_sample`` of a task with levels: a graded subtype generates at its level.

    Any other subtype goes to the task's own generator unchanged (the paper's rows stay
    byte-identical). A graded one: the spec's subtype becomes the level's row subtype, the level's
    options are merged over the build's for this task, and the row records its level.
    """

    def __init__(self, inner: Callable[..., dict], task: "PretextTask"):
        self.inner, self.task = inner, task
        self.__doc__ = getattr(inner, "__doc__", None)

    def __call__(self, spec: Any, ctx: Any) -> dict:
        task = self.task
        parsed = task.parse_graded(spec.subtype)
        if parsed is None:
            return self.inner(spec, ctx)
        base, k = parsed
        level = task.levels[k]
        options = dict(ctx.options)
        merged = copy.deepcopy(dict(options.get(task.name) or {}))
        _merge(merged, level.options)
        options[task.name] = merged
        row = self.inner(replace(spec, subtype=level.subtype or base), dataclasses.replace(ctx, options=options))
        extra = row["extra_info"]
        meta = json.loads(extra["meta"])
        meta.update({LEVEL_KEY: k, LEVEL_NAME_KEY: level.name, LEVEL_FAMILY_KEY: level_family(task.name, base)})
        extra["difficulty"] = f"l{k}"
        extra["meta"] = json.dumps(meta, sort_keys=True, separators=(",", ":"))
        return row


def level_family(task: str, base: str = "") -> str:
    """The control unit a graded row belongs to: the task, or ``<task>/<subtype>`` for a task whose
    subtypes are kinds (each grounding perturbation climbs its own ladder).

    >>> level_family("grounding", "mirror"), level_family("jigsaw")
    ('grounding/mirror', 'jigsaw')
    """
    return f"{task}/{base}" if base else task


def parse_graded_subtype(subtype: str, levels: tuple[Level, ...], task: "Optional[PretextTask]" = None):
    """``(base, k)`` of a graded subtype of a task with these ``levels``, else ``None``."""
    if not levels or not isinstance(subtype, str):
        return None
    match = _GRADED.match(subtype)
    if match is None or int(match["k"]) >= len(levels):
        return None
    base, k = match["base"] or "", int(match["k"])
    by_subtype = all(level.subtype for level in levels)
    if by_subtype != (base == ""):
        return None
    if base and task is not None and not task._has_plain_subtype(base):
        return None
    return base, k


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
      levels           difficulty ladder, easiest first (:class:`Level`); () = none (module docstring)
      default_level    the rung that reproduces the paper's setting (the adaptive run starts there)
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
    levels: tuple[Level, ...] = ()
    default_level: int = 0
    module: str = ""

    def __post_init__(self) -> None:
        make_data_source(self.name, self.default_subtype)  # raises on a name unfit for data_source
        if self.default_subtype not in self.subtypes:
            raise ValueError(f"task {self.name!r}: default_subtype {self.default_subtype!r} not in its subtypes")
        for subtype, _ in self.columns:
            if not self.has_subtype(subtype):
                raise ValueError(f"task {self.name!r}: column subtype {subtype!r} is not one of its subtypes")
        if self.levels:
            if not 0 <= self.default_level < len(self.levels):
                raise ValueError(f"task {self.name!r}: default_level {self.default_level} is not one of its "
                                 f"{len(self.levels)} levels")
            if len({bool(level.subtype) for level in self.levels}) != 1:
                raise ValueError(f"task {self.name!r}: either every level names its subtype or none does")
            for level in self.levels:
                if level.subtype and not self._has_plain_subtype(level.subtype):
                    raise ValueError(f"task {self.name!r}: level {level.name!r} names unknown subtype "
                                     f"{level.subtype!r}")
            if not isinstance(self.make_sample, GradedSampler):  # dataclasses.replace keeps the wrapper
                object.__setattr__(self, "make_sample", GradedSampler(self.make_sample, self))

    @property
    def avg_label(self) -> str:
        """The task-average column's header.

        >>> get_task("jigsaw").avg_label
        'Jig-Avg'
        """
        return self.average_label or f"{self.name.replace('_', ' ').title().replace(' ', '')}-Avg"

    def has_subtype(self, subtype: str) -> bool:
        """A declared subtype, one ``accepts_subtype`` admits, or a graded one (``mirror_l2``, ``l3``)."""
        return self._has_plain_subtype(subtype) or self.parse_graded(subtype) is not None

    def _has_plain_subtype(self, subtype: str) -> bool:
        return subtype in self.subtypes or bool(self.accepts_subtype and self.accepts_subtype(subtype))

    # -- difficulty levels (module docstring) --------------------------------------------------------
    @property
    def levels_set_subtype(self) -> bool:
        """True when each level names the rows' subtype (counting, jigsaw): graded subtypes are ``l<k>``."""
        return bool(self.levels) and all(level.subtype for level in self.levels)

    def parse_graded(self, subtype: str) -> Optional[tuple[str, int]]:
        """``(base subtype, level)`` of a graded subtype, ``None`` for any other.

        >>> get_task("counting").parse_graded("l3"), get_task("counting").parse_graded("easy")
        (('', 3), None)
        """
        return parse_graded_subtype(subtype, self.levels, self)

    def graded_subtype(self, k: int, base: str = "") -> str:
        """The subtype naming level ``k`` (of ``base``, for a task whose subtypes are kinds).

        >>> get_task("grounding").graded_subtype(0, "mirror"), get_task("jigsaw").graded_subtype(5)
        ('mirror_l0', 'l5')
        """
        if not 0 <= k < len(self.levels):
            raise ValueError(f"task {self.name!r} has levels 0..{len(self.levels) - 1}, got {k!r}")
        if self.levels_set_subtype:
            if base:
                raise ValueError(f"task {self.name!r}: its levels set the subtype; name none (got {base!r})")
            return f"l{k}"
        base = base or self.default_subtype
        if not self._has_plain_subtype(base):
            raise ValueError(f"task {self.name!r}: unknown subtype {base!r}")
        return f"{base}_l{k}"

    def row_subtype(self, subtype: str) -> str:
        """The subtype a row of this (possibly graded) subtype carries in its ``data_source``."""
        parsed = self.parse_graded(subtype)
        if parsed is None:
            return subtype
        base, k = parsed
        return self.levels[k].subtype or base

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
        for key in sorted(params):
            problem = _type_problem(params[key], self.options[key], key)
            if problem:
                return [problem]
        if self.check_options is not None:
            try:
                self.check_options(params)
            except ValueError as err:
                return [str(err)]
        return []


def _kind(value: Any) -> str:
    """The YAML kind of a value: number, bool, text, list or mapping (None: any)."""
    if value is None:
        return "any"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "mapping"
    return type(value).__name__


def _type_problem(value: Any, default: Any, where: str) -> str:
    """Why ``value`` cannot stand where the declared default is ``default`` ("" when it can).

    Every task's option defaults declare their kinds, so a mix's ``p_backward: abc`` is refused
    when the mix is read, not as an error in every sample of the build.

    >>> _type_problem("abc", 0.5, "p_backward")
    "p_backward must be a number (like the default 0.5), got 'abc'"
    >>> _type_problem([4, 6], (8, 16), "segment_length"), _type_problem({"hard": [5, 5]}, {"easy": (3, 3)}, "levels")
    ('', '')
    """
    want, got = _kind(default), _kind(value)
    if want == "any" or value is None:
        return ""
    if want != got:
        return f"{where} must be a {want} (like the default {default!r}), got {value!r}"
    if want == "list" and default:
        first = default[0]
        if all(_kind(d) == _kind(first) for d in default):
            for k, item in enumerate(value):
                problem = _type_problem(item, first, f"{where}[{k}]")
                if problem:
                    return problem
    if want == "mapping":
        for key in value:
            if key in default:
                problem = _type_problem(value[key], default[key], f"{where}.{key}")
                if problem:
                    return problem
            elif default:  # a new key (a new level, a perturbation's arguments): like its siblings
                kinds = {_kind(v) for v in default.values()}
                if len(kinds) == 1:
                    problem = _type_problem(value[key], next(iter(default.values())), f"{where}.{key}")
                    if problem:
                        return problem
    return ""


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
