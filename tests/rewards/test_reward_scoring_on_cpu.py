"""rewards.score: routing, options, the result contract, reward-hacking resistance, robustness."""

from __future__ import annotations

import itertools
import math
import random
import signal
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewards import RESULT_KEYS, score
from rewards.scoring import PARSE_MODES, REWARD_MODES

SAMPLES = {  # data_source -> ground truth
    "videossr/grounding/channel_swap": "12.3-20.1",
    "videossr/counting/easy": "3,1,4",
    "videossr/counting/hard": "12,1,16",
    "videossr/jigsaw/n6": "341562",
    "videossr/jigsaw/n8": "73125846",
}
MODES = [
    dict(parse_mode=p, reward_mode=r, format_weight=w)
    for p in PARSE_MODES
    for r in REWARD_MODES
    for w in (0.0, 0.3)
]


def check_result(result: dict) -> None:
    assert tuple(result) == RESULT_KEYS
    for key in ("score", "acc", "parsed", "format", "task_reward"):
        assert isinstance(result[key], float) and 0.0 <= result[key] <= 1.0, (key, result)
    assert result["task"] in ("grounding", "counting", "jigsaw")
    assert isinstance(result["pred"], str)
    assert result["parsed"] == float(result["pred"] != "")


# ---------------------------------------------------------------- routing and errors


@pytest.mark.parametrize("data_source, truth", sorted(SAMPLES.items()))
def test_routes_by_data_source_and_returns_the_same_keys(data_source, truth):
    result = score(data_source, truth, truth)
    check_result(result)
    assert result["task"] == data_source.split("/")[1]
    assert result["score"] == result["acc"] == result["format"] == 1.0


def test_unknown_data_source_names_the_row():
    with pytest.raises(ValueError, match=r"row 17 \(split 'train', data_source 'openai/gsm8k'\)"):
        score("openai/gsm8k", "3,1,4", "3,1,4", extra_info={"index": 17, "split": "train"})
    with pytest.raises(ValueError, match="unknown task 'ocr'"):
        score("videossr/ocr/easy", "x", "x")


def test_extra_info_routes_rows_with_a_foreign_data_source():
    result = score("my_eval_set", "3,1,4", "3,1,4", extra_info={"task": "counting", "subtype": "easy"})
    assert result["task"] == "counting" and result["score"] == 1.0


def test_malformed_ground_truth_names_the_row_instead_of_scoring_zero():
    with pytest.raises(ValueError, match=r"row 4 .*jigsaw ground truth"):
        score("videossr/jigsaw/n6", "341562", "34156", extra_info={"index": 4, "split": "eval"})


@pytest.mark.parametrize(
    "options",
    [dict(parse_mode="loose"), dict(reward_mode="bogus"), dict(format_weight=1.5), dict(format_weight="x")],
)
def test_bad_options_raise(options):
    with pytest.raises(ValueError):
        score("videossr/counting/easy", "3,1,4", "3,1,4", **options)


def test_format_weight_mixes_a_format_reward():
    ds, truth = "videossr/counting/easy", "3,1,4"
    tagged = score(ds, "<answer>3,1,5</answer>", truth, parse_mode="lenient", format_weight=0.2)
    assert tagged["format"] == 0.0
    assert tagged["score"] == pytest.approx(0.8 * (1 + 1 + 0.75) / 3)
    plain = score(ds, "3,1,5", truth, parse_mode="lenient", format_weight=0.2)
    assert plain["format"] == 1.0
    assert plain["score"] == pytest.approx(0.8 * (1 + 1 + 0.75) / 3 + 0.2)
    assert plain["task_reward"] == pytest.approx((1 + 1 + 0.75) / 3)


def test_non_string_response_scores_zero():
    for response in (None, 3, b"3,1,4"):
        result = score("videossr/counting/easy", response, "3,1,4")  # type: ignore[arg-type]
        check_result(result)
        assert result["score"] == 0.0


# ---------------------------------------------------------------- canonical answers vs the formulas


