"""Per-sample store: resume, torn last line, refusal to mix runs, error retry, binding on the first record."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.samples import RUN_FILE, SAMPLES_FILE, SampleStore


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
    SampleStore(tmp_path, {"model": "m", "questions": 9}).add({"id": "a", "status": "ok", "metric": 1.0})
    with pytest.raises(ValueError, match="differs in: model"):
        SampleStore(tmp_path, {"model": "other", "questions": 9})


def test_a_store_binds_its_folder_with_the_first_record(tmp_path):
    """A start that never recorded an answer (the model did not load) leaves no run.json behind."""
    SampleStore(tmp_path / "run", {"model": "/nonexistent"}).finalize()
    assert not (tmp_path / "run" / RUN_FILE).exists()
    store = SampleStore(tmp_path / "run", {"model": "right"})  # the corrected command is not refused
    store.add({"id": "a", "status": "ok", "metric": 1.0})
    assert (tmp_path / "run" / RUN_FILE).is_file()


def test_retry_errors_forgets_errors_and_missing_inputs_are_never_final(tmp_path):
    store = SampleStore(tmp_path, {"model": "m"})
    store.add({"id": "a", "status": "error", "metric": 0.0})
    store.add({"id": "b", "status": "missing_video", "metric": 0.0})
    store.add({"id": "c", "status": "ok", "metric": 1.0})
    store.finalize()
    assert SampleStore(tmp_path, {"model": "m"}).done_ids() == {"a", "c"}
    assert SampleStore(tmp_path, {"model": "m"}, retry_errors=True).done_ids() == {"c"}


def test_unknown_status_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="status"):
        SampleStore(tmp_path, {}).add({"id": "a", "status": "dropped"})
