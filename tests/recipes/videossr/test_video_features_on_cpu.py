"""recipes/videossr/video_features.py: the fast ``_preprocess`` is the Qwen-VL video processors' own bytes."""

from __future__ import annotations

import functools

import pytest
import torch
from transformers import AutoProcessor

from recipes.videossr import video_features
from recipes.videossr.dataset import VideoSSRDataset

FAMILIES = ("qwen2_5_vl", "qwen3_vl")


@pytest.fixture(scope="module", params=FAMILIES)
def video_processor(request, tiny_qwen25vl_dir, tiny_qwen3vl_dir):
    model = {"qwen2_5_vl": tiny_qwen25vl_dir, "qwen3_vl": tiny_qwen3vl_dir}[request.param]
    return AutoProcessor.from_pretrained(model).video_processor


def assert_same(reference, fast):
    assert list(reference.keys()) == list(fast.keys())
    for key in reference:
        a, b = reference[key], fast[key]
        if isinstance(a, torch.Tensor):
            assert a.dtype == b.dtype and a.shape == b.shape and b.is_contiguous(), key
            # bit for bit (torch.equal would call -0.0 == 0.0 equal)
            assert torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8)), key
        else:
            assert [vars(m) for m in a] == [vars(m) for m in b] if key == "video_metadata" else a == b, key


