"""A verl platform for the CPU: gloo collectives, fake Ray GPUs, weights through shared memory.

Registered with verl's own registry when verl imports this module (``VERL_USE_EXTERNAL_MODULES=
recipes.videossr.cpu.platform``) and selected with ``VERL_PLATFORM=cpu``; both variables reach every
Ray actor and vLLM process because ``launch/train.sh`` exports them before Ray starts.

Ray schedules verl's workers on ``GPU`` resources, so a CPU run declares logical GPUs
(``ray_kwargs.ray_init.num_gpus`` in ``videossr_cpu.yaml``) and this platform names ``GPU`` as its
resource: every "GPU" is a share of the CPU.

Two obstacles have no hook in verl 0.9.1; ``install_workarounds`` (run on import when the platform
is selected) handles them, each one function, and ``tests/recipes/videossr/cpu`` checks that verl
still needs them (a verl upgrade that removes the need fails those tests):

* ``verl.utils.distributed`` builds the backend ``"cpu:gloo,<device>:<backend>"``, i.e.
  ``"cpu:gloo,cpu:gloo"`` here, which torch refuses ("Duplicate device type cpu"):
  ``torch.distributed.init_process_group`` gets each device type once.
* verl's FSDP2 engine gives the reference model ``CPUOffloadPolicy(pin_memory=True)``; pinning
  needs a CUDA driver, and PyPI's torch 2.11 (the build vLLM's CPU wheel runs on) has no driver to
  find: pinning becomes a no-op (pinned memory only speeds host-to-GPU copies, and there is no GPU).
"""

from __future__ import annotations

import contextlib
import functools
import os
import types
from typing import Any, Optional

import torch
from verl.plugin.platform.platform_base import PlatformBase
from verl.plugin.platform.platform_manager import PlatformRegistry

NAME = "cpu"


def _memory_figures() -> tuple[int, int]:
    """``(free, total)`` bytes of host memory (what a CPU "device" has)."""
    try:
        import psutil

        vm = psutil.virtual_memory()
        return int(vm.available), int(vm.total)
    except ImportError:  # psutil comes with Ray; this is only a fallback
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return int(os.sysconf("SC_AVPHYS_PAGES") * size), int(pages * size)


def _rss() -> int:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        return 0


class CPUDevice(types.ModuleType):
    """``torch.cpu`` plus CPU answers to the ``torch.cuda`` calls verl makes on its device module.

    verl calls ``get_torch_device().<name>`` (memory queries, RNG state, IPC cleanup, streams);
    ``torch.cpu`` has the stream and device functions, the rest are answered here: memory from the
    host (psutil), RNG state from torch's CPU generator, the rest no-ops.
    """

    def __init__(self) -> None:
        super().__init__("videossr_cpu_device", "torch.cpu with the torch.cuda calls verl makes")

    def __getattr__(self, name: str) -> Any:
        return getattr(torch.cpu, name)

    @staticmethod
    def current_device() -> str:
        # A device *string*: verl builds tensors on ``torch.device(current_device())``; an int would be cuda:N.
        return "cpu"

    @staticmethod
    def is_available() -> bool:
        return True

    @staticmethod
    def device_count() -> int:
        return 1

    @staticmethod
    def empty_cache() -> None:
        return None

    @staticmethod
    def ipc_collect() -> None:
        return None

    @staticmethod
    def set_per_process_memory_fraction(fraction: float, device: Any = None) -> None:
        return None

    @staticmethod
    def mem_get_info(device: Any = None) -> tuple[int, int]:
        return _memory_figures()

    @staticmethod
    def memory_allocated(device: Any = None) -> int:
        return _rss()

    memory_reserved = max_memory_allocated = max_memory_reserved = memory_allocated

    @staticmethod
    def get_device_name(device: Any = None) -> str:
        return "cpu"

    @staticmethod
    def get_rng_state(device: Any = None) -> torch.Tensor:
        return torch.get_rng_state()

    @staticmethod
    def set_rng_state(state: torch.Tensor, device: Any = None) -> None:
        torch.set_rng_state(state)

    @staticmethod
    def manual_seed(seed: int) -> None:
        torch.manual_seed(seed)

    manual_seed_all = manual_seed


@PlatformRegistry.register(platform=NAME)
class PlatformCPU(PlatformBase):
    """verl's platform interface answered for the host CPU."""

    _device = CPUDevice()

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self) -> types.ModuleType:
        return self._device

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check: bool = False) -> bool:
        # Never auto-detected: only VERL_PLATFORM=cpu selects it (a GPU node must not fall back here).
        return False

    def current_device(self) -> str:  # type: ignore[override]
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        return None

    def synchronize(self, device_index: Optional[int] = None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0) -> tuple[Optional[int], Optional[int]]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"  # what Ray sets for its (logical) GPU resource

    @contextlib.contextmanager
    def nvtx_range(self, msg: str):
        yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_noset_envvars(self) -> list[str]:
        return ["RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES"]

    def is_ipc_supported(self) -> bool:
        return False  # weights reach vLLM through shared memory

    def rollout_env_vars(self) -> dict[str, str]:
        # vLLM's CPU build: KV cache size in GiB, and one OpenMP thread pool bound to the free cores.
        return {"VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"),
                "VLLM_CPU_OMP_THREADS_BIND": os.environ.get("VLLM_CPU_OMP_THREADS_BIND", "auto")}

    def cudart(self) -> Any:
        return None


# --- the two places verl 0.9.1 has no hook for --------------------------------------------------

def unique_backend(backend: Optional[str]) -> Optional[str]:
    """``"cpu:gloo,cpu:gloo"`` -> ``"cpu:gloo"``: each ``device:backend`` pair once, order kept."""
    if not isinstance(backend, str) or "," not in backend:
        return backend
    seen: dict[str, str] = {}
    for part in (p.strip() for p in backend.split(",") if p.strip()):
        seen.setdefault(part.split(":", 1)[0] if ":" in part else part, part)
    return ",".join(seen.values())


def _dedup_backend(init_process_group):
    @functools.wraps(init_process_group)
    def wrapper(backend: Optional[str] = None, *args, **kwargs):
        return init_process_group(unique_backend(backend), *args, **kwargs)

    wrapper.__videossr_cpu__ = True
    return wrapper


def _unpinned(tensor: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return tensor


def install_workarounds() -> None:
    """Apply both workarounds in this process (idempotent)."""
    import torch.distributed

    if not getattr(torch.distributed.init_process_group, "__videossr_cpu__", False):
        torch.distributed.init_process_group = _dedup_backend(torch.distributed.init_process_group)
    if not torch.cuda.is_available():  # a CUDA build without a driver cannot pin
        torch.Tensor.pin_memory = _unpinned


if os.environ.get("VERL_PLATFORM", "").strip().lower() == NAME:
    install_workarounds()
