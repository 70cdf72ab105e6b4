"""The CPU platform the recipe registers with verl, and the two workarounds verl 0.9.1 has no hook for.

The workaround tests also check that verl still *needs* them: when a verl upgrade stops duplicating
the backend string or pinning the reference model's memory, they fail and say which workaround to
remove (``recipes/videossr/cpu/platform.py``).
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import torch
from verl.plugin.platform import platform_manager
from verl.plugin.platform.platform_manager import PlatformRegistry

from recipes.videossr.cpu import ENVIRONMENT
from recipes.videossr.cpu import platform as cpu_platform


@pytest.fixture
def cpu_selected(monkeypatch):
    """verl's platform singleton set to the CPU platform for one test (restored after)."""
    monkeypatch.setattr(platform_manager, "_current_platform", cpu_platform.PlatformCPU())
    yield platform_manager.get_platform()


def test_the_platform_is_registered_under_the_name_train_sh_selects():
    assert PlatformRegistry.get("cpu") is cpu_platform.PlatformCPU
    assert ENVIRONMENT["VERL_PLATFORM"] == cpu_platform.NAME
    assert ENVIRONMENT["VERL_USE_EXTERNAL_MODULES"] == cpu_platform.__name__


def test_it_is_never_auto_detected():
    # verl probes every registered platform when VERL_PLATFORM is unset: a GPU node must not land here.
    assert cpu_platform.PlatformCPU().is_platform_available(use_smi_check=True) is False


def test_verls_device_helpers_answer_for_the_cpu(cpu_selected):
    from verl.utils import device

    assert device.get_device_name() == "cpu"
    assert device.get_nccl_backend() == "gloo"
    assert device.get_resource_name() == "GPU"  # Ray's logical GPUs (videossr_cpu.yaml ray_init.num_gpus)
    assert device.is_support_ipc() is False  # weights reach vLLM through shared memory
    module = device.get_torch_device()
    assert module.current_device() == "cpu"  # a string: an int would put tensors on cuda:<int>
    assert torch.zeros(1, device=module.current_device()).device.type == "cpu"
    free, total = module.mem_get_info()
    assert 0 < free <= total
    state = module.get_rng_state()
    module.set_rng_state(state)
    assert torch.equal(module.get_rng_state(), state)
    module.synchronize()
    module.empty_cache()
    assert module.device_count() == 1


@pytest.mark.parametrize("backend, expected", [
    ("cpu:gloo,cpu:gloo", "cpu:gloo"),
    ("cpu:gloo,cuda:nccl", "cpu:gloo,cuda:nccl"),
    ("gloo", "gloo"),
    (None, None),
    ("cpu:gloo, cpu:gloo ,cuda:nccl", "cpu:gloo,cuda:nccl"),
])
def test_unique_backend(backend, expected):
    assert cpu_platform.unique_backend(backend) == expected


def test_verl_still_builds_a_duplicated_backend_and_the_wrapper_repairs_it(cpu_selected, monkeypatch):
    """verl.utils.distributed joins "cpu:gloo" with "<device>:<backend>": "cpu:gloo,cpu:gloo" here."""
    import torch.distributed

    from verl.utils import distributed

    seen = []
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda backend=None, **kw: seen.append(backend))
    distributed.initialize_global_process_group_ray()
    assert seen == ["cpu:gloo,cpu:gloo"], (
        f"verl now builds the backend {seen}: the de-duplication in recipes/videossr/cpu/platform.py "
        "(install_workarounds) is no longer needed; remove it")
    monkeypatch.setattr(torch.distributed, "init_process_group",
                        cpu_platform._dedup_backend(lambda backend=None, **kw: seen.append(backend)))
    distributed.initialize_global_process_group_ray()
    assert seen[-1] == "cpu:gloo"


def test_verl_still_pins_the_reference_models_offloaded_memory():
    from verl.workers.engine.fsdp import transformer_impl

    source = inspect.getsource(transformer_impl)
    assert "CPUOffloadPolicy(pin_memory=True)" in source, (
        "verl's FSDP2 engine no longer pins the forward-only model's memory: the pin_memory no-op in "
        "recipes/videossr/cpu/platform.py (install_workarounds) is no longer needed; remove it")


def test_the_workarounds_install_once_and_pinning_becomes_a_no_op(monkeypatch):
    import torch.distributed

    calls = []
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda backend=None, **kw: calls.append(backend))
    monkeypatch.setattr(torch.Tensor, "pin_memory", torch.Tensor.pin_memory)  # restored after the test
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cpu_platform.install_workarounds()
    cpu_platform.install_workarounds()  # idempotent: one wrapper, not two
    torch.distributed.init_process_group("cpu:gloo,cpu:gloo", rank=0)
    assert calls == ["cpu:gloo"]
    assert torch.distributed.init_process_group.__wrapped__ is not None
    assert not hasattr(torch.distributed.init_process_group.__wrapped__, "__wrapped__")
    t = torch.ones(3)
    assert t.pin_memory() is t


def test_train_sh_gets_its_exports_from_one_place():
    out = subprocess.run([sys.executable, "-m", "recipes.videossr.cpu", "--exports"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out == [f"export {k}={v}" for k, v in ENVIRONMENT.items()]
