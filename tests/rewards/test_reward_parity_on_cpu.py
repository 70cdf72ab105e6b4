"""Parity with the paper's released rewards: the recipe's default reward equals them on every response.

The reference functions below restate the released reward definitions (paper Eq. 7-8 and the
released reward functions' parsing, as ``shared/reference/videossr-paper.md`` "Exact parity"
lists them) in a few lines each, independently of ``rewards/``. The project's reward is called
the way training calls it: ``compute_score`` with the ``reward_kwargs`` of every shipped recipe
config. Responses: the check values of the paper, thousands of random mutations of right and
wrong answers, and adversarial inputs (digit floods, Unicode digits and spaces, huge numbers).
"""

from __future__ import annotations

import math
import random
import re

import pytest

from recipes.videossr.compose import compose_recipe, config_names
from rewards.verl_reward import compute_score

DATA = ["data.train_files=t.parquet", "data.val_files=v.parquet"]
N_RANDOM = 3000  # responses per task


# --- the released definitions, restated ------------------------------------------------------


def released_grounding(response: str, truth: str) -> float:
    """Whole stripped response "[\\d.]+ - [\\d.]+" (any whitespace), floats, start <= end; IoU."""
    def interval(text):
        m = re.match(r"^\s*([\d\.]+)\s*-\s*([\d\.]+)\s*$", text.strip())
        if not m:
            return None
        try:
            a, b = float(m.group(1)), float(m.group(2))
        except ValueError:
            return None
        return None if a > b else (a, b)

    pred, gt = interval(response), interval(truth)
    if pred is None or gt is None:
        return 0.0
    inter = max(0, min(pred[1], gt[1]) - max(pred[0], gt[0]))
    union = (pred[1] - pred[0]) + (gt[1] - gt[0]) - inter
    if union < 1e-9:
        return 1.0 if inter > 0 else 0.0
    return inter / union


def released_counting(response: str, truth: str) -> float:
    """Every digit run of the response, exactly as many as the truth has counts; relative error."""
    gt = [float(x) for x in truth.split(",")]
    pred = [float(x) for x in re.findall(r"\d+", response)]
    if len(pred) != len(gt):
        return 0.0
    return sum(1.0 if p == g else max(0.0, 1.0 - abs(p - g) / (abs(g) + 1e-9)) for p, g in zip(pred, gt)) / len(gt)


