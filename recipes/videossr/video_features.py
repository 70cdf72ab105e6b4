"""The Qwen-VL video processors' ``_preprocess`` with one copy of the frames instead of five, same bytes.

transformers 5.10's ``Qwen2VLVideoProcessor._preprocess`` (Qwen2.5-VL) and
``Qwen3VLVideoProcessor._preprocess`` copy a clip's float32 frames (~35 MB for 48 frames at
256*256) five times: ``torch.stack`` to group the clips by shape, twice; the normalisation's
``sub`` (then ``div_`` in place); the patch ``permute(...).reshape``; the final ``torch.cat``.
Each copy is a fresh allocation of about 32 MiB, glibc's largest ``mmap`` threshold: above it (a
Qwen3-VL clip: 35.4 MB) every one is a new mapping whose page faults are paid again each time. The function here writes each clip's normalised values straight into
the patch layout of one output tensor (``torch.sub(frames, mean, out=<patch-ordered view>)``) and
divides it in place: the same elementwise float32 operations on the same values (IEEE-754 ``-``
and ``/`` round exactly, whatever the memory layout), so the bytes are the processor's.

It only runs where that argument holds; anything else is the processor's own ``_preprocess``:

- the processor's class is one of the two above, with its ``_preprocess``, ``convert_to_rgb``,
  ``resize``-free path and transformers' fused rescale + normalise (``rescale_and_normalize``,
  ``_fuse_mean_std_and_rescale_factor``, ``normalize``, torchvision's ``normalize_image``) exactly
  the code this was checked against (the source digests in ``_VERIFIED``; another transformers or
  torchvision version falls back until re-checked: ``tests/recipes/videossr/test_video_features_on_cpu.py``);
- every clip is a 4-D RGB float32 or uint8 tensor, its frame count a multiple of the temporal patch,
  its size already the processor's target (``smart_resize`` returns it: no resize to do; qwen-vl-utils
  already resized the frames to the patch grid) and divisible by the patch grid;
- rescale and normalise are both on (the processors' default: the fused path).

``fast_video_processor(vp)`` returns a shallow copy of ``vp`` with this ``_preprocess`` (the caller's
object and the transformers classes are left alone; the copy's ``preprocess`` front end, kwargs
validation and metadata are transformers' own), or ``vp`` itself where the check does not pass.

>>> fast_video_processor(object()).__class__.__name__  # not a Qwen-VL video processor: unchanged
'object'
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import types
from typing import Any, Callable, Optional

import torch

# sha256 of the source of every function the fast path reproduces, per class (transformers 5.10.4,
# torchvision 0.28); a mismatch disables the fast path for that class.
_VERIFIED = {
    "Qwen2VLVideoProcessor": "714bb87b681e1df4f6a47276c7ac0b0f2714bca46e41f619a994c5ca0db59464",
    "Qwen3VLVideoProcessor": "618c874447d2d612e1768ca30722b5956fa7db7820fc20ac97ad1b8803ba9b0f",
}


def _mirrored(cls_name: str) -> Optional[tuple[type, list[Callable], Callable]]:
    """``(class, functions reproduced, target-size function)`` of a supported class, or None."""
    import torchvision.transforms.v2.functional._misc as tv_misc
    from transformers.image_processing_backends import TorchvisionBackend
    from transformers.video_processing_utils import BaseVideoProcessor

    if cls_name == "Qwen2VLVideoProcessor":
        from transformers.models.qwen2_vl import video_processing_qwen2_vl as module
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

        def target(T, H, W, args):
            return smart_resize(H, W, factor=args["patch_size"] * args["merge_size"],
                                min_pixels=args["size"]["shortest_edge"], max_pixels=args["size"]["longest_edge"])
    elif cls_name == "Qwen3VLVideoProcessor":
        from transformers.models.qwen3_vl import video_processing_qwen3_vl as module

        smart_resize = module.smart_resize

        def target(T, H, W, args):
            return smart_resize(num_frames=T, height=H, width=W, temporal_factor=args["temporal_patch_size"],
                                factor=args["patch_size"] * args["merge_size"], min_pixels=args["size"].shortest_edge,
                                max_pixels=args["size"].longest_edge)
    else:
        return None
    cls = getattr(module, cls_name)
    functions = [cls._preprocess, smart_resize, BaseVideoProcessor.convert_to_rgb,
                 TorchvisionBackend.rescale_and_normalize, TorchvisionBackend._fuse_mean_std_and_rescale_factor,
                 TorchvisionBackend.normalize, tv_misc.normalize_image]
    return cls, functions, target


def source_digest(functions: list[Callable]) -> str:
    """sha256 over the source code of ``functions`` (unwrapping decorators such as ``lru_cache``)."""
    digest = hashlib.sha256()
    for fn in functions:
        digest.update(inspect.getsource(inspect.unwrap(fn)).encode())
    return digest.hexdigest()


_SUPPORT: dict[str, Any] = {}  # class name -> (class, target size function, verified _preprocess) or None


def _support(cls_name: str) -> Any:
    if cls_name not in _SUPPORT:
        found = _mirrored(cls_name)
        ok = found is not None and source_digest(found[1]) == _VERIFIED.get(cls_name)
        _SUPPORT[cls_name] = (found[0], found[2], found[1][0]) if ok else None
    return _SUPPORT[cls_name]


def supported(video_processor: Any) -> bool:
    """Whether ``video_processor`` runs the fast path (its exact class and code were verified)."""
    from transformers.image_processing_backends import TorchvisionBackend
    from transformers.video_processing_utils import BaseVideoProcessor

    cls = type(video_processor)
    support = _support(cls.__name__)
    if support is None or cls is not support[0]:
        return False
    if inspect.unwrap(cls._preprocess) is not inspect.unwrap(support[2]):  # patched after the check
        return False
    own = vars(video_processor)  # no instance-level override of what the fast path reproduces
    if any(name in own for name in ("_preprocess", "convert_to_rgb", "rescale_and_normalize",
                                     "_fuse_mean_std_and_rescale_factor", "normalize")):
        return False
    return (cls.convert_to_rgb is BaseVideoProcessor.convert_to_rgb
            and cls.rescale_and_normalize is TorchvisionBackend.rescale_and_normalize
            and cls._fuse_mean_std_and_rescale_factor is TorchvisionBackend._fuse_mean_std_and_rescale_factor
            and cls.normalize is TorchvisionBackend.normalize)


def _plan(self: Any, videos: Any, args: dict, target: Callable) -> Optional[list[tuple[int, int, int]]]:
    """Each clip's ``(grid_t, grid_h, grid_w)`` where the fast path is exact, else None."""
    if not (args["do_rescale"] and args["do_normalize"]) or not isinstance(videos, (list, tuple)) or not videos:
        return None
    tp, p, m = args["temporal_patch_size"], args["patch_size"], args["merge_size"]
    grids = []
    for video in videos:
        if (not isinstance(video, torch.Tensor) or video.ndim != 4 or video.dtype not in (torch.float32, torch.uint8)
                or video.device != videos[0].device):
            return None
        T, C, H, W = video.shape
        if C != 3 or T == 0 or T % tp:
            return None
        if args["do_resize"]:
            try:
                if tuple(target(T, H, W, args)) != (H, W):
                    return None  # a real resize: the processor's own path
            except ValueError:
                return None  # the processor raises it itself
        if H % (p * m) or W % (p * m):
            return None
        grids.append((T // tp, H // p, W // p))
    return grids


def _fast_preprocess(self: Any, videos: Any, **kwargs: Any):
    """``_preprocess`` of the class, computed with one strided write per clip (see the module doc)."""
    from transformers.image_processing_utils import BatchFeature

    _, target, original = _support(type(self).__name__)
    bound = inspect.signature(original).bind(self, videos, **kwargs)
    bound.apply_defaults()
    args = dict(bound.arguments)
    grids = _plan(self, videos, args, target)
    if grids is None:
        return original(self, videos, **kwargs)
    image_mean, image_std, do_rescale = self._fuse_mean_std_and_rescale_factor(
        do_normalize=args["do_normalize"], image_mean=args["image_mean"], image_std=args["image_std"],
        do_rescale=args["do_rescale"], rescale_factor=args["rescale_factor"], device=videos[0].device)
    if do_rescale:  # not fused (cannot happen with both flags on): the processor's own path
        return original(self, videos, **kwargs)
    # torchvision's normalize_image: the mean and std as float32 (C, 1, 1) tensors, sub then div_.
    mean = torch.as_tensor(image_mean, dtype=torch.float32, device=videos[0].device).reshape(-1)
    std = torch.as_tensor(image_std, dtype=torch.float32, device=videos[0].device).reshape(-1)
    if mean.numel() != 3 or std.numel() != 3 or not bool(std.all()):
        return original(self, videos, **kwargs)
    tp, p, m = args["temporal_patch_size"], args["patch_size"], args["merge_size"]
    channels = 3
    rows = sum(t * h * w for t, h, w in grids)
    out = torch.empty((rows, channels * tp * p * p), dtype=torch.float32, device=videos[0].device)
    start = 0
    for video, (t, h, w) in zip(videos, grids):
        block = out[start:start + t * h * w]
        start += t * h * w
        # The processor's layout: rows (t, h/m, w/m, m, m), columns (C, tp, p, p).
        patches = block.view(t, h // m, w // m, m, m, channels, tp, p, p)
        frames = video.reshape(t, tp, channels, h // m, m, p, w // m, m, p)
        torch.sub(frames, mean.view(channels, 1, 1, 1, 1, 1, 1), out=patches.permute(0, 6, 5, 1, 3, 7, 2, 4, 8))
        patches.div_(std.view(channels, 1, 1, 1))
    data = {"pixel_values_videos": out, "video_grid_thw": torch.tensor([list(g) for g in grids])}
    return BatchFeature(data=data, tensor_type=args["return_tensors"])


def fast_video_processor(video_processor: Any) -> Any:
    """A shallow copy of ``video_processor`` running the fast ``_preprocess``, or the processor itself."""
    if not supported(video_processor):
        return video_processor
    fast = copy.copy(video_processor)
    fast._preprocess = types.MethodType(_fast_preprocess, fast)
    return fast
