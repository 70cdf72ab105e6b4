import pytest

from data_prep.video_ids import discover_videos, video_id_for


def test_ids_are_unique_for_same_names_in_different_folders(tmp_path):
    for rel in ["a/clip.mp4", "b/clip.mp4", "a/deep/er/clip.mp4", "a/clip.MOV", "a/视频 一.mp4", "a/notes.txt"]:
        (tmp_path / "root" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "root" / rel).write_bytes(b"x")
    videos = discover_videos([tmp_path / "root"])
    assert [v.key for v in videos] == sorted(v.key for v in videos)
    assert len(videos) == 5 and len({v.video_id for v in videos}) == 5
    assert all(v.video_id.isascii() and "/" not in v.video_id for v in videos)


def test_ids_do_not_depend_on_where_the_folder_lives(tmp_path):
    for parent in ("x", "y/z"):
        (tmp_path / parent / "corpus").mkdir(parents=True)
        (tmp_path / parent / "corpus" / "v.mp4").write_bytes(b"x")
    a = discover_videos([tmp_path / "x" / "corpus"])[0].video_id
    b = discover_videos([tmp_path / "y" / "z" / "corpus"])[0].video_id
    assert a == b == video_id_for("corpus/v.mp4")


def test_colliding_keys_and_missing_roots_are_clear_errors(tmp_path):
    for parent in ("x", "y"):
        (tmp_path / parent / "corpus").mkdir(parents=True)
        (tmp_path / parent / "corpus" / "v.mp4").write_bytes(b"x")
    with pytest.raises(ValueError, match="same video key"):
        discover_videos([tmp_path / "x" / "corpus", tmp_path / "y" / "corpus"])
    with pytest.raises(FileNotFoundError):
        discover_videos([tmp_path / "nope"])
