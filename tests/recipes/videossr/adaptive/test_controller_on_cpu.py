"""The level controller and the group statistics: direction, bounds, determinism, checkpoints."""

from __future__ import annotations

import doctest
import json
import random

import pytest
import torch

from recipes.videossr.adaptive import controller as ctl
from recipes.videossr.adaptive.controller import GroupResult, LevelController, adaptive_options, group_metrics
from recipes.videossr.adaptive.replay_buffer import groups_from_fields, sampler_options

ON = {"enable": True, "min_groups": 4, "window": 8}


def groups(family, level, means, n=10, task="jigsaw", subtype="n6"):
    """One group per mean: round(mean * n) rollouts right (1.0), the rest wrong (0.0)."""
    out = []
    for i, mean in enumerate(means):
        right = round(mean * n)
        out.append(GroupResult(task, subtype, level, family, (1.0,) * right + (0.0,) * (n - right), key=f"{i:04d}"))
    return out


def controller(levels=range(7), paper=2, **options):
    c = LevelController({**ON, **options})
    c.register_family("jigsaw", list(levels), paper_level=paper)
    return c


@pytest.mark.parametrize("means, expected, why", [
    ([1.0] * 4, 3, "all right: harder"),
    ([0.0] * 4, 1, "all wrong: easier"),
    ([0.5] * 4, 2, "in the band: stays"),
    ([0.75] * 4, 3, "just above target_high"),
    ([0.25] * 4, 1, "just below target_low"),
    ([0.7] * 4, 2, "on the boundary: stays"),
    ([1.0] * 3, 2, "fewer than min_groups: no decision yet"),
])
def test_moves_in_the_right_direction(means, expected, why):
    c = controller()
    c.update(1, groups("jigsaw", 2, means))
    assert c.level("jigsaw") == expected, why


def test_stays_within_the_levels_present():
    c = controller(levels=[1, 3, 4], paper=2)  # the data has no level 0, 2, 5 or 6
    assert c.level("jigsaw") == 1  # the nearest to the paper's 2 (ties: the easier)
    for step in range(1, 10):
        c.update(step, groups("jigsaw", c.level("jigsaw"), [1.0] * 4))
        assert c.level("jigsaw") in (1, 3, 4)
    assert c.level("jigsaw") == 4  # the top: all-right groups cannot push it further
    for step in range(10, 20):
        c.update(step, groups("jigsaw", c.level("jigsaw"), [0.0] * 4))
    assert c.level("jigsaw") == 1  # and the bottom


def test_only_groups_at_the_current_level_decide():
    c = controller()
    c.update(1, groups("jigsaw", 5, [1.0] * 8) + groups("jigsaw", 2, [0.5] * 4))  # old prompts of level 5
    assert c.level("jigsaw") == 2
    c.update(2, groups("other", 2, [1.0] * 8))  # an unknown family is ignored
    assert c.current == {"jigsaw": 2}


def test_window_min_groups_and_hold_steps():
    c = controller(hold_steps=2, window=4)
    c.update(1, groups("jigsaw", 2, [1.0] * 4))
    assert c.level("jigsaw") == 3  # first decision
    c.update(2, groups("jigsaw", 3, [1.0] * 4))
    c.update(3, groups("jigsaw", 3, [1.0] * 4))
    assert c.level("jigsaw") == 3  # held for 2 steps after the change
    c.update(4, groups("jigsaw", 3, [1.0] * 4))
    assert c.level("jigsaw") == 4
    # the window keeps the latest groups only: old all-wrong ones are pushed out
    c = controller(window=4)
    c.update(1, groups("jigsaw", 2, [0.5, 0.5, 0.5]))
    c.update(2, groups("jigsaw", 2, [0.9, 0.9, 0.9, 0.9]))
    assert c.level("jigsaw") == 3 and c.windows["jigsaw"] == type(c.windows["jigsaw"])([], maxlen=4)


def test_metrics_of_the_controller():
    c = controller()
    m = c.update(7, groups("jigsaw", 2, [1.0, 1.0, 0.5, 1.0]))
    assert m == {"videossr_adaptive/jigsaw/level": 3.0, "videossr_adaptive/jigsaw/pass_rate": 0.875,
                 "videossr_adaptive/level_changes": 1.0}
    assert LevelController({"enable": False}).update(1, groups("jigsaw", 2, [1.0] * 4)) == {}


