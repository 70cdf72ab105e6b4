"""recipes.videossr.shm: only what a run added and nobody uses is removed."""

from __future__ import annotations

import subprocess
import sys

from recipes.videossr import shm


def test_clean_removes_new_unused_entries_and_keeps_the_rest(tmp_path):
    (tmp_path / "psm_old").write_bytes(b"x")
    before = shm.entries(tmp_path)
    (tmp_path / "psm_new").write_bytes(b"x")
    (tmp_path / "sem.mp-new").write_bytes(b"x")
    (tmp_path / "psm_busy").write_bytes(b"x")
    with open(tmp_path / "psm_busy", "rb"):  # an open file = a live user
        removed = shm.clean(before, tmp_path)
    assert removed == ["psm_new", "sem.mp-new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["psm_busy", "psm_old"]


def test_an_entry_held_by_another_process_stays(tmp_path):
    before = shm.entries(tmp_path)
    target = tmp_path / "psm_other"
    target.write_bytes(b"x" * 4096)
    holder = subprocess.Popen([sys.executable, "-c", "import mmap,sys,time; f=open(sys.argv[1],'r+b'); "
                               "m=mmap.mmap(f.fileno(),0); f.close(); print('ready',flush=True); time.sleep(60)",
                               str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"  # mapped, its file descriptor closed
        assert shm.clean(before, tmp_path) == []
    finally:
        holder.kill()
        holder.wait()
    assert shm.clean(before, tmp_path) == ["psm_other"]


def test_command_line_snapshot_then_clean(tmp_path):
    folder, snap = tmp_path / "shm", tmp_path / "snap"
    folder.mkdir()
    (folder / "kept").write_bytes(b"")
    run = [sys.executable, "-m", "recipes.videossr.shm"]
    subprocess.run([*run, "snapshot", str(snap), "--folder", str(folder)], check=True)
    (folder / "verl_weights_1").write_bytes(b"")
    out = subprocess.run([*run, "clean", str(snap), "--folder", str(folder)], check=True, capture_output=True,
                         text=True).stdout
    assert "verl_weights_1" in out and [p.name for p in folder.iterdir()] == ["kept"]
