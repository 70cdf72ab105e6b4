"""answer_priors: exact figures, cross-checked by brute force through rewards.score itself."""

from __future__ import annotations

import itertools
import random

import pytest

from rewards import score
from rewards.priors import answer_priors
from data_prep.tasks.grounding import SEGMENT_LENGTH

SEGMENT_LENGTHS = range(SEGMENT_LENGTH[0], SEGMENT_LENGTH[1] + 1)  # the paper's, declared once

FRAMES = 48


def row(data_source: str, truth: str, index: int, **info) -> dict:
    task, subtype = data_source.split("/")[1:]
    extra = {"index": index, "split": "eval", "task": task, "subtype": subtype, "num_frames": FRAMES, **info}
    return {
        "data_source": data_source,
        "reward_model": {"style": "rule", "ground_truth": truth},
        "extra_info": extra,
    }


def grounding_rows(n: int, seed: int, subtype: str = "mirror", lengths=SEGMENT_LENGTHS) -> list[dict]:
    """Rows drawn the way the paper's generator draws them (segment lengths ``lengths``)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        fps = FRAMES / rng.uniform(10.0, 60.0)
        length = rng.choice(lengths)
        start = rng.randint(0, FRAMES - length)
        truth = f"{start / fps:.1f}-{(start + length) / fps:.1f}"
        rows.append(row(f"videossr/grounding/{subtype}", truth, i, sample_fps=fps, difficulty="standard"))
    return rows


def counting_rows(n: int, seed: int, level: str) -> list[dict]:
    rng = random.Random(seed)
    top = {"easy": 9, "hard": 16}[level]
    return [
        row(
            f"videossr/counting/{level}",
            ",".join(str(rng.randint(1, top)) for _ in range(3)),
            i,
            difficulty=level,
            sample_fps=1.0,
        )
        for i in range(n)
    ]


def jigsaw_rows(n: int, seed: int, clips: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        row(
            f"videossr/jigsaw/n{clips}",
            "".join(map(str, rng.sample(range(1, clips + 1), clips))),
            i,
            difficulty="easy",
            sample_fps=1.0,
        )
        for i in range(n)
    ]


def mean_score(rows: list[dict], answer_for_row, key: str = "score") -> float:
    return sum(
        score(r["data_source"], answer_for_row(r), r["reward_model"]["ground_truth"])[key] for r in rows
    ) / len(rows)


def test_counting_figures_match_brute_force_over_all_constant_answers():
    rows = counting_rows(12, seed=1, level="easy")
    figures = answer_priors(rows)["videossr/counting/easy"]
    assert figures["n"] == 12 and figures["task"] == "counting"
    constants = [",".join(map(str, c)) for c in itertools.product(range(1, 10), repeat=3)]
    by_score = {c: mean_score(rows, lambda r, c=c: c) for c in constants}
    best = max(by_score.values())
    assert figures["best_constant_score"] == pytest.approx(best, abs=1e-9)
    assert by_score[figures["best_constant"]] == pytest.approx(best, abs=1e-9)
    assert figures["best_constant_acc"] == pytest.approx(
        mean_score(rows, lambda r: figures["best_constant"], "acc"), abs=1e-9
    )
    by_acc = {c: mean_score(rows, lambda r, c=c: c, "acc") for c in constants}
    assert figures["best_acc_constant_acc"] == pytest.approx(max(by_acc.values()), abs=1e-9)
    # Uniform guess of each count in 1..9 == the mean over all 729 answers.
    assert figures["random_score"] == pytest.approx(sum(by_score.values()) / len(constants), abs=1e-9)
    assert figures["random_acc"] == pytest.approx(1 / 9, abs=1e-12)  # the paper's 11.1


def test_counting_hard_random_acc_is_one_sixteenth():
    figures = answer_priors(counting_rows(40, seed=2, level="hard"))["videossr/counting/hard"]
    assert figures["random_acc"] == pytest.approx(1 / 16)  # the paper's 6.3
    assert 0.0 < figures["random_score"] < figures["best_constant_score"] <= 1.0


def test_jigsaw_figures_match_brute_force_over_all_orders():
    rows = jigsaw_rows(10, seed=3, clips=6)
    figures = answer_priors(rows)["videossr/jigsaw/n6"]
    orders = ["".join(map(str, p)) for p in itertools.permutations(range(1, 7))]
    by_score = {o: mean_score(rows, lambda r, o=o: o) for o in orders}
    assert figures["best_constant_score"] == pytest.approx(max(by_score.values()), abs=1e-9)
    assert by_score[figures["best_constant"]] == pytest.approx(max(by_score.values()), abs=1e-9)
    assert figures["random_score"] == pytest.approx(sum(by_score.values()) / len(orders), abs=1e-9)
    assert figures["random_acc"] == pytest.approx(1 / 720)
    assert figures["best_acc_constant_acc"] == pytest.approx(0.1)  # 10 distinct random orders


def _seconds(r, a, b):
    fps = r["extra_info"]["sample_fps"]
    return f"{round(a / fps, 1):.1f}-{round(b / fps, 1):.1f}"


def _generator_guess(rows, lengths) -> float:
    """Brute force through rewards.score: mean IoU of every segment the generator can draw."""
    return sum(
        mean_score(rows, lambda r, s=s, n=n: _seconds(r, s, s + n)) / (len(lengths) * (FRAMES - n + 1))
        for n in lengths
        for s in range(FRAMES - n + 1)
    )


def test_grounding_figures_match_brute_force_through_score():
    rows = grounding_rows(6, seed=4)
    figures = answer_priors(rows)["videossr/grounding/mirror"]
    seconds = _seconds

    assert figures["generator_guess_acc"] == pytest.approx(_generator_guess(rows, SEGMENT_LENGTHS), abs=1e-9)
    whole_video = mean_score(rows, lambda r: seconds(r, 0, FRAMES))
    assert figures["random_score"] == pytest.approx(whole_video, abs=1e-9)
    assert figures["random_acc"] == figures["random_score"]
    constants = {
        (a, b): mean_score(rows, lambda r, a=a, b=b: seconds(r, a, b))
        for a in range(FRAMES)
        for b in range(a + 1, FRAMES + 1)
    }
    assert figures["best_constant_score"] == pytest.approx(max(constants.values()), abs=1e-9)
    a, b = map(int, figures["best_constant"].split()[1].split("-"))
    assert constants[(a, b)] == pytest.approx(max(constants.values()), abs=1e-9)


def test_grounding_prior_uses_the_segment_length_the_rows_were_built_with():
    # A mix overriding segment_length: the generator's distribution is the build's, not the paper's.
    lengths = range(4, 7)
    rows = grounding_rows(6, seed=11, lengths=lengths)
    built_with = {"grounding": {"segment_length": [4, 6]}}
    figures = answer_priors(rows, built_with)["videossr/grounding/mirror"]
    assert figures["generator_guess_acc"] == pytest.approx(_generator_guess(rows, lengths), abs=1e-9)
    paper = answer_priors(rows)["videossr/grounding/mirror"]  # the declared default, 8..16
    assert paper["generator_guess_acc"] == pytest.approx(_generator_guess(rows, SEGMENT_LENGTHS), abs=1e-9)
    assert figures["generator_guess_acc"] != pytest.approx(paper["generator_guess_acc"], abs=1e-3)
    # options of other tasks, or of no task, change nothing
    assert answer_priors(rows, {"counting": {"placement": "spaced"}}) == answer_priors(rows)


def test_grounding_random_row_reproduces_the_papers_within_one_point():
    # The paper's grounding random row is 25.2-25.9. The whole-video answer has expected IoU
    # E[t]/48 = 12/48 = 0.25 exactly in frame units; a guess drawn from the generator's own
    # distribution (U{8..16} frames at a uniform start among 48) has E[IoU] = 0.21586, 3.6-4.3
    # points below every column. Rows are drawn from the generator and answers rounded to 0.1 s,
    # hence the tolerance.
    figures = answer_priors(grounding_rows(600, seed=5))["videossr/grounding/mirror"]
    assert figures["random_acc"] == pytest.approx(0.25, abs=0.01)
    for paper in (25.9, 25.4, 25.4, 25.2, 25.2):  # Chan, Rot, ZoomOut, Mirror, Shuffle
        assert abs(100 * figures["random_acc"] - paper) < 1.0
    assert figures["generator_guess_acc"] == pytest.approx(0.21586, abs=0.01)
    assert figures["best_constant_score"] > figures["generator_guess_acc"]  # the generator's centre bias


def test_groups_by_data_source_in_sorted_order_and_is_deterministic():
    rows = jigsaw_rows(5, 6, 8) + counting_rows(5, 7, "easy") + grounding_rows(5, 8, "rotate_180")
    report = answer_priors(rows)
    assert list(report) == ["videossr/counting/easy", "videossr/grounding/rotate_180", "videossr/jigsaw/n8"]
    assert report == answer_priors(list(reversed(rows)))
    assert report["videossr/jigsaw/n8"]["random_acc"] == pytest.approx(1 / 40320)


def test_malformed_rows_name_the_row():
    rows = counting_rows(3, 9, "easy")
    rows[2]["reward_model"]["ground_truth"] = "3,1"
    with pytest.raises(ValueError, match=r"row 2 .*counting ground truth"):
        answer_priors(rows)
    with pytest.raises(ValueError, match="missing reward_model.ground_truth"):
        answer_priors([{"data_source": "videossr/counting/easy", "extra_info": {}}])
    bad_level = counting_rows(2, 9, "easy")
    for r in bad_level:
        r["extra_info"]["difficulty"] = "medium"
        r["extra_info"]["subtype"] = "medium"
    with pytest.raises(ValueError, match="difficulty 'medium'"):
        answer_priors(bad_level)
