"""Actor -> vLLM weight sync for vLLM's CPU build (``engine_kwargs.vllm.worker_extension_cls``).

vLLM's CPU build replaces every linear layer's weight by a prepacked oneDNN handle after loading
(``process_weights_after_loading``), so verl's sync, which loads the actor's tensors into the
model's parameters, fails with "load weight (96, 32) into parameter (0,)". vLLM's own answer to
"reload a model whose weights were post-processed" is its layerwise reload
(``vllm.model_executor.model_loader.reload``: ``initialize_layerwise_reload`` puts each layer back in
checkpoint form, ``finalize_layerwise_reload`` re-runs the processing once every weight arrived).
This extension is verl's ``vLLMColocateWorkerExtension`` with the weight update wrapped in those
two calls. Each bucket's tensors are cloned: layerwise loading keeps them until a layer is whole,
and verl's receiver reuses its buffer for the next bucket.

Only for the CPU mode (``videossr_cpu.yaml``); GPU runs keep verl's extension.
"""

from __future__ import annotations

import torch
from verl.workers.rollout.vllm_rollout.utils import vLLMColocateWorkerExtension

QUALNAME = f"{__name__}.CPUWeightSyncExtension"


class CPUWeightSyncExtension(vLLMColocateWorkerExtension):
    """verl's vLLM worker extension whose weight update works on vLLM's CPU build."""

    def update_weights_from_ipc(self, peft_config: dict = None, base_sync_done=False, use_shm: bool = False):
        if peft_config:
            raise NotImplementedError("LoRA weight sync is not supported by the CPU mode (videossr_cpu)")
        from verl.workers.rollout.vllm_rollout.bucketed_weight_transfer import BucketedWeightReceiver
        from vllm.model_executor.model_loader.reload import finalize_layerwise_reload, initialize_layerwise_reload

        if self.device is None:
            self.device = torch.device("cpu")
        model = self.model_runner.model
        initialize_layerwise_reload(model)

        def load(weights: list[tuple[str, torch.Tensor]], is_last: bool) -> None:
            self._update_weights([(name, tensor.clone()) for name, tensor in weights], peft_config=None,
                                 base_sync_done=base_sync_done)

        BucketedWeightReceiver(zmq_handle=self._get_zmq_handle(), device=self.device,
                               use_shm=use_shm).receive_weights(on_bucket_received=load)
        finalize_layerwise_reload(model, self.model_runner.vllm_config.model_config)
