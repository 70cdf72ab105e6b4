"""Grouped bar chart (PNG) comparing table rows, drawn with Pillow (no plotting dependency).

One group per Table 1 column, one bar per row (run), values in percent on a 0..100 axis; empty
cells draw no bar. Deterministic: the same rows give the same bytes.

>>> # write_bar_chart([row_a, row_b], Path("runs.png"), title="VIUBench")
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from recipes.videossr.eval.columns import table_headers
from recipes.videossr.eval.table import ResultsRow

# Colour-blind-safe palette (Okabe-Ito), cycled when there are more runs.
PALETTE = [(0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233), (213, 94, 0), (240, 228, 66)]
GREY = (150, 150, 150)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def draw_bar_chart(rows: list[ResultsRow], title: str = "", headers: list[str] | None = None) -> Image.Image:
    """The chart as a PIL image (see ``write_bar_chart``)."""
    headers = headers or table_headers()
    bar_w = 12
    group_w = max(60, len(rows) * bar_w + 16)  # wide enough for the column label
    left, right, top, bottom = 50, 20, 40, 70
    plot_h = 300
    width = max(left + right + group_w * len(headers), 3 * 260 + left)
    height = top + plot_h + bottom + 20 * ((len(rows) + 2) // 3)
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    small, normal = _font(11), _font(14)
    d.text((left, 10), title, fill="black", font=normal)
    for tick in range(0, 101, 20):  # y axis with grid lines
        y = top + plot_h - tick * plot_h / 100
        d.line([(left, y), (width - right, y)], fill=(225, 225, 225))
        d.text((left - 8, y), str(tick), fill="black", font=small, anchor="rm")
    for g, header in enumerate(headers):
        x0 = left + g * group_w + (group_w - len(rows) * bar_w) // 2
        for k, row in enumerate(rows):
            value = row.values.get(header)
            if value is None:
                continue
            colour = PALETTE[k % len(PALETTE)]
            h = max(0.0, min(100.0, value)) * plot_h / 100
            d.rectangle([x0 + k * bar_w, top + plot_h - h, x0 + (k + 1) * bar_w - 2, top + plot_h], fill=colour)
        d.text((x0 + len(rows) * bar_w / 2, top + plot_h + 6), header, fill="black", font=small, anchor="mt")
    d.line([(left, top + plot_h), (width - right, top + plot_h)], fill="black")
    for k, row in enumerate(rows):  # legend, three entries per line
        lx = left + (k % 3) * 260
        ly = top + plot_h + 30 + 20 * (k // 3)
        d.rectangle([lx, ly, lx + 12, ly + 12], fill=PALETTE[k % len(PALETTE)])
        d.text((lx + 18, ly), row.label[:40], fill="black", font=small)
    return img


def write_bar_chart(rows: list[ResultsRow], path: str | os.PathLike, title: str = "",
                    headers: list[str] | None = None) -> Path:
    """Write the chart to ``path`` atomically (groups: ``headers``, default Table 1's); returns the path.

    >>> # write_bar_chart(rows, "outputs/eval/compare.png", title="VIUBench")
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.png")
    draw_bar_chart(rows, title, headers).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path
