"""Every shipped task is one declaration (``PretextTask``) that the builder, mixes, rewards and the
VIUBench tables read: table-driven checks of what each declares and of what is derived from it."""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from data_prep.builders.mixes import MIX_DIR, parse_mix
from data_prep.tasks import TASKS, get_task
from data_prep.tasks.base import SampleSpec
from data_prep.tasks.registry import SHIPPED, PretextTask, find_task, shipped_tasks
from recipes.videossr.eval.columns import SUBTYPE_COLUMNS, TASK_AVERAGES, table_headers
from rewards.scoring import resolve_task

SHIPPED_NAMES = ["counting", "grounding", "jigsaw"]


def test_the_shipped_tasks_are_registered():
    assert set(SHIPPED_NAMES) <= set(TASKS) and set(SHIPPED_NAMES) <= set(shipped_tasks())
    assert list(SHIPPED) == SHIPPED_NAMES  # Table 1 order


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_every_shipped_task_declares_subtypes_options_and_columns(name):
    task = get_task(name)
    assert isinstance(task, PretextTask) and task.name == name and task.module == ""
    assert task.subtypes and task.default_subtype in task.subtypes
    assert set(task.subtypes.values()) <= {"easy", "hard", "standard"}
    assert isinstance(task.options, Mapping)
    assert task.effective_options(None) == dict(task.options)
    assert task.columns and all(task.has_subtype(s) for s, _ in task.columns)
    assert task.avg_label.endswith("-Avg")
    assert callable(task.make_sample) and callable(task.reward.parse_answer) and callable(task.reward.grade)
    for subtype, _ in task.columns:
        assert isinstance(task.question(subtype), str) and task.question(subtype)
        assert resolve_task(task.data_source(subtype))[0] is task  # the reward router reads the same object
    assert find_task(name) is task


def test_paper_table_is_derived_from_the_declarations_in_table_1_order():
    assert [c.label for c in SUBTYPE_COLUMNS] == [
        "Cnt-E", "Cnt-H", "Chan", "Rot", "ZoomOut", "Mirror", "Shuffle", "Jig-6", "Jig-8"]
    assert [c.data_source for c in SUBTYPE_COLUMNS] == [
        "videossr/counting/easy", "videossr/counting/hard", "videossr/grounding/channel_swap",
        "videossr/grounding/rotate_180", "videossr/grounding/zoom_out", "videossr/grounding/mirror",
        "videossr/grounding/shuffle", "videossr/jigsaw/n6", "videossr/jigsaw/n8"]
    assert TASK_AVERAGES == (("counting", "Cnt-Avg"), ("grounding", "Grd-Avg"), ("jigsaw", "Jig-Avg"))
    assert table_headers() == ["Cnt-E", "Cnt-H", "Cnt-Avg", "Chan", "Rot", "ZoomOut", "Mirror", "Shuffle",
                               "Grd-Avg", "Jig-6", "Jig-8", "Jig-Avg", "Overall"]


def test_viubench_mix_lists_exactly_the_declared_columns():
    # The mix is YAML (and its entries are recorded in every build's options): checked, not computed.
    mix = yaml.safe_load((Path(MIX_DIR) / "viubench.yaml").read_text())
    assert [(e["task"], e["subtype"]) for e in mix["entries"]] == [
        (c.task, c.data_source.split("/")[2]) for c in SUBTYPE_COLUMNS]


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_mix_validation_rejects_an_unknown_option_naming_the_known_ones(name):
    mix = {"name": "m", "entries": [{"task": name, "count": 1}], "options": {name: {"no_such_option": 1}}}
    known = sorted(get_task(name).options)
    with pytest.raises(ValueError, match=re.escape(f"options.{name}: unknown ['no_such_option'] (known: {known})")):
        parse_mix(mix)


def test_mix_validation_checks_option_values_and_task_names():
    base = {"name": "m", "entries": [{"task": "grounding", "count": 1}]}
    parse_mix({**base, "options": {"grounding": {"segment_length": [4, 6]}}})
    with pytest.raises(ValueError, match="segment_length must be"):
        parse_mix({**base, "options": {"grounding": {"segment_length": [9, 3]}}})
    with pytest.raises(ValueError, match="placement must be one of"):
        parse_mix({**base, "options": {"counting": {"placement": "nowhere"}}})
    with pytest.raises(ValueError, match=r"options must map task names \['counting', 'grounding', 'jigsaw'"):
        parse_mix({**base, "options": {"gronding": {}}})
    with pytest.raises(ValueError, match=r"unknown task 'gronding'; known: \['counting', 'grounding', 'jigsaw'"):
        parse_mix({"name": "m", "entries": [{"task": "gronding", "count": 1}]})
    # a shipped task named by its module path is the shipped task
    assert parse_mix({"name": "m", "entries": [{"task": "data_prep.tasks.jigsaw", "count": 1}]}).entries[0].task == "jigsaw"


def test_segment_length_lives_once():
    from data_prep.tasks import grounding
    from rewards.tasks import grounding as grounding_reward

    assert get_task("grounding").options["segment_length"] == grounding.SEGMENT_LENGTH == (8, 16)
    assert not hasattr(grounding_reward, "SEGMENT_LENGTHS")  # the reward reads the build's options


def test_a_shipped_spec_pickles_as_before():
    spec = SampleSpec("viubench-jigsaw-n6-000000", "jigsaw", "n6", "v1", 5, "eval")
    assert pickle.loads(pickle.dumps(spec)) == spec and spec.task_module == ""