def stream(seed, steps=30):
    """A model whose skill grows: pass probability falls with the level, rises with the step."""
    rng = random.Random(seed)
    out = []
    for step in range(1, steps + 1):
        out.append([(rng.random(), step) for _ in range(6)])
    return out


def run(c, draws):
    history = []
    for step, batch in enumerate(draws, 1):
        level = c.level("jigsaw")
        means = [min(1.0, max(0.0, u * 0.4 + 0.05 * s - 0.15 * level)) for u, s in batch]
        c.update(step, groups("jigsaw", level, means))
        history.append(c.level("jigsaw"))
    return history


def test_deterministic_and_independent_of_group_order():
    draws = stream(3)
    a, b = run(controller(), draws), run(controller(), draws)
    assert a == b and len(set(a)) > 2  # it moved, and the same way twice
    c1, c2 = controller(), controller()
    gs = groups("jigsaw", 2, [0.9, 0.8, 0.95, 1.0, 0.6])
    c1.update(1, gs)
    c2.update(1, list(reversed(gs)))
    assert c1.state_dict() == c2.state_dict()


def test_state_round_trips_and_a_resumed_controller_continues_the_same_schedule():
    draws = stream(5)
    whole = controller()
    whole.attach_pools({"jigsaw": {k: list(range(10 * k, 10 * k + 7)) for k in range(7)}}, {"jigsaw": 2})
    first = controller()
    first.attach_pools({"jigsaw": {k: list(range(10 * k, 10 * k + 7)) for k in range(7)}}, {"jigsaw": 2})
    served_whole, served = [], []
    for step, batch in enumerate(draws, 1):
        served_whole += [whole.next_index("jigsaw") for _ in range(3)]
        run_one(whole, step, batch)
        if step <= 12:
            served += [first.next_index("jigsaw") for _ in range(3)]
            run_one(first, step, batch)
    state = json.loads(json.dumps(first.state_dict()))  # plain values: any checkpoint format holds it
    torch.save(state, "/dev/null")
    resumed = controller()
    resumed.attach_pools({"jigsaw": {k: list(range(10 * k, 10 * k + 7)) for k in range(7)}}, {"jigsaw": 2})
    resumed.load_state_dict(state)
    for step, batch in enumerate(draws[12:], 13):
        served += [resumed.next_index("jigsaw") for _ in range(3)]
        run_one(resumed, step, batch)
    assert served == served_whole
    assert resumed.state_dict() == whole.state_dict()


def run_one(c, step, batch):
    level = c.level("jigsaw")
    c.update(step, groups("jigsaw", level, [min(1.0, max(0.0, u * 0.4 + 0.05 * s - 0.15 * level)) for u, s in batch]))


def test_a_checkpoint_of_other_data_is_refused():
    c = controller()
    other = controller(levels=[0, 1])
    with pytest.raises(ValueError, match="differ from this dataset's"):
        c.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="state version"):
        c.load_state_dict({**c.state_dict(), "version": 99})


def test_pools_are_walked_without_repeats_then_reshuffled_deterministically():
    def make(seed):
        c = LevelController({"enable": True, "seed": seed})
        c.attach_pools({"counting": {1: [10, 11, 12, 13, 14]}}, {"counting": 1})
        return c

    c = make(0)
    first, second = [c.next_index("counting") for _ in range(5)], [c.next_index("counting") for _ in range(5)]
    assert sorted(first) == sorted(second) == [10, 11, 12, 13, 14]  # every row once per pass
    a = make(0)
    assert [a.next_index("counting") for _ in range(10)] == first + second
    orders = {tuple(make(s).next_index("counting") for _ in range(5)) for s in range(6)}
    assert len(orders) > 1  # the seed decides the order


@pytest.mark.parametrize("start, expected", [("paper", 2), ("lowest", 0), ("highest", 6), (4, 4), (9, 6)])
def test_start(start, expected):
    assert controller(start=start).level("jigsaw") == expected


