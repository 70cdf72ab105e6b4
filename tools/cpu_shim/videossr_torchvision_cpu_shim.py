"""CPU test-environment workaround: let PyPI's torchvision import next to the CPU torch build.

PyPI has no CPU build of torchvision. Its wheel registers kernels for ``torchvision::nms`` and
``torchvision::qnms`` whose schemas live in its CUDA-built extension, so ``import torchvision``
fails on CPU torch with "operator torchvision::nms does not exist". qwen-vl-utils and the
transformers video processors import torchvision, so the CPU test environment needs it.

This module is loaded by a ``.pth`` file that ``make`` drops into the CPU virtual environment
(so subprocesses get it too). It installs a lazy import hook: nothing happens until something
imports torchvision, then the two schemas are defined with ``torch.library`` first.
It is never installed on GPU nodes, where torchvision comes as a matching CUDA build.
"""

import importlib.abc
import sys

_OPS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_libraries = []  # keep the Library objects alive: dropping them unregisters the schemas


def _define_missing_schemas() -> None:
    import torch

    if torch.cuda.is_available():  # a CUDA torch brings a working torchvision of its own
        return
    lib = torch.library.Library("torchvision", "FRAGMENT")
    for schema in _OPS:
        try:
            lib.define(schema)
        except RuntimeError:  # already defined (e.g. a torchvision build that works)
            pass
    _libraries.append(lib)


class _TorchvisionHook(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "torchvision":
            sys.meta_path.remove(self)
            _define_missing_schemas()
        return None  # let the normal finders load torchvision


def install() -> None:
    if not any(isinstance(f, _TorchvisionHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _TorchvisionHook())


install()