def clip(frames: int, height: int, width: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.uint8:
        return torch.randint(0, 256, (frames, 3, height, width), generator=g, dtype=torch.uint8)
    return torch.randint(0, 256, (frames, 3, height, width), generator=g).to(dtype)


def grid(vp) -> int:
    return vp.patch_size * vp.merge_size


def meta(frames: int) -> dict:
    return {"fps": 2.0, "frames_indices": list(range(frames)), "total_num_frames": frames}


def test_the_installed_transformers_is_the_code_the_fast_path_was_checked_against(video_processor):
    """Fails after a transformers/torchvision upgrade: re-check the equality tests, then update _VERIFIED."""
    assert video_features.supported(video_processor), type(video_processor).__name__
    fast = video_features.fast_video_processor(video_processor)
    assert fast is not video_processor and "_preprocess" not in vars(video_processor)  # the caller's is untouched


@pytest.mark.parametrize("case", ["one clip", "clips of different sizes and lengths", "uint8 frames",
                                  "non-integer values", "a non-contiguous clip", "processor kwargs"])
def test_the_fast_path_runs_and_is_byte_identical(video_processor, case):
    f = grid(video_processor)
    kwargs = {"do_sample_frames": False, "return_tensors": "pt"}
    if case == "one clip":
        videos = [clip(48, 6 * f, 10 * f)]
    elif case == "clips of different sizes and lengths":
        videos = [clip(8, 3 * f, 5 * f, seed=1), clip(12, 4 * f, 4 * f, seed=2), clip(8, 3 * f, 5 * f, seed=3)]
    elif case == "uint8 frames":
        videos = [clip(6, 3 * f, 4 * f, dtype=torch.uint8)]
    elif case == "non-integer values":  # e.g. frames a decoder already resized in float
        videos = [torch.randn(4, 3, 3 * f, 4 * f, generator=torch.Generator().manual_seed(4)) * 300]
    elif case == "a non-contiguous clip":
        videos = [clip(8, 4 * f, 3 * f).transpose(2, 3)]
    else:
        videos = [clip(4, 3 * f, 3 * f)]
        kwargs.update(image_mean=[0.1, 0.2, 0.3], image_std=[0.9, 0.5, 0.25])
    kwargs["video_metadata"] = [meta(len(v)) for v in videos]
    fast = video_features.fast_video_processor(video_processor)
    args = {"do_rescale": True, "do_normalize": True, "do_resize": True, "size": video_processor.size,
            "patch_size": video_processor.patch_size, "temporal_patch_size": video_processor.temporal_patch_size,
            "merge_size": video_processor.merge_size}
    _, target, _ = video_features._support(type(video_processor).__name__)
    assert video_features._plan(fast, videos, args, target) is not None  # not the fallback
    assert_same(video_processor(videos=videos, **kwargs), fast(videos=videos, **kwargs))


@pytest.mark.parametrize("case", ["a resize to do", "an odd frame count", "no normalisation", "grayscale"])
def test_what_the_fast_path_does_not_cover_is_the_processors_own_code(video_processor, case, monkeypatch):
    f = grid(video_processor)
    kwargs = {"do_sample_frames": False, "return_tensors": "pt"}
    videos = [clip(8, 3 * f, 4 * f)]
    if case == "a resize to do":
        videos = [clip(8, 3 * f + 5, 4 * f - 3)]
    elif case == "an odd frame count":
        videos = [clip(7, 3 * f, 4 * f)]
    elif case == "no normalisation":
        kwargs["do_normalize"] = False
    else:
        videos = [clip(8, 3 * f, 4 * f)[:, :1]]
    kwargs["video_metadata"] = [meta(len(v)) for v in videos]
    fast = video_features.fast_video_processor(video_processor)
    reference = video_processor(videos=videos, **kwargs)
    calls = []
    cls, target, original = video_features._support(type(video_processor).__name__)

    @functools.wraps(original)
    def counted(*a, **k):
        calls.append(1)
        return original(*a, **k)

    monkeypatch.setitem(video_features._SUPPORT, cls.__name__, (cls, target, counted))
    assert_same(reference, fast(videos=videos, **kwargs))
    assert calls == [1]  # the processor's own _preprocess ran


def test_a_changed_library_disables_the_fast_path(video_processor, monkeypatch):
    name = type(video_processor).__name__
    monkeypatch.setitem(video_features._VERIFIED, name, "0" * 64)
    monkeypatch.setattr(video_features, "_SUPPORT", {})
    assert not video_features.supported(video_processor)
    assert video_features.fast_video_processor(video_processor) is video_processor


def test_an_instance_override_disables_the_fast_path(video_processor):
    import copy

    patched = copy.copy(video_processor)
    patched.normalize = lambda *a, **k: None
    assert not video_features.supported(patched)


@pytest.fixture(scope="module")
def rollout_clips(video_processor, tiny_qwen25vl_dir, tiny_qwen3vl_dir, videossr_data_dir, tmp_path_factory):
    """``source -> clips`` of the rows as the rollout decodes them (the recipe's dataset and config)."""
    from recipes.videossr.compose import compose_recipe

    family = "qwen3_vl" if type(video_processor).__name__.startswith("Qwen3") else "qwen2_5_vl"
    model = {"qwen2_5_vl": tiny_qwen25vl_dir, "qwen3_vl": tiny_qwen3vl_dir}[family]
    config = {"qwen2_5_vl": "videossr_qwen25vl_7b", "qwen3_vl": "videossr_qwen3vl_8b"}[family]
    parquet = videossr_data_dir / "viubench.parquet"
    cfg = compose_recipe(config, [f"data.train_files={parquet}", f"data.val_files={parquet}",
                                  f"actor_rollout_ref.model.path={model}",
                                  f"+data.cache_dir={tmp_path_factory.mktemp('cache')}"])
    processor = AutoProcessor.from_pretrained(model)
    dataset = VideoSSRDataset(str(parquet), processor.tokenizer, cfg.data, processor)
    clips = {}
    for i in range(len(dataset)):
        row = dataset[i]
        if row["data_source"] not in clips:
            _, videos, _ = VideoSSRDataset._process_multi_modal_info(
                list(row["raw_prompt"]), processor.image_processor.patch_size, cfg.data)
            clips[row["data_source"]] = videos
    return clips


@pytest.mark.parametrize("source", ["videossr/counting/easy", "videossr/jigsaw/n6", "videossr/jigsaw/n8"])
def test_the_recipes_decoded_clips_take_the_fast_path(video_processor, rollout_clips, source):
    frames, metas = [v for v, _ in rollout_clips[source]], [m for _, m in rollout_clips[source]]
    kwargs = {"do_sample_frames": False, "return_tensors": "pt", "video_metadata": metas}
    fast = video_features.fast_video_processor(video_processor)
    args = {"do_rescale": True, "do_normalize": True, "do_resize": True, "size": video_processor.size,
            "patch_size": video_processor.patch_size, "temporal_patch_size": video_processor.temporal_patch_size,
            "merge_size": video_processor.merge_size}
    _, target, _ = video_features._support(type(video_processor).__name__)
    assert video_features._plan(fast, frames, args, target) is not None
    assert_same(video_processor(videos=frames, **kwargs), fast(videos=frames, **kwargs))
