"""Preview: one contact sheet per sample with changed frames marked, and an index.html linking them."""

from __future__ import annotations

import json
import re

import numpy as np
from PIL import Image

from data_prep.build import build_dataset, read_rows
from data_prep.cli import main
from data_prep.preview import CHANGED, contact_sheet


def test_preview_writes_sheets_and_gallery(frames_dir, tmp_path):
    out = tmp_path / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=1, seed=5, progress=False)
    assert main(["preview", "--data", str(out / "viubench.parquet"), "--out", str(tmp_path / "prev")]) == 0
    rows = read_rows(out / "viubench.parquet")
    html = (tmp_path / "prev" / "index.html").read_text()
    links = re.findall(r'<a href="([^"]+)">', html)
    assert links == [f"{r['extra_info']['sample_id']}.jpg" for r in rows]
    for name in links:
        with Image.open(tmp_path / "prev" / name) as im:
            assert im.width > 500 and im.height > 300
    assert all(r["reward_model"]["ground_truth"] in html for r in rows)

    # Same parquet again: the gallery is reused as it is (nothing redrawn); another limit redraws.
    sheet = tmp_path / "prev" / links[0]
    sheet.write_bytes(b"left alone")
    assert main(["preview", "--data", str(out / "viubench.parquet"), "--out", str(tmp_path / "prev")]) == 0
    assert sheet.read_bytes() == b"left alone"
    assert main(["preview", "--data", str(out / "viubench.parquet"), "--out", str(tmp_path / "prev"),
                 "--limit", "2"]) == 0
    assert sheet.read_bytes() != b"left alone" and len(re.findall(r"<a href=", (tmp_path / "prev" / "index.html")
                                                                  .read_text())) == 2


def test_changed_frames_are_framed_in_red(frames_dir, tmp_path):
    out = tmp_path / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=1, seed=6, progress=False)
    row = next(
        r for r in read_rows(out / "viubench.parquet") if r["data_source"].endswith("grounding/mirror")
    )
    meta = json.loads(row["extra_info"]["meta"])
    sheet = np.asarray(contact_sheet(row, thumb_width=60, columns=8, media_root=out))
    first = out / row["videos"][0]["video"][0]  # relative to the dataset folder
    th = round(Image.open(first).height * 60 / Image.open(first).width)
    cell_w, cell_h = 60 + 6, th + 24

    def corner(pos):  # the top-left border pixel of the frame's cell
        return sheet[5 + (pos // 8) * cell_h + 1, 5 + (pos % 8) * cell_w + 1]

    for pos in range(48):
        red = tuple(int(c) for c in corner(pos)) == CHANGED
        assert red == (meta["start_frame"] <= pos < meta["end_frame"]), pos
