"""See the data: one contact sheet per sample and an ``index.html`` gallery (``python -m data_prep preview``).

A sheet shows the frames in the order the model sees them, each labelled with its position and
timestamp. Frames a task changed are framed in red (perturbed or shape-drawn) and temporal
perturbations show which original frame appears ("<-k"); the ground-truth span is underlined.
Jigsaw sheets put one shown clip per line with the original clip number it holds. The question
and the answer are printed underneath.

>>> from data_prep.preview import write_previews
>>> write_previews("outputs/demo/data/viubench.parquet", "outputs/demo/preview/viubench")   # doctest: +SKIP
PosixPath('outputs/demo/preview/viubench/index.html')
"""

from __future__ import annotations

import html
import json
import os
import textwrap
from pathlib import Path
from typing import Any, Optional

import pyarrow.parquet as pq
from PIL import Image, ImageDraw, ImageFont

from data_prep.jsonl import file_sha256, write_atomic
from data_prep.media import media_root_of, resolve_videos

THUMB_WIDTH = 120
COLUMNS = 8
CHANGED = (220, 30, 30)
SPAN = (255, 200, 0)
TEXT_WIDTH_CHARS = 150
STAMP = "preview.json"  # what the gallery was drawn from: a re-run with the same inputs draws nothing
FORMAT = 1  # bump when the sheets' look changes, so existing galleries are redrawn


def _font(size: int = 12) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _thumb(path: str, width: int) -> Image.Image:
    with Image.open(path) as im:
        im = im.convert("RGB")
        return im.resize((width, max(1, round(im.height * width / im.width))), Image.BILINEAR)


def contact_sheet(row: dict[str, Any], thumb_width: int = THUMB_WIDTH, columns: int = COLUMNS,
                  media_root: "str | os.PathLike | None" = None) -> Image.Image:
    """Render one row's contact sheet.

    The row is a parquet row as ``data_prep.build.read_rows`` returns it; its relative frame paths
    resolve against ``media_root`` (its parquet's folder, ``data_prep.media``).
    """
    info = row["extra_info"]
    meta = json.loads(info["meta"])
    fps = float(info["sample_fps"])
    videos = resolve_videos(row["videos"], media_root) if media_root is not None else row["videos"]
    clips = [v["video"] for v in videos]
    if info["task"] == "jigsaw":
        order = meta["shown_order"]
        lines = [
            (f"clip {j + 1} = original {order[j] + 1}", list(enumerate(c, start=order[j] * len(c))))
            for j, c in enumerate(clips)
        ]
        columns = max(len(c) for c in clips)
    else:
        frames = list(enumerate(clips[0]))
        lines = [("", frames[i : i + columns]) for i in range(0, len(frames), columns)]
    shown = meta.get("shown")
    span = (meta.get("start_frame", -1), meta.get("end_frame", -1))
    thumbs = {p: _thumb(p, thumb_width) for _, items in lines for _, p in items}
    th = max(t.height for t in thumbs.values())
    label_w = 150 if info["task"] == "jigsaw" else 0
    cell_w, cell_h = thumb_width + 6, th + 24
    text = _text_block(row)
    font = _font(12)
    text_h = 16 * len(text) + 10
    sheet = Image.new(
        "RGB", (label_w + columns * cell_w + 10, len(lines) * cell_h + text_h + 10), (255, 255, 255)
    )
    pen = ImageDraw.Draw(sheet)
    for r, (label, items) in enumerate(lines):
        y = 5 + r * cell_h
        if label:
            pen.text((5, y + th // 2), label, fill=(0, 0, 0), font=font)
        for c, (pos, path) in enumerate(items):
            x = 5 + label_w + c * cell_w
            sheet.paste(thumbs[path], (x + 3, y + 3))
            changed = shown is not None and shown[pos] != pos
            if changed:
                pen.rectangle((x, y, x + thumb_width + 5, y + th + 5), outline=CHANGED, width=3)
            if span[0] <= pos < span[1]:
                pen.rectangle((x, y + th + 7, x + thumb_width + 5, y + th + 9), fill=SPAN)
            note = f"#{pos} {pos / fps:.1f}s"
            if changed and shown[pos] >= 0:
                note += f" <-{shown[pos]}"
            pen.text((x + 3, y + th + 10), note, fill=CHANGED if changed else (60, 60, 60), font=font)
    y = 10 + len(lines) * cell_h
    for line in text:
        pen.text((5, y), line, fill=(0, 0, 0), font=font)
        y += 16
    return sheet


def _text_block(row: dict[str, Any]) -> list[str]:
    info = row["extra_info"]
    question = row["prompt"][-1]["content"]
    lines = [
        f"{row['data_source']}   sample {info['sample_id']}   video {info['video_id']}   seed {info['seed']}"
    ]
    for para in question.split("\n"):
        lines += textwrap.wrap(para, TEXT_WIDTH_CHARS) or [""]
    lines.append(f"ANSWER: {row['reward_model']['ground_truth']}")
    return lines


def write_previews(
    parquet: str | os.PathLike, out_dir: str | os.PathLike, limit: Optional[int] = None
) -> Path:
    """Write ``<sample_id>.jpg`` per row (the first ``limit`` rows) and ``index.html``; return its path.

    Reuses the gallery as it is when ``preview.json`` says it was drawn from the same parquet bytes
    with the same ``limit`` (sheets are a pure function of the rows and the frames they reference).
    """
    parquet, out = Path(parquet), Path(out_dir)
    if not parquet.exists():
        raise FileNotFoundError(f"{parquet} not found")
    index = out / "index.html"
    stamp = {"format": FORMAT, "parquet_sha256": file_sha256(parquet), "limit": limit}
    if index.is_file() and (out / STAMP).is_file() and json.loads((out / STAMP).read_text()) == stamp:
        return index
    rows = pq.read_table(parquet).to_pylist()[: limit if limit is not None else None]
    out.mkdir(parents=True, exist_ok=True)
    cards = []
    for row in rows:
        name = f"{row['extra_info']['sample_id']}.jpg"
        tmp = out / f".{name}.tmp{os.getpid()}.jpg"
        contact_sheet(row, media_root=media_root_of(parquet)).save(tmp, quality=85)
        os.replace(tmp, out / name)
        cards.append(
            f'<div class="card"><a href="{html.escape(name)}"><img src="{html.escape(name)}" loading="lazy"></a>'
            f"<p><b>{html.escape(row['data_source'])}</b> &middot; {html.escape(row['extra_info']['sample_id'])}"
            f"<br>answer <code>{html.escape(row['reward_model']['ground_truth'])}</code></p></div>"
        )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(parquet.name)} preview</title><style>body{{font-family:sans-serif}}"
        ".card{display:inline-block;width:420px;margin:6px;vertical-align:top}.card img{width:100%}</style>"
        f"</head><body><h1>{html.escape(parquet.name)}: {len(rows)} samples</h1>"
        "<p>Red frames: changed by the task (perturbed / drawn; &lt;-k = shows original frame k). "
        "Yellow bar: the ground-truth span. Jigsaw: one line per shown clip.</p>\n"
        + "\n".join(cards)
        + "\n</body></html>\n"
    )
    write_atomic(index, page.encode("utf-8"))
    write_atomic(out / STAMP, (json.dumps(stamp, sort_keys=True) + "\n").encode())
    return index
