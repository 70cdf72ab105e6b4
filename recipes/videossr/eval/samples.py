"""Per-sample outputs: one JSONL line per question, appended as answers arrive, resumable.

Every question ends as exactly one record with a ``status``; nothing is dropped from the
denominator (the reference evaluation silently dropped unparsable answers, generation errors and
missing videos, which inflates scores)::

    ok             parsed; metric from the scorer
    unparsable     the output could not be parsed -> metric 0
    error          generation (or decoding its inputs) raised -> metric 0, message in "error"
    missing_video  a video/frame file does not exist -> metric 0, not sent to the model

The store lives in an output folder next to ``run.json``, the settings the run was started with;
a resume with different settings (model, data, frames...) refuses to mix the two runs. ``run.json``
is written with the first record, i.e. once the model loaded and answered (or a missing input was
scored 0 on request): a start that fails (a wrong ``--model``) leaves nothing that would refuse
the corrected command. ``missing_video`` records are never final: every run looks for the inputs
again (the runner refuses to score them 0 unless asked), so re-linked frames get asked.

>>> import tempfile, pathlib
>>> store = SampleStore(pathlib.Path(tempfile.mkdtemp()), {"model": "m"})
>>> store.bound
False
>>> store.add({"id": "a", "status": "ok", "metric": 1.0})
>>> sorted(store.done_ids()), store.bound
(['a'], True)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from data_prep.jsonl import JsonlAppender, dumps, read_records, recorded_json, rewrite_sorted

OK = "ok"
UNPARSABLE = "unparsable"
ERROR = "error"
MISSING_VIDEO = "missing_video"
STATUSES = (OK, UNPARSABLE, ERROR, MISSING_VIDEO)

SAMPLES_FILE = "samples.jsonl"
RUN_FILE = "run.json"


class SampleStore:
    """Append-only per-sample records in ``out_dir/samples.jsonl`` bound to one run's settings."""

    def __init__(self, out_dir: Path, settings: dict[str, Any], retry_errors: bool = False):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / SAMPLES_FILE
        self.settings = json.loads(dumps(settings))
        self.bound = self._check_settings()
        records = read_records(self.path) if self.bound else []  # drops a line torn by a kill
        if retry_errors and any(r.get("status") == ERROR for r in records):
            records = [r for r in records if r.get("status") != ERROR]
            rewrite_sorted(self.path, records, key="id")
        self._records = {r["id"]: r for r in records}
        self._appender: JsonlAppender | None = None

    def _check_settings(self) -> bool:
        """Refuse a folder bound to other settings; True when it is bound to these."""
        path = self.out_dir / RUN_FILE
        if not path.exists():
            return False
        found = json.loads(path.read_text())
        wanted = self.settings
        if found != wanted:
            diff = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
            raise ValueError(
                f"{self.out_dir} holds a run with other settings (differs in: {', '.join(diff)}); "
                "use a new --out folder to start a separate run"
            )
        return True

    def bind(self) -> None:
        """Record the settings in ``run.json`` (the folder now holds this run)."""
        if not self.bound:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            recorded_json(self.out_dir / RUN_FILE, self.settings)
            self.bound = True

    def done_ids(self) -> set[str]:
        """Ids that are finished: every record but ``missing_video`` (inputs are looked for again)."""
        return {k for k, r in self._records.items() if r.get("status") != MISSING_VIDEO}

    def add(self, record: dict[str, Any]) -> None:
        """Append one finished record (durable once this returns); the first one binds the folder."""
        if record.get("status") not in STATUSES:
            raise ValueError(f"record {record.get('id')!r}: status must be one of {STATUSES}")
        self.bind()
        if self._appender is None:
            self._appender = JsonlAppender(self.path)
        self._appender.append(record)
        self._records[record["id"]] = record

    def records(self, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Records in ``ids`` order (all, sorted by id, when ``ids`` is None)."""
        keys = sorted(self._records) if ids is None else list(ids)
        return [self._records[k] for k in keys if k in self._records]

    def finalize(self) -> None:
        """Close and rewrite the file sorted by id, so its bytes do not depend on completion order."""
        if self._appender is not None:
            self._appender.close()
            self._appender = None
        if self.bound:
            rewrite_sorted(self.path, self._records.values(), key="id")


def status_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    """How many records ended in each status (every status present, zeros included).

    >>> status_counts([{"status": "ok"}, {"status": "error"}])["error"]
    1
    """
    counts = {s: 0 for s in STATUSES}
    for r in records:
        counts[r["status"]] += 1
    return counts
