"""Per-sample store: resume, torn last line, refusal to mix runs, error retry."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.samples import SAMPLES_FILE, SampleStore


def test_resume_keeps_records_and_drops_a_torn_line(tmp_path):
    store = SampleStore(tmp_path, {"model": "m"})
    store.add({"id": "b", "status": "ok", "metric": 1.0})
    store.add({"id": "a", "status": "unparsable", "metric": 0.0})
    with open(tmp_path / SAMPLES_FILE, "ab") as fh:  # a kill in the middle of a write
        fh.write(b'{"id":"c","sta')
    again = SampleStore(tmp_path, {"model": "m"})
    assert again.done_ids() == {"a", "b"}
    again.finalize()
    lines = (tmp_path / SAMPLES_FILE).read_text().splitlines()
    assert [line[:8] for line in lines] == ['{"id":"a', '{"id":"b']  # sorted by id at the end


def test_other_settings_are_refused(tmp_path):
    SampleStore(tmp_path, {"model": "m", "questions": 9})
    with pytest.raises(ValueError, match="differs in: model"):
        SampleStore(tmp_path, {"model": "other", "questions": 9})


def test_retry_errors_forgets_only_errors(tmp_path):
    store = SampleStore(tmp_path, {"model": "m"})
    store.add({"id": "a", "status": "error", "metric": 0.0})
    store.add({"id": "b", "status": "missing_video", "metric": 0.0})
    store.finalize()
    assert SampleStore(tmp_path, {"model": "m"}).done_ids() == {"a", "b"}
    assert SampleStore(tmp_path, {"model": "m"}, retry_errors=True).done_ids() == {"b"}


def test_unknown_status_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="status"):
        SampleStore(tmp_path, {}).add({"id": "a", "status": "dropped"})
