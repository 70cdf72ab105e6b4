"""CPU mode of the training stack: verl's real trainer with vLLM's CPU build, no GPU (README "Train on a CPU first").

``DEVICE=cpu bash launch/train.sh`` (config ``videossr_cpu``) runs the whole GRPO loop -- vLLM
generation through the recipe's agent loop, the recipe's reward, the FSDP2 actor and reference
model on gloo, weight sync, validation, checkpoints, resume -- on a laptop or a login node, before
any GPU hour is spent. Everything goes through supported extension points:

* ``recipes.videossr.cpu.platform``: a verl platform registered with verl's ``PlatformRegistry``
  (imported by every verl process through ``VERL_USE_EXTERNAL_MODULES``, selected by
  ``VERL_PLATFORM=cpu``), plus the two small workarounds for which verl 0.9.1 has no hook;
* ``recipes.videossr.cpu.vllm_weights``: the vLLM worker extension (verl's, subclassed) that loads
  the actor's weights into vLLM's CPU build, passed as ``engine_kwargs.vllm.worker_extension_cls``.

Nothing here is imported on a GPU run.
"""

# What train.sh exports for DEVICE=cpu (before Ray starts, so every Ray and vLLM process inherits it).
ENVIRONMENT = {
    "VERL_USE_EXTERNAL_MODULES": "recipes.videossr.cpu.platform",
    "VERL_PLATFORM": "cpu",
    # verl registers its FSDP engine for the device names cuda/npu only (workers/engine/base.py):
    # the engine is picked by this name, the tensors stay where the platform puts them (CPU).
    "VERL_ENGINE_DEVICE": "cuda",
}
