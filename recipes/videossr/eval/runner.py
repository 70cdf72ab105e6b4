"""The loop shared by every benchmark: skip finished questions, generate in batches, score, record.

A benchmark turns its data into ``EvalSample`` objects and supplies a ``score(sample, output)``
function; this module guarantees the accounting: every sample ends as exactly one record
(see ``samples.py`` for the statuses), a failing batch is retried item by item so one bad
question cannot take its neighbours down, and a killed run resumes where it stopped.
Missing inputs stop the run before the model loads (``MissingInputs``: the count, the first path
and the fix), unless the caller asks to score them 0 (``missing_as_zero``, ``--score-missing-as-zero``).

>>> sample = EvalSample(id="q1", group="demo", messages=[], media=[], answer="A", prompt="Q?")
>>> sample.id
'q1'
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple

from recipes.videossr.eval.backends.base import Backend
from recipes.videossr.eval.samples import ERROR, MISSING_VIDEO, OK, UNPARSABLE, SampleStore


@dataclass(frozen=True)
class EvalSample:
    id: str  # unique within the benchmark; the resume key
    group: str  # the table column it counts towards (VIUBench: data_source)
    messages: list[dict[str, Any]]  # chat conversation handed to the backend
    media: list[str]  # files that must exist before the question is asked
    answer: str  # ground truth, as the scorer expects it
    prompt: str  # the question text, kept in the record for reading
    fields: dict[str, Any] = field(default_factory=dict)  # extra record fields (subtype, ...)
    context: dict[str, Any] = field(default_factory=dict)  # for the scorer only, not recorded


class Scored(NamedTuple):
    metric: float  # in [0, 1]
    parsed: Any  # the parsed answer; None when the output could not be parsed
    extra: dict[str, Any] = {}


Scorer = Callable[[EvalSample, str], Scored]
MISSING_OPTION = "--score-missing-as-zero"


class MissingInputs(ValueError):
    """Some questions' input files do not exist: a result over them would be zeros, not a score."""


def _record(sample: EvalSample, status: str, metric: float, output: str | None, parsed: Any, error: str, extra=None):
    return {
        "id": sample.id,
        "group": sample.group,
        **sample.fields,
        "prompt": sample.prompt,
        "answer": sample.answer,
        "output": output,
        "parsed": parsed,
        "metric": float(metric),
        "status": status,
        "error": error,
        **(extra or {}),
    }


def missing_media(sample: EvalSample) -> list[str]:
    return [m for m in sample.media if not os.path.isfile(m)]


def _generate_isolated(backend: Backend, batch: list[EvalSample]) -> list[tuple[str | None, str]]:
    """(output, error) per sample: the whole batch at once, else one by one to isolate failures."""
    try:
        outputs = list(backend.generate([s.messages for s in batch]))
        if len(outputs) != len(batch):
            # zip() below would drop the unanswered samples without a record, or pair answers
            # with the wrong questions: a failed batch instead, retried one by one.
            raise RuntimeError(
                f"the backend returned {len(outputs)} output(s) for {len(batch)} conversation(s)"
            )
        return [(o, "") for o in outputs]
    except Exception as exc:  # noqa: BLE001 -- any failure becomes an "error" record, never a crash
        if len(batch) == 1:
            return [(None, f"{type(exc).__name__}: {exc}")]
    return [_generate_isolated(backend, [s])[0] for s in batch]


def run_samples(
    samples: Iterable[EvalSample],
    backend_factory: Callable[[], Backend],
    store: SampleStore,
    score: Scorer,
    batch_size: int = 8,
    progress: bool = True,
    missing_as_zero: bool = False,
    missing_hint: Callable[[str], str] | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every sample not already in ``store``; return all records in sample order.

    ``backend_factory`` is called only when some sample still needs the model, so a finished
    run re-renders its tables without loading the model; the store binds its folder after it
    loaded (``SampleStore.bind``). Samples whose media are missing raise ``MissingInputs`` before
    anything else (``missing_hint(path)``: how to bring them back), unless ``missing_as_zero``:
    then they are recorded as ``missing_video`` with metric 0.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    samples = list(samples)
    ids = [s.id for s in samples]
    if len(set(ids)) != len(ids):
        raise ValueError("sample ids are not unique; the resume key would be ambiguous")
    done = store.done_ids()
    todo = [s for s in samples if s.id not in done]
    missing = {s.id: paths for s in todo if (paths := missing_media(s))}
    if missing and not missing_as_zero:
        first = next(iter(missing.values()))[0]
        hint = f" ({missing_hint(first)})" if missing_hint else ""
        raise MissingInputs(
            f"{len(missing)} of {len(samples)} questions have missing input files, e.g. {first}{hint}; "
            f"nothing was evaluated: bring the files back and run the same command again, or pass "
            f"{MISSING_OPTION} to score those questions 0 (they are asked again once their files exist)"
        )
    ready = [s for s in todo if s.id not in missing]
    backend = backend_factory() if ready else None
    for s in todo:
        if s.id in missing:
            store.add(_record(s, MISSING_VIDEO, 0.0, None, None, f"missing: {missing[s.id][0]}"))
    for start in range(0, len(ready), batch_size):
        batch = ready[start : start + batch_size]
        for s, (output, error) in zip(batch, _generate_isolated(backend, batch)):
            if output is None:
                store.add(_record(s, ERROR, 0.0, None, None, error))
                continue
            scored = score(s, output)
            status = OK if scored.parsed is not None else UNPARSABLE
            metric = scored.metric if status == OK else 0.0
            store.add(_record(s, status, metric, output, scored.parsed, "", scored.extra))
        if progress:
            print(f"[eval] {min(start + batch_size, len(ready))}/{len(ready)} generated", file=sys.stderr)
    store.finalize()
    return store.records(ids)