@pytest.mark.parametrize("options, message", [
    ({"target_low": 0.8, "target_high": 0.7}, "target_low < target_high"),
    ({"min_groups": 0}, "positive integer"),
    ({"min_groups": 9, "window": 8}, "cannot exceed window"),
    ({"start": "middle"}, "adaptive.start"),
    ({"hold_step": 1}, r"unknown adaptive option\(s\) \['hold_step'\]"),
])
def test_bad_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        adaptive_options(options)


def test_group_metrics_table():
    rows = [
        GroupResult("counting", "easy", 1, "counting", (1.0, 1.0, 1.0, 1.0), (1.0,) * 4),  # all-high
        GroupResult("counting", "easy", 1, "counting", (0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 1.0, 1.0)),  # all-low
        GroupResult("counting", "l3", 3, "counting", (0.5, 0.25, 0.0, 1.0), (1.0,) * 4),  # informative
        GroupResult("grounding", "mirror", -1, "", (0.3, 0.3, 0.3, 0.3), (1.0,) * 4, trained=False),  # filtered
    ]
    m = group_metrics(rows)
    p = "videossr_groups"
    assert m[f"{p}/all/groups"] == 4 and m[f"{p}/all/zero_var_frac"] == 0.75
    assert (m[f"{p}/all/all_high_frac"], m[f"{p}/all/all_low_frac"]) == (0.25, 0.5)  # 0.3 < high_score: low
    assert m[f"{p}/counting/easy/l1/zero_var_frac"] == 1.0 and m[f"{p}/counting/easy/groups"] == 2
    assert m[f"{p}/counting/l3/l3/reward_mean"] == pytest.approx(0.4375)
    assert m[f"{p}/counting/parse_fail_rate"] == pytest.approx(2 / 12)
    assert f"{p}/grounding/mirror/l-1/groups" not in m and m[f"{p}/grounding/mirror/groups"] == 1
    assert (m[f"{p}/all/trained_groups"], m[f"{p}/all/filtered_groups"], m[f"{p}/all/informative_samples"]) == (3, 1, 4)
    assert group_metrics([]) == {}
    assert not any("parse_fail" in k for k in group_metrics([GroupResult("a", "b", -1, "", (1.0, 0.0))]))
    # verl's MetricsAggregator picks max/min/sum reductions by substring: none of these names has one
    assert not [k for k in m if any(w in k.split("/")[-1] for w in ("max", "min", "sum", "total"))]


def test_groups_from_transfer_queue_fields():
    keys = ["u2_0_0", "u1_1_0", "u1_0_0", "u1_0_1", "u2_1_0"]  # u1 session 0 has two outputs: the last counts
    data = {
        "rm_scores": [[0.0, 1.0], [0.0, 0.5], [0.2], [0.0, 0.25], [0.0]],
        "data_source": ["videossr/jigsaw/n4", "videossr/counting/easy", "videossr/counting/easy",
                        "videossr/counting/easy", "videossr/jigsaw/n4"],
        "extra_info": [{"sample_id": "b", "meta": json.dumps({"level": 0, "level_family": "jigsaw"})},
                       {"sample_id": "a", "meta": "{}"}, {"sample_id": "a", "meta": "{}"},
                       {"sample_id": "a", "meta": "{}"},
                       {"sample_id": "b", "meta": json.dumps({"level": 0, "level_family": "jigsaw"})}],
        "extra_fields": [{"reward_extra_info": {"parsed": 1.0}}, {"reward_extra_info": {"parsed": 1.0}},
                         {"reward_extra_info": {"parsed": 0.0}}, {"reward_extra_info": {"parsed": 1.0}},
                         {"reward_extra_info": {"parsed": 0.0}}],
    }
    got = groups_from_fields(keys, data)
    assert [(g.task, g.subtype, g.level, g.family, g.scores, g.parsed) for g in got] == [
        ("counting", "easy", -1, "", (0.25, 0.5), (1.0, 1.0)),
        ("jigsaw", "n4", 0, "jigsaw", (1.0, 0.0), (1.0, 0.0)),
    ]


def test_sampler_kwargs_typos_raise():
    assert sampler_options({})["adaptive"] == {}
    with pytest.raises(ValueError, match=r"unknown trainer.v1.sampler.sampler_kwargs \['adaptiv'\]"):
        sampler_options({"adaptiv": {}})


def test_docstring_examples():
    assert doctest.testmod(ctl).failed == 0
