"""Reference rows come from the rewards scorer's exact priors (the paper's random-guess row)."""

from __future__ import annotations

import math

import pyarrow.parquet as pq
import pytest

from recipes.videossr.eval.random_guess import best_constant_row, random_guess_row
from rewards.priors import answer_priors


def test_random_guess_row_on_built_viubench(viubench_parquet):
    rows = pq.read_table(viubench_parquet).to_pylist()
    v = random_guess_row(rows).values
    assert v["Cnt-E"] == pytest.approx(100 / 9)  # uniform over 1..9 per shape
    assert v["Cnt-H"] == pytest.approx(100 / 16)
    assert v["Jig-6"] == pytest.approx(100 / math.factorial(6))
    assert v["Jig-8"] == pytest.approx(100 / math.factorial(8))
    priors = answer_priors(rows)
    assert v["Chan"] == pytest.approx(100 * priors["videossr/grounding/channel_swap"]["random_acc"])
    subtypes = [v[h] for h in ("Cnt-E", "Cnt-H", "Chan", "Rot", "ZoomOut", "Mirror", "Shuffle", "Jig-6", "Jig-8")]
    assert v["Overall"] == pytest.approx(sum(subtypes) / 9)
    assert best_constant_row(rows).values["Jig-6"] == pytest.approx(100.0)  # one question: its answer
