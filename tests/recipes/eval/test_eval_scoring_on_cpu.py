"""The VIUBench metric is rewards.score's acc; unparsable answers score 0 and say so."""

from __future__ import annotations

import pytest

import rewards
from recipes.videossr.eval.scoring import score_viubench

CASES = [
    # (data_source, output, truth, metric, why)
    ("videossr/counting/easy", "3,1,4", "3,1,4", 1.0, "exact"),
    ("videossr/counting/easy", "3,1,5", "3,1,4", 2 / 3, "per-type exact match averaged over 3 types"),
    ("videossr/grounding/mirror", "10.0-20.0", "15.0-25.0", 1 / 3, "IoU 5/15"),
    ("videossr/jigsaw/n6", "341562", "341562", 1.0, "exact order"),
    ("videossr/jigsaw/n6", "341526", "341562", 0.0, "jigsaw acc is exact match, no partial credit"),
]


@pytest.mark.parametrize("data_source,output,truth,metric,why", CASES)
def test_metric_is_the_rewards_acc(data_source, output, truth, metric, why):
    scored = score_viubench(data_source, output, truth)
    assert scored.metric == pytest.approx(metric), why
    assert scored.metric == rewards.score(data_source, output, truth)["acc"]
    assert scored.parsed is not None


@pytest.mark.parametrize("output", ["", "\n\n", "I cannot tell", "circles: many"])
def test_unparsable_scores_zero(output):
    scored = score_viubench("videossr/counting/easy", output, "3,1,4")
    assert scored.parsed is None and scored.metric == 0.0
