"""Bar chart: bars appear where values are, empty cells draw nothing, bytes are reproducible."""

from __future__ import annotations

from PIL import Image

from recipes.videossr.eval.columns import SUBTYPE_COLUMNS
from recipes.videossr.eval.plot import PALETTE, write_bar_chart
from recipes.videossr.eval.table import row_from_means


def _colour_count(img: Image.Image, colour) -> int:
    return sum(1 for px in img.getdata() if px == colour)


def test_bars_and_determinism(tmp_path):
    full = row_from_means("full", {c.data_source: 1.0 for c in SUBTYPE_COLUMNS})
    half = row_from_means("half", {SUBTYPE_COLUMNS[0].data_source: 0.5})  # one column only
    a = write_bar_chart([full, half], tmp_path / "a.png", title="VIUBench")
    b = write_bar_chart([full, half], tmp_path / "b.png", title="VIUBench")
    assert a.read_bytes() == b.read_bytes()
    img = Image.open(a).convert("RGB")
    full_px, half_px = _colour_count(img, PALETTE[0]), _colour_count(img, PALETTE[1])
    # 13 bars of 100% vs a single 50% bar (legend swatches are equal for both)
    assert full_px > 10 * half_px > 0
    legend_only = _colour_count(Image.open(write_bar_chart([full, row_from_means("none", {})], tmp_path / "c.png")).convert("RGB"), PALETTE[1])
    assert 0 < legend_only < half_px
    assert not list(tmp_path.glob(".*tmp*"))
