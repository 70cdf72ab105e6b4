"""The VIUBench column layout of the paper's Table 1: 9 subtypes, 3 task averages, Overall.

A column is one ``data_source`` (``videossr/<task>/<subtype>``, see ``rewards.naming``). Overall is
the unweighted mean of the subtype columns (not of the task averages), as in the paper. The columns
are not listed here: each task declares its own (``PretextTask.columns``: subtype and header label,
in table order; ``average_label``), and the paper's layout is the shipped tasks' declarations in
Table 1 order (``data_prep.tasks.registry.SHIPPED``). A fork's table adds its tasks with
``layout(extra=[...])``.

>>> SUBTYPE_COLUMNS[0]
Column(data_source='videossr/counting/easy', label='Cnt-E', task='counting')
>>> [c.label for c in columns_of_task("jigsaw")]
['Jig-6', 'Jig-8']
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple, Optional

from data_prep.tasks.registry import PretextTask, get_task, shipped_tasks


class Column(NamedTuple):
    data_source: str
    label: str  # short header, the paper's abbreviation
    task: str


class Layout(NamedTuple):
    """The columns of one results table: subtype columns, then (task, average header) in task order."""

    columns: tuple[Column, ...]
    averages: tuple[tuple[str, str], ...]


def _task(ref: Any) -> PretextTask:
    return ref if isinstance(ref, PretextTask) else get_task(str(ref))


def layout(tasks: Optional[Iterable[Any]] = None, extra: Iterable[Any] = ()) -> Layout:
    """The table of ``tasks`` (names, import paths or declarations; default: the shipped tasks in
    Table 1 order) followed by the ``extra`` ones; a task that declares no columns is left out.

    >>> [c.label for c in layout(["jigsaw"]).columns], layout(["jigsaw"]).averages
    (['Jig-6', 'Jig-8'], (('jigsaw', 'Jig-Avg'),))
    """
    chosen = [_task(t) for t in (shipped_tasks().values() if tasks is None else tasks)] + [_task(t) for t in extra]
    columns: list[Column] = []
    averages: list[tuple[str, str]] = []
    for task in chosen:
        if not task.columns or any(name == task.name for name, _ in averages):
            continue
        columns += [Column(task.data_source(subtype), label, task.name) for subtype, label in task.columns]
        averages.append((task.name, task.avg_label))
    return Layout(tuple(columns), tuple(averages))


PAPER = layout()
SUBTYPE_COLUMNS: tuple[Column, ...] = PAPER.columns
# Task order and the header of each task-average column.
TASK_AVERAGES: tuple[tuple[str, str], ...] = PAPER.averages
OVERALL = "Overall"


def evaluated_layout(sources: Iterable[tuple[str, Any]], base: Layout = PAPER) -> Layout:
    """``base`` (Table 1), then a column for every evaluated data source it lacks.

    ``sources``: ``(data_source, extra_info)`` of the evaluated rows (a fork's rows name their task
    module in ``extra_info``, see ``rewards.scoring.resolve_task``). A task outside ``base`` gets its
    declared columns (labels, order, average) for the subtypes that were evaluated, and a column
    named ``task/subtype`` for any other; subtypes of a ``base`` task that ``base`` has no column
    for are grouped apart (``<avg label>+``), so Table 1's task averages keep their meaning. Every
    column counts towards Overall, as ``layout(extra=...)`` does.

    >>> extra = evaluated_layout([("videossr/jigsaw/n4", {}), ("videossr/jigsaw/n6", {})])
    >>> [c.label for c in extra.columns][-1:], extra.averages[-1]
    (['jigsaw/n4'], ('jigsaw+', 'Jig-Avg+'))
    >>> evaluated_layout([("videossr/jigsaw/n6", {})]) == PAPER
    True
    """
    from rewards.scoring import resolve_task

    known = {c.data_source for c in base.columns}
    base_tasks = {name for name, _ in base.averages}
    extra: dict[str, tuple[PretextTask, dict[str, str]]] = {}  # group -> (task, data_source -> subtype)
    for data_source, info in sources:
        if data_source in known:
            continue
        task, subtype = resolve_task(data_source, info if isinstance(info, dict) else {})
        group = f"{task.name}+" if task.name in base_tasks else task.name
        extra.setdefault(group, (task, {}))[1].setdefault(data_source, subtype)
    if not extra:
        return base
    columns, averages = list(base.columns), list(base.averages)
    for group in sorted(extra):
        task, evaluated = extra[group]
        declared = [] if group.endswith("+") else [(sub, label) for sub, label in task.columns]
        by_source = {task.data_source(sub): label for sub, label in declared}
        ordered = [task.data_source(sub) for sub, _ in declared if task.data_source(sub) in evaluated]
        ordered += sorted(ds for ds in evaluated if ds not in ordered)
        columns += [Column(ds, by_source.get(ds, f"{task.name}/{evaluated[ds]}"), group) for ds in ordered]
        averages.append((group, f"{task.avg_label}+" if group.endswith("+") else task.avg_label))
    return Layout(tuple(columns), tuple(averages))


def columns_of_task(task: str, table: Layout = PAPER) -> list[Column]:
    """The subtype columns of one task, in table order.

    >>> len(columns_of_task("grounding"))
    5
    """
    return [c for c in table.columns if c.task == task]


def table_headers(table: Layout = PAPER) -> list[str]:
    """All metric headers in table order: each task's subtypes then its average, then Overall.

    >>> table_headers()[:3]
    ['Cnt-E', 'Cnt-H', 'Cnt-Avg']
    """
    headers: list[str] = []
    for task, avg_label in table.averages:
        headers += [c.label for c in columns_of_task(task, table)] + [avg_label]
    return headers + [OVERALL]
