"""``decode_videos`` decodes each video file once per settings, with the frames verl's hook gives."""

from __future__ import annotations

import copy
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from data_prep.embedded import embedded_videos
from recipes.videossr.eval.backends import base
from recipes.videossr.eval.backends.base import clear_decode_memo, decode_memo_stats, decode_videos


def _clip(name: str) -> str:
    return str(next(p for p in embedded_videos() if p.name == name))


def _part(path: str, max_frames: int = 8, **extra) -> dict:
    # the downstream eval's settings, smaller budgets (fast on CPU)
    return {"type": "video", "video": path, "fps": 2.0, "max_frames": max_frames,
            "max_pixels": 128 * 128, "min_pixels": 64 * 64, **extra}


def _conversation(*parts: dict, question: str = "What happens?") -> list[dict]:
    return [{"role": "user", "content": [*parts, {"type": "text", "text": question}]}]


def _verl_all_at_once(conversation: list[dict], patch: int = 14) -> list:
    """What decode_videos did before the memo: verl's hook on the whole conversation."""
    from verl.utils.dataset.rl_dataset import RLHFDataset

    _, videos, _ = RLHFDataset._process_multi_modal_info(conversation, image_patch_size=patch, config=None)
    return list(videos or [])


def _assert_same(got: list, want: list) -> None:
    assert len(got) == len(want)
    for (frames, metadata), (frames_want, metadata_want) in zip(got, want):
        assert frames.dtype == frames_want.dtype and torch.equal(frames, frames_want)
        assert metadata == metadata_want


def _frame_list(count: int = 3) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (56, 84, 3), dtype=np.uint8)) for _ in range(count)]


@pytest.fixture(autouse=True)
def _fresh_memo():
    clear_decode_memo()
    yield
    clear_decode_memo()


@pytest.mark.parametrize("patch", [14, 16])
def test_one_at_a_time_equals_all_at_once(patch):
    # two files, different settings, a frame list between them, and a system message
    conversation = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": [
            _part(_clip("carphone_pristine.mp4"), 6),
            {"type": "video", "video": _frame_list(), "sample_fps": 2.0},
            {"type": "text", "text": "and"},
            _part(_clip("bikes.mp4"), 4, max_pixels=96 * 96),
        ]},
    ]
    want = _verl_all_at_once(copy.deepcopy(conversation), patch)
    _assert_same(decode_videos(conversation, patch), want)
    assert decode_memo_stats()["misses"] == 2  # the two files; the frame list is not memoised
    _assert_same(decode_videos(conversation, patch), want)
    assert decode_memo_stats()["hits"] == 2


def test_each_video_is_decoded_once_per_budget():
    path = _clip("carphone_pristine.mp4")
    questions = [_conversation(_part(path), question=q) for q in ("Q1?", "Q2?", "Q3?")]
    outputs = [decode_videos(c, 14) for c in questions]
    assert decode_memo_stats() == {"hits": 2, "misses": 1, "size": 1, "maxsize": base.DECODE_MEMO.maxsize}
    for out in outputs[1:]:
        _assert_same(out, outputs[0])
    _assert_same(outputs[0], _verl_all_at_once(questions[0]))
    # another budget is another decode; the settings' key order does not matter
    decode_videos(_conversation(_part(path, max_frames=4)), 14)
    reordered = dict(reversed(list(_part(path).items())))
    decode_videos(_conversation(reordered), 14)
    assert decode_memo_stats()["misses"] == 2 and decode_memo_stats()["hits"] == 3


def test_patch_size_and_file_changes_are_new_decodes(tmp_path):
    path = tmp_path / "clip.mp4"
    shutil.copy(_clip("carphone_pristine.mp4"), path)
    conversation = _conversation(_part(str(path)))
    first = decode_videos(conversation, 14)
    decode_videos(conversation, 16)
    assert decode_memo_stats()["misses"] == 2
    shutil.copy(_clip("bikes.mp4"), path)  # same path, another video
    changed = decode_videos(conversation, 14)
    assert decode_memo_stats()["misses"] == 3
    assert changed[0][0].shape != first[0][0].shape or not torch.equal(changed[0][0], first[0][0])


def test_frame_lists_take_verls_path_unchanged():
    frames = _frame_list(4)
    conversation = _conversation({"type": "video", "video": frames, "sample_fps": 2.0})
    _assert_same(decode_videos(conversation, 14), _verl_all_at_once(conversation))
    assert decode_memo_stats()["hits"] == decode_memo_stats()["misses"] == 0
    assert decode_videos(_conversation(), 14) == []  # no video at all


def test_memo_is_bounded():
    path = _clip("carphone_pristine.mp4")
    for max_frames in range(4, 4 + 2 * (base.DECODE_MEMO.maxsize + 2), 2):
        decode_videos(_conversation(_part(path, max_frames)), 14)
    stats = decode_memo_stats()
    assert stats["size"] == stats["maxsize"] and stats["misses"] == stats["maxsize"] + 2


@pytest.mark.parametrize("kind", ["tiny_qwen25vl_dir", "tiny_qwen3vl_dir"])
def test_shared_frames_survive_the_processor(kind, request):
    """A memo hit hands out the very tensor an earlier question gave the processor: the processor
    must not have changed it (nor the metadata, of which each caller gets its own copy)."""
    from transformers import AutoProcessor

    from verl.utils.tokenizer import build_multimodal_processor_inputs

    processor = AutoProcessor.from_pretrained(request.getfixturevalue(kind))
    patch = base.patch_size_of(processor)
    conversation = _conversation(_part(_clip("carphone_pristine.mp4")))
    text = processor.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)

    first = decode_videos(conversation, patch)
    frames_before, metadata_before = first[0][0].clone(), copy.deepcopy(first[0][1])
    inputs_first = build_multimodal_processor_inputs(processor, text=[text], videos=first)
    inputs_first_again = build_multimodal_processor_inputs(processor, text=[text], videos=first)

    second = decode_videos(conversation, patch)
    assert decode_memo_stats()["hits"] == 1
    assert second[0][0] is first[0][0]  # shared, not copied
    assert second[0][1] is not first[0][1]
    assert torch.equal(second[0][0], frames_before) and second[0][1] == metadata_before
    inputs_second = build_multimodal_processor_inputs(processor, text=[text], videos=second)
    for inputs in (inputs_first_again, inputs_second):
        assert set(inputs) == set(inputs_first)
        for key, value in inputs_first.items():
            assert torch.equal(inputs[key], value), key


def test_a_reader_that_decodes_everything_is_warned_about(monkeypatch):
    frames = torch.zeros(2, 3, 28, 28)
    monkeypatch.setattr(base, "_warned_readers", set())
    monkeypatch.setattr(base, "_decode_one", lambda part, patch: (frames, {"video_backend": "torchvision"}))
    conversation = _conversation(_part("/no/such/clip.mp4"))
    with pytest.warns(RuntimeWarning, match="torchvision, which decodes every frame"):
        (got, metadata), = decode_videos(conversation, 14)
    assert got is frames and metadata == {"video_backend": "torchvision"}
