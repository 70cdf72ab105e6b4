"""The paper's Tables 2-3 rows for Qwen3-VL-8B-Instruct and VideoSSR-8B (and VIUBench, Table 1).

Numbers as printed in the paper (arXiv 2511.06281, Tables 2-3; the released repository's
``assets/performance1.png`` / ``performance2.png``), by frame budget, in the registry's column
order. The paper gives one number per benchmark: accuracy for multiple choice, VinoGround's text
score, VCRBench's exact-order accuracy, and (our reading; the table does not name it) mIoU for
temporal grounding. VIUBench (Table 1, Overall) is reported at 48 frames only.

>>> PAPER_ROWS["VideoSSR-8B"][48]["mvbench"]
68.8
>>> round(average_gain(48, with_viubench=False), 1), round(average_gain(48, with_viubench=True), 1)
(3.4, 5.1)
"""

from __future__ import annotations

COLUMNS = ("mvbench", "tempcompass", "aotbench", "vinoground", "videomme", "lvbench", "longvideobench", "cgbench",
           "qvhighlights", "activitynet", "charades", "tacos", "videommmu", "videott", "vcrbench", "cvbench")


def _rows(table: dict[int, tuple[float, ...]]) -> dict[int, dict[str, float]]:
    return {frames: dict(zip(COLUMNS, values, strict=True)) for frames, values in table.items()}


PAPER_ROWS: dict[str, dict[int, dict[str, float]]] = {
    "Qwen3-VL-8B-Instruct": _rows({
        32: (66.9, 74.9, 59.8, 45.2, 64.1, 39.6, 58.6, 40.1, 43.7, 36.5, 50.3, 22.4, 58.2, 41.8, 7.4, 61.8),
        48: (67.6, 74.8, 60.2, 45.0, 66.0, 41.5, 60.0, 41.7, 46.4, 38.4, 50.0, 25.9, 58.5, 43.0, 7.4, 61.5),
        64: (67.8, 74.8, 60.7, 45.0, 66.4, 43.0, 61.3, 42.6, 48.6, 39.8, 49.2, 28.1, 58.8, 44.0, 8.8, 61.6),
    }),
    "VideoSSR-8B": _rows({
        32: (68.6, 75.7, 60.5, 55.6, 65.2, 41.5, 59.6, 40.2, 59.6, 42.1, 52.1, 23.1, 59.9, 44.2, 10.7, 63.5),
        48: (68.8, 75.8, 61.7, 55.6, 66.7, 42.9, 61.1, 42.5, 61.1, 43.0, 51.1, 27.7, 60.0, 44.9, 15.3, 63.8),
        64: (68.9, 75.7, 61.8, 55.6, 67.6, 44.0, 61.5, 43.4, 62.6, 43.7, 49.9, 30.6, 60.9, 45.8, 17.8, 63.3),
    }),
}
# Table 1, Overall (48 frames, 512*512).
PAPER_VIUBENCH = {"Qwen3-VL-8B-Instruct": {48: 19.5}, "VideoSSR-8B": {48: 51.9}}
PAPER_MODELS = tuple(PAPER_ROWS)


def average_gain(frames: int, with_viubench: bool) -> float:
    """VideoSSR-8B minus Qwen3-VL-8B, averaged over the 16 (or, with VIUBench, 17) benchmarks."""
    base, ours = PAPER_ROWS["Qwen3-VL-8B-Instruct"][frames], PAPER_ROWS["VideoSSR-8B"][frames]
    gains = [ours[c] - base[c] for c in COLUMNS]
    if with_viubench:
        gains.append(PAPER_VIUBENCH["VideoSSR-8B"][frames] - PAPER_VIUBENCH["Qwen3-VL-8B-Instruct"][frames])
    return sum(gains) / len(gains)