def expected_smooth(task: str, pred: tuple, truth: tuple) -> float:
    """The paper's formulas, written independently of the package."""
    if task == "grounding":
        inter = max(0.0, min(pred[1], truth[1]) - max(pred[0], truth[0]))
        union = (
            max(pred[1], truth[1]) - min(pred[0], truth[0])
            if inter > 0
            else (pred[1] - pred[0]) + (truth[1] - truth[0])
        )
        return inter / union if union > 0 else 0.0
    if task == "counting":
        return sum(max(0.0, 1 - abs(p - t) / t) for p, t in zip(pred, truth)) / 3
    n = len(truth)
    if sorted(pred) != list(range(1, n + 1)):
        return 0.0
    # Eq. 7-8: every clip label's index in the answer against its index in the truth
    return 1 - sum(abs(pred.index(label) - i) for i, label in enumerate(truth)) / (n * n // 2)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_canonical_answers_agree_with_the_formulas(data):
    task = data.draw(st.sampled_from(["grounding", "counting", "jigsaw"]))
    if task == "grounding":
        tenths = st.integers(0, 600)
        a, b = sorted(data.draw(st.lists(tenths, min_size=2, max_size=2, unique=True)))
        c, d = sorted(data.draw(st.lists(tenths, min_size=2, max_size=2)))
        truth, pred = (a / 10, b / 10), (c / 10, d / 10)
        ds, gt, response = (
            "videossr/grounding/mirror",
            f"{a / 10:.1f}-{b / 10:.1f}",
            f"{c / 10:.1f}-{d / 10:.1f}",
        )
    elif task == "counting":
        truth = tuple(data.draw(st.lists(st.integers(1, 16), min_size=3, max_size=3)))
        pred = tuple(data.draw(st.lists(st.integers(0, 40), min_size=3, max_size=3)))
        ds, gt, response = "videossr/counting/hard", ",".join(map(str, truth)), ",".join(map(str, pred))
    else:
        n = data.draw(st.sampled_from([6, 8]))
        truth = tuple(data.draw(st.permutations(range(1, n + 1))))
        pred = tuple(
            data.draw(
                st.one_of(
                    st.permutations(range(1, n + 1)), st.lists(st.integers(1, 9), min_size=n, max_size=n)
                )
            )
        )
        ds, gt, response = f"videossr/jigsaw/n{n}", "".join(map(str, truth)), "".join(map(str, pred))
    for parse_mode in PARSE_MODES:
        result = score(ds, response, gt, parse_mode=parse_mode)
        assert result["score"] == pytest.approx(expected_smooth(task, pred, truth), abs=1e-9)


# ---------------------------------------------------------------- reward hacking

# Ways to pack several answers into one response; each must earn no more than the best single one.
PACKINGS = [
    lambda answers: ", ".join(answers),
    lambda answers: " or ".join(answers),
    lambda answers: "\n".join(answers),
    lambda answers: "".join(f"<answer>{a}</answer>" for a in answers),
    lambda answers: "The answer is " + " / ".join(answers),
    lambda answers: "<answer>" + " ".join(answers) + "</answer>",
    lambda answers: " ".join(answers) + ".",
]


def hacking_cases(rng: random.Random):
    """(data_source, truth, honest answers, padded variants) from generated ground truths."""
    t = rng.randint(8, 16)
    s = rng.randint(0, 48 - t)
    fps = rng.uniform(0.8, 4.0)
    truth = f"{s / fps:.1f}-{(s + t) / fps:.1f}"
    intervals = [
        f"{a / fps:.1f}-{(a + t) / fps:.1f}" for a in rng.sample(range(0, 48 - t + 1), k=min(5, 49 - t))
    ]
    yield "videossr/grounding/zoom_out", truth, intervals + [truth], []

    level, top = rng.choice([("easy", 9), ("hard", 16)])
    counts = [rng.randint(1, top) for _ in range(3)]
    truth = ",".join(map(str, counts))
    guesses = [",".join(str(rng.randint(1, top)) for _ in range(3)) for _ in range(4)] + [truth]
    padded = [
        "0" + truth.replace(",", ",0"),
        ",".join(str(c) * 2 for c in counts),
        ",".join(map(str, range(1, top + 1))),
    ]
    yield f"videossr/counting/{level}", truth, guesses, padded

    n = rng.choice([6, 8])
    order = "".join(map(str, rng.sample(range(1, n + 1), n)))
    others = ["".join(map(str, rng.sample(range(1, n + 1), n))) for _ in range(4)] + [order]
    extra_clips = [order + str(n + 1), order + order[0], order * 2, "".join(map(str, range(1, n + 2)))]
    yield f"videossr/jigsaw/n{n}", order, others, extra_clips


@pytest.mark.parametrize("seed", range(12))
def test_packing_several_answers_never_beats_committing_to_any_one_of_them(seed):
    # "No more than the same response reduced to a single answer": a hedge must not beat even the
    # worst of the answers it lists, or listing answers would pay on average.
    rng = random.Random(seed)
    for data_source, truth, answers, _ in hacking_cases(rng):
        for options in MODES:
            for k in (2, 3, len(answers)):
                picked = rng.sample(answers, k)
                for pack in PACKINGS:
                    reduced = min(score(data_source, pack([a]), truth, **options)["score"] for a in picked)
                    hacked = score(data_source, pack(picked), truth, **options)["score"]
                    assert hacked <= reduced + 1e-12, (data_source, pack(picked), options)


@pytest.mark.parametrize("seed", range(12))
def test_padding_repeating_and_extra_clips_never_beat_the_honest_answer(seed):
    for data_source, truth, _, padded in hacking_cases(random.Random(seed)):
        for options in MODES:
            honest = score(data_source, truth, truth, **options)["score"]
            for response in padded:
                for wrapped in (response, f"<answer>{response}</answer>", f"The answer is {response}."):
                    assert score(data_source, wrapped, truth, **options)["score"] <= honest, (
                        wrapped,
                        options,
                    )


def test_listing_every_possible_answer_earns_nothing():
    everything = {
        "videossr/counting/easy": ("3,1,4", ",".join(map(str, itertools.chain(*[range(1, 10)] * 3)))),
        "videossr/jigsaw/n6": (
            "341562",
            " ".join("".join(map(str, p)) for p in itertools.permutations(range(1, 7))),
        ),
        "videossr/grounding/mirror": (
            "12.3-20.1",
            ", ".join(f"{a / 10:.1f}-{(a + 80) / 10:.1f}" for a in range(0, 400)),
        ),
    }
    for data_source, (truth, response) in everything.items():
        for options in MODES:
            assert score(data_source, response, truth, **options)["score"] == 0.0


# ---------------------------------------------------------------- robustness (never raise, bounded)

FRAGMENTS = [
    "<answer>",
    "</answer>",
    "<ANSWER>",
    "<think>",
    "</think>",
    "The answer is",
    "answer:",
    "-",
    ",",
    ".",
    " ",
    "\n",
    "3",
    "12.5",
    "1,1,1",
    "341562",
    "12-20",
    "\uff13",
    "\u0663",
    "\u00e9",
    "\U0001f600",
    "\x00",
    "9" * 40,
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    response=st.one_of(st.text(max_size=300), st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)),
    data_source=st.sampled_from(sorted(SAMPLES)),
    mode=st.sampled_from(MODES),
)
def test_any_string_scores_in_unit_interval_without_raising(response, data_source, mode):
    check_result(score(data_source, response, SAMPLES[data_source], **mode))