def released_jigsaw(response: str, truth: str) -> float:
    """Stripped response a permutation of the truth's characters; E over labels (Eq. 7-8)."""
    answer = response.strip()
    if not response or sorted(answer) != sorted(truth):
        return 0.0
    error = sum(abs(answer.find(label) - truth.find(label)) for label in truth)
    return 1.0 - error / (len(truth) * len(truth) // 2)


REFERENCE = {"grounding": released_grounding, "counting": released_counting, "jigsaw": released_jigsaw}


# --- the project's reward as the recipes configure it ------------------------------------------


@pytest.fixture(scope="module")
def recipe_kwargs() -> list[dict]:
    """``reward_kwargs`` of every shipped config (all must give the paper's reward)."""
    kwargs = []
    for name in config_names():
        cfg = compose_recipe(name, DATA)
        kwargs.append(dict(cfg.reward.custom_reward_function.reward_kwargs))
    assert kwargs, "no recipe config found"
    return kwargs


def project(data_source: str, response: str, truth: str, kwargs: dict) -> float:
    return compute_score(data_source, response, truth, extra_info={"index": 0}, **kwargs)["score"]


def assert_parity(task: str, data_source: str, responses, truth: str, kwargs_list) -> None:
    reference = REFERENCE[task]
    for response in responses:
        want = reference(response, truth)
        if math.isnan(want):  # released IoU of "inf-inf" (309+ digit numbers) is NaN; ours 0
            want = 0.0
        for kwargs in kwargs_list:
            got = project(data_source, response, truth, kwargs)
            # 1e-9: the released counting reward divides by (true + 1e-9), the paper by true
            assert got == pytest.approx(want, abs=1e-9), (task, response, truth, kwargs)


# --- the paper's check values ------------------------------------------------------------------


@pytest.mark.parametrize(
    "truth, answer, expected",
    [
        ("341562", "341526", 0.8888888888888888),
        ("51827463", "15827463", 0.9375),
        ("123456", "654321", 0.0),
        ("341562", "431562", 0.8888888888888888),
    ],
)
def test_jigsaw_check_values(truth, answer, expected, recipe_kwargs):
    assert released_jigsaw(answer, truth) == pytest.approx(expected)  # the restatement is right
    for kwargs in recipe_kwargs:
        assert project(f"videossr/jigsaw/n{len(truth)}", answer, truth, kwargs) == pytest.approx(expected)


@pytest.mark.parametrize(
    "response",
    ["3 circles, 1 square and 4 triangles", "Answer: 3,1,4", "3,1,4.", "<answer>3,1,4</answer>", "3 1 4"],
)
def test_counting_responses_the_released_reward_accepts(response, recipe_kwargs):
    for kwargs in recipe_kwargs:
        assert project("videossr/counting/easy", response, "3,1,4", kwargs) == 1.0


@pytest.mark.parametrize(
    "response, expected",
    [
        ("12.5\t-\t20.3", 1.0),
        ("12.5 -\n20.3", 1.0),
        ("12.5-20.3\u3000", 1.0),
        ("12.-20.3", 1.0 - 0.5 / 8.3),
        (".5-20.3", 7.8 / 19.8),
        ("\uff11\uff12.\uff15-\uff12\uff10.\uff13", 1.0),
        ("1.2.3-20.3", 0.0),
        ("20.3-12.5", 0.0),
        ("12.5 to 20.3", 0.0),
    ],
)
def test_grounding_edge_cases_the_released_reward_accepts(response, expected, recipe_kwargs):
    assert released_grounding(response, "12.5-20.3") == pytest.approx(expected)
    for kwargs in recipe_kwargs:
        assert project("videossr/grounding/mirror", response, "12.5-20.3", kwargs) == pytest.approx(expected)


# --- random and adversarial responses ----------------------------------------------------------

FULLWIDTH = str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")
ARABIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
SPACES = [" ", "  ", "\t", "\n", "\u3000", "\xa0", ""]
WRAPPERS = [
    ("", ""),
    ("Answer: ", ""),
    ("<answer>", "</answer>"),
    ("The answer is ", "."),
    ("", "."),
    ("<think>maybe 2</think>", ""),
    ("(", ")"),
    ("\n", "\n"),
]
NOISE = list("0123456789.,-;: abc\t\n") + ["\u2013", "\uff13", "\u0663", "\u3000", "e"]


def mutate(rng: random.Random, text: str) -> str:
    """One random change that a sampled response could make to an answer."""
    kind = rng.randrange(9)
    if kind == 0:
        pre, post = rng.choice(WRAPPERS)
        return pre + text + post
    if kind == 1:
        return text.translate(rng.choice([FULLWIDTH, ARABIC]))
    if kind == 2 and text:
        i = rng.randrange(len(text) + 1)
        return text[:i] + rng.choice(NOISE) + text[i:]
    if kind == 3 and text:
        i = rng.randrange(len(text))
        return text[:i] + text[i + 1 :]
    if kind == 4:
        return re.sub(r"[-,]", lambda m: rng.choice(SPACES) + m.group() + rng.choice(SPACES), text)
    if kind == 5:
        return rng.choice(SPACES) + text + rng.choice(SPACES)
    if kind == 6:
        return re.sub(r"\d+", lambda m: "0" * rng.randrange(3) + m.group(), text)
    if kind == 7:
        return text + rng.choice([" or ", ", ", " "]) + text
    return "".join(rng.choice(NOISE) for _ in range(rng.randrange(12)))


def responses(rng: random.Random, answers: list[str]) -> list[str]:
    out = []
    for _ in range(N_RANDOM):
        text = rng.choice(answers)
        for _ in range(rng.randrange(4)):
            text = mutate(rng, text)
        out.append(text)
    return out


ADVERSARIAL = [
    "",
    " ",
    "1" * 5000,
    "9" * 400 + "-" + "9" * 400,  # both sides overflow to inf
    "0" * 400 + "12.5-20.3",
    "12.5-" + "9" * 400,
    "1," * 100_000,
    "3,1,4" * 1000,
    "." * 1000 + "-" + "." * 1000,
    "-".join(["1"] * 1000),
    "\u0663,\u0661,\u0664",
    "0" * 30 + "3,1,4",
    "\uff10" * 30 + "\uff13,1,4",
    "3,-1,4",
    "3.5,1,4",
]


def test_grounding_parity(recipe_kwargs):
    rng = random.Random(11)
    truth = "12.5-20.3"
    answers = [truth, "12.5-20.4", "10.0-20.3", "0.0-30.0", "15.1-18.9", "20.3-25.0", "3-7", "12-20"]
    assert_parity("grounding", "videossr/grounding/mirror", responses(rng, answers) + ADVERSARIAL, truth, recipe_kwargs)


@pytest.mark.parametrize("data_source, truth", [("videossr/counting/easy", "3,1,4"), ("videossr/counting/hard", "12,1,16")])
def test_counting_parity(data_source, truth, recipe_kwargs):
    rng = random.Random(12)
    answers = [truth, "3,1,5", "0,0,0", "9,9,9", "12,1,15", "16,16,16", "3,1", "3,1,4,1"]
    assert_parity("counting", data_source, responses(rng, answers) + ADVERSARIAL, truth, recipe_kwargs)


@pytest.mark.parametrize("truth", ["341562", "51827463"])
def test_jigsaw_parity(truth, recipe_kwargs):
    rng = random.Random(13)
    perms = ["".join(rng.sample(truth, len(truth))) for _ in range(20)]
    answers = [truth, *perms, truth[:-1], truth + truth[0], "1" * len(truth)]
    assert_parity("jigsaw", f"videossr/jigsaw/n{len(truth)}", responses(rng, answers) + ADVERSARIAL, truth, recipe_kwargs)


def test_random_responses_do_reach_partial_credit_and_zero(recipe_kwargs):
    """The random responses are not all trivially 0 or 1: the parity above covers real credit."""
    rng = random.Random(14)
    truth = "341562"
    perms = ["".join(rng.sample(truth, 6)) for _ in range(20)]
    scores = [released_jigsaw(r, truth) for r in responses(rng, [truth, *perms])]
    assert sum(0.0 < s < 1.0 for s in scores) > N_RANDOM // 10
    assert sum(s == 0.0 for s in scores) > N_RANDOM // 10


@pytest.mark.parametrize(
    "task, data_source, truth, answers",
    [
        ("grounding", "videossr/grounding/mirror", "12.5-20.3", ["12.5-20.3", "10.0-20.3", "3-7"]),
        ("counting", "videossr/counting/easy", "3,1,4", ["3,1,4", "3,1,5"]),
    ],
)
def test_the_corpus_tells_the_other_parse_modes_apart(task, data_source, truth, answers):
    """Had a recipe shipped parse_mode=strict or lenient, the parity tests would fail: on this
    corpus each scores a share of the responses differently from the released reward."""
    rng = random.Random(15)
    corpus = responses(rng, answers)
    for mode in ("strict", "lenient"):
        differ = sum(
            abs(compute_score(data_source, r, truth, parse_mode=mode)["score"] - REFERENCE[task](r, truth)) > 1e-9
            for r in corpus
        )
        assert differ > len(corpus) // 100, (task, mode, differ)
