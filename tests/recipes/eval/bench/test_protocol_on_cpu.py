"""The paper's multiple-choice rule (released vqa.py), the VinoGround pair score and the two accountings."""

from __future__ import annotations

import pytest

from recipes.videossr.eval.bench import protocol
from recipes.videossr.eval.bench.scoring import account, pair_score, score_mc
from recipes.videossr.eval.bench.spec import Benchmark, Item

# (output, answer key, expected metric or None for unparsable, why)
FIRST_CHARACTER = [
    ("A", "A", 1.0, "the letter alone"),
    ("A.", "A", 1.0, "letter and period: output[0] is the letter"),
    ("A. a cat", "A", 1.0, "the whole option"),
    ("(A", "A", 0.0, "vqa.py takes output[0] = '('"),
    ("a", "A", 0.0, "vqa.py does not upper-case the output"),
    (" A", "A", 0.0, "vqa.py does not strip the output"),
    ("B", "A", 0.0, "another letter"),
    ("", "A", None, "empty output: IndexError in vqa.py, unparsable here"),
    ("Yes", protocol.yes_no_key("Yes"), 1.0, "a Yes/No answer is keyed by its first character 'Y'"),
    ("No.", protocol.yes_no_key("Yes."), 0.0, "'N' is not 'Y'"),
]


@pytest.mark.parametrize("output, key, expected, why", FIRST_CHARACTER, ids=[c[3] for c in FIRST_CHARACTER])
def test_first_character_rule(output, key, expected, why):
    scored = score_mc(Item("q", ("v.mp4",), "Q?\nA. a cat\nB. a dog", key), output)
    if expected is None:
        assert scored.parsed is None and scored.metric == 0.0
    else:
        assert scored.metric == expected


@pytest.mark.parametrize("records, text_score, pairs, why", [
    ([("1", 1), ("1", 1), ("2", 1), ("2", 0)], 50.0, 2, "one pair fully right out of two"),
    ([("1", 0), ("1", 0)], 0.0, 1, "both wrong"),
    ([("1", 1), ("1", 0)], 0.0, 1, "one member wrong sinks the pair"),
    ([], 0.0, 0, "no records"),
])
def test_pair_score(records, text_score, pairs, why):
    result = pair_score([{"pair": p, "metric": float(m)} for p, m in records])
    assert (result["text_score"], result["pairs"]) == (text_score, pairs)


def _bench(**kwargs) -> Benchmark:
    return Benchmark(name="t", title="T", domain="General Video QA", kind="mc", release="r", split="s", layout="l",
                     load=lambda root: [], rule="r", source="s", **kwargs)


def _record(status, metric=0.0, pair=""):
    return {"status": status, "metric": metric, "pair": pair}


def test_paper_accounting_drops_failures_strict_counts_them_as_zero():
    records = [_record("ok", 1.0), _record("ok", 0.0), _record("error"), _record("missing_video"),
               _record("unparsable")]
    paper, strict = account(_bench(), records, "paper"), account(_bench(), records, "strict")
    assert (paper["score"], paper["n"]) == (50.0, 2)
    assert paper["excluded"] == {"error": 1, "missing_video": 1, "unparsable": 1}
    assert (strict["score"], strict["n"], strict["excluded"]) == (20.0, 5, {})


def test_paper_accounting_drops_a_pair_whose_partner_was_dropped():
    from recipes.videossr.eval.bench.scoring import pair_score as summarize

    bench = _bench(metric="text_score", summarize=summarize)
    records = [_record("ok", 1.0, "0"), _record("ok", 1.0, "0"),   # pair 0: both right
               _record("ok", 1.0, "1"), _record("missing_video", 0.0, "1"),  # pair 1: partner dropped
               _record("ok", 0.0, "2"), _record("ok", 1.0, "2")]   # pair 2: one wrong
    paper = account(bench, records, "paper")
    assert paper["excluded"] == {"missing_video": 1, "pair_partner": 1}
    assert (paper["score"], paper["metrics"]["pairs"], paper["n"]) == (50.0, 2, 4)
    strict = account(bench, records, "strict")
    assert (strict["metrics"]["pairs"], strict["n"]) == (3, 6)
    assert strict["score"] == pytest.approx(100.0 / 3)
