import pytest

from data_prep.jsonl import JsonlAppender, read_records, rewrite_sorted


def test_torn_last_line_is_dropped_and_truncated(tmp_path):
    path = tmp_path / "m.jsonl"
    with JsonlAppender(path) as out:
        out.append({"id": "b"})
        out.append({"id": "a"})
    with open(path, "ab") as fh:
        fh.write(b'{"id": "c", "val')
    assert read_records(path) == [{"id": "b"}, {"id": "a"}]
    assert path.read_bytes().endswith(b"}\n")


def test_rewrite_sorted_is_canonical(tmp_path):
    path = tmp_path / "m.jsonl"
    rewrite_sorted(path, [{"id": "b", "x": 1}, {"id": "a"}, {"id": "b", "x": 2}], key="id")
    assert path.read_text() == '{"id":"a"}\n{"id":"b","x":2}\n'


def test_corrupt_complete_line_names_the_line(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r"m.jsonl:2"):
        read_records(path)