@contextmanager
def hang_guard(seconds: int):
    """Turn a hang into a failure. Linear scans take milliseconds here; a regex backtracking
    blow-up on 1 MB takes hours, so the generous limit cannot flake on a busy machine."""

    def fail(signum, frame):
        raise AssertionError(f"scoring did not finish within {seconds} s: super-linear parsing?")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


ONE_MB = 1_000_000
PATHOLOGICAL = {
    "digits": "1" * ONE_MB,
    "dashes": "1-" * (ONE_MB // 2),
    "decimals": "1.1." * (ONE_MB // 4),
    "spaces then dash": "1" + " " * ONE_MB + "-",
    "open tags": "<answer>" * (ONE_MB // 8),
    "tag pairs": "<answer>1</answer>" * (ONE_MB // 17),
    "unclosed tag prefixes": "<answer" * (ONE_MB // 7),
    "think opens": "<think>" * (ONE_MB // 7),
    "think closes": "</think>" * (ONE_MB // 8),
    "markers": "answer:" * (ONE_MB // 7),
    "answer is": "the answer is " * (ONE_MB // 14),
    "unicode digits": "\uff13" * ONE_MB,
    "valid answers": "3,1,4 " * (ONE_MB // 6),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_one_megabyte_responses_parse_in_linear_time_and_earn_nothing(name):
    response = PATHOLOGICAL[name]
    with hang_guard(60):
        for data_source, truth in SAMPLES.items():
            for parse_mode in PARSE_MODES:
                result = score(data_source, response, truth, parse_mode=parse_mode)
                check_result(result)
                assert result["score"] == 0.0 and not math.isnan(result["score"])


@pytest.mark.parametrize("data_source", sorted(SAMPLES))
@pytest.mark.parametrize("response", ["12.3-20.1", "341562", "3,1,5", "13-20", "no idea", "73125846"])
def test_reward_mode_strict_is_a_deprecated_alias_of_binary(data_source, response):
    truth = SAMPLES[data_source]
    with pytest.warns(DeprecationWarning, match="use 'binary'"):
        old = score(data_source, response, truth, reward_mode="strict")
    assert old == score(data_source, response, truth, reward_mode="binary")
    assert old["task_reward"] in (0.0, 1.0)
