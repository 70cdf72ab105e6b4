"""Side (a): what verl 0.9.1 scores, and the request it sends to vLLM -- through verl's own objects.

Nothing here re-implements verl. One dataset row goes through:

1. the recipe config composed exactly as ``main_ppo`` would (``recipes.videossr.compose``) with the
   model path replaced by ``model_dir``;
2. verl's ``AgentLoopWorker`` -- or the subclass the config's ``agent_loop_manager_class`` names
   in ``HARNESS_WORKER_CLASS`` (``harness_worker_class``) -- built from that config
   (``verl/experimental/agent_loop/agent_loop.py`` ``AgentLoopWorker.__init__``: ``HFModelConfig`` -> ``hf_processor`` binds the model's
   ``get_rope_index`` to the processor; ``get_dataset_class`` -> ``VideoSSRDataset``);
3. ``AgentLoopWorker.generate_sequences`` on a one-row ``DataProto`` from verl's ``collate_fn``: the
   registered agent loop (``single_turn_agent``, or the row's ``agent_name``) runs
   ``process_multi_modal_info`` (the dataset's classmethod) and the continuous-token builder, then
   calls verl's real ``LLMServerClient.generate``;
4. that client talks to a stand-in load balancer whose server handle runs verl's real
   ``vLLMHttpServer.generate`` (``verl/workers/rollout/vllm_rollout/vllm_async_server.py``: the pad
   collapse ``qwen2_5_vl_dedup_image_tokens`` and the ``TokensPrompt`` it builds) on an object that
   has the server's state but a recording engine instead of vLLM's ``AsyncLLM``. The engine records
   the exact ``prompt`` vLLM would receive and answers with one EOS token;
5. verl's postprocessing (``_agent_loop_postprocess`` -> ``_compute_multi_modal_inputs`` ->
   ``_compute_position_ids``, then ``_postprocess``) builds the batch the FSDP actor scores.

The result: the prompt ids and mrope positions of the trainer (valid prompt tokens only, shape
``(3, L)``; verl's batch row is ``(4, L)``, row 0 the text positions) and the recorded request.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from recipes.videossr.token_counts import model_type_of

CONFIG_FOR_MODEL_TYPE = {"qwen2_5_vl": "videossr_qwen25vl_7b", "qwen3_vl": "videossr_qwen3vl_8b"}


@dataclass
class TrainerSide:
    """What the actor scores for one row, and the request verl sent to vLLM for it."""

    data_source: str
    row_index: int
    model_type: str
    num_videos: int
    prompt_ids: list[int]  # valid prompt tokens (left padding removed)
    position_ids: np.ndarray  # (3, len(prompt_ids)) mrope positions the actor uses (verl rows 1..3)
    text_position_ids: np.ndarray  # (len(prompt_ids),) verl's extra row 0
    request: dict[str, Any]  # {"prompt": TokensPrompt-like dict as vLLM receives it, "sampling_params": ...}
    multi_modal_inputs: dict[str, Any] = field(default_factory=dict)  # verl's processor output (trainer)
    worker_class: str = ""  # fully qualified name of the AgentLoopWorker class that ran the row


@dataclass
class ActorSample:
    """One row of the batch the FSDP actor scores (valid tokens only, verl's remove-padding layout)."""

    data_source: str
    input_ids: Any  # (L,) prompt + response
    position_ids: Any  # (4, L): row 0 text positions, rows 1..3 M-RoPE (t, h, w)
    prompt_len: int
    multi_modal_inputs: dict[str, Any]
    response_mask: Any = None  # (L - prompt_len,) verl's response mask

    @property
    def response_len(self) -> int:
        return int(self.input_ids.shape[0]) - self.prompt_len


def actor_batch(harness: Any, index: int, response: list[int]) -> tuple[ActorSample, dict]:
    """Row ``index`` through ``harness``'s verl worker with ``response`` as vLLM's answer: the prompt +
    response ids, positions and multimodal inputs verl hands the actor (the calls of
    ``TrainerHarness.run_row``, keeping the whole sequence), and the dataset row it ran (a row read
    again may differ: fresh jigsaws). ``harness``: a ``TrainerHarness`` or any object with its
    ``dataset``, ``worker`` and ``engine.answer_ids``."""
    from verl.protocol import DataProto
    from verl.utils.dataset.rl_dataset import collate_fn

    row = harness.dataset[index]
    batch = DataProto.from_single_dict(collate_fn([row]))
    batch.meta_info.update({"validate": False, "global_steps": 0})
    previous = harness.engine.answer_ids
    harness.engine.answer_ids = list(response)
    try:
        out = asyncio.run(harness.worker.generate_sequences(batch))
    finally:
        harness.engine.answer_ids = previous
    attention = out.batch["attention_mask"][0]
    plen_padded = out.batch["prompts"].shape[-1]
    mask = attention.bool()
    pos = out.batch["position_ids"][0]
    if pos.dim() != 2 or pos.shape[0] != 4:
        raise RuntimeError(f"expected verl's (4, L) Qwen-VL position ids, got {tuple(pos.shape)}")
    response_valid = attention[plen_padded:].bool()
    response_mask = out.batch["response_mask"][0][response_valid] if "response_mask" in out.batch.keys() else None
    sample = ActorSample(data_source=str(row["data_source"]), input_ids=out.batch["input_ids"][0][mask],
                         position_ids=pos[:, mask], prompt_len=int(attention[:plen_padded].sum()),
                         multi_modal_inputs=dict(out.non_tensor_batch["multi_modal_inputs"][0]),
                         response_mask=response_mask)
    return sample, row


# --- stand-ins for the Ray side (the only parts that are not verl's own code) ----------------------


class _Remote:
    """``handle.method.remote(...)`` for an in-process object: returns an awaitable (or runs sync)."""

    def __init__(self, fn, sync: bool = False):
        self._fn, self._sync = fn, sync

    def remote(self, *args, **kwargs):
        if self._sync:
            return self._fn(*args, **kwargs)
        return self._fn(*args, **kwargs)  # a coroutine: ``await handle.m.remote()`` works


class _LoadBalancer:
    """Answers LLMServerClient's three RPCs with one in-process server."""

    def __init__(self, server_handle):
        async def require_fields():
            return []

        async def acquire_server(request_id, **_):
            return "server-0", server_handle

        self.require_acquire_fields = _Remote(require_fields)
        self.require_release_fields = _Remote(require_fields)
        self.acquire_server = _Remote(acquire_server)
        self.release_server = _Remote(lambda **_: None, sync=True)


class _RecordingEngine:
    """In place of vLLM's AsyncLLM: records the prompt and answers with ``answer_ids``."""

    def __init__(self, answer_ids: list[int]):
        self.answer_ids = list(answer_ids)
        self.requests: list[dict[str, Any]] = []

    def generate(self, prompt, sampling_params, request_id, lora_request=None, priority=0):
        self.requests.append({"prompt": prompt, "sampling_params": sampling_params, "request_id": request_id})
        answer = self.answer_ids

        async def gen():
            logprobs = [{t: SimpleNamespace(logprob=0.0)} for t in answer]
            completion = SimpleNamespace(
                token_ids=list(answer), logprobs=logprobs, finish_reason="stop", routed_experts=None, num_preempted=0
            )
            yield SimpleNamespace(outputs=[completion], num_cached_tokens=0, prompt_logprobs=None,
                                  kv_transfer_params=None, metrics=None)

        return gen()


def _server_state(rollout_config, model_config, engine):
    """A ``vLLMHttpServer`` with the attributes its ``generate`` reads (its __init__ starts vLLM)."""
    from verl.workers.rollout.vllm_rollout.vllm_async_server import vLLMHttpServer

    server = object.__new__(vLLMHttpServer)
    config = copy.deepcopy(rollout_config)
    if getattr(config, "max_model_len", None) is None:  # vLLMHttpServer sets it from the HF config
        config.max_model_len = int(config.prompt_length) + int(config.response_length)
    server.config = config
    server.model_config = model_config
    server._disaggregation_role = "null"
    server._pd_decode_peers = []
    server.replica_rank = 0
    server.global_steps = 0
    server._submission_paused = False
    server._rejecting = False
    server._admitting = 0
    server._resume_event = asyncio.Event()
    server._resume_event.set()
    server._warned_missing_spec_decode_stats = False
    server.engine = engine
    return server


class _ServerHandle:
    def __init__(self, server):
        from verl.workers.rollout.vllm_rollout.vllm_async_server import vLLMHttpServer

        async def generate(**kwargs):
            return await vLLMHttpServer.generate(server, **kwargs)

        self.generate = _Remote(generate)


# --- the worker -----------------------------------------------------------------------------------


def compose_for_model(model_dir: str | Path, parquet: str | Path, overrides: list[str] | None = None):
    """The recipe config for ``model_dir``'s family, pointed at ``model_dir`` and ``parquet``."""
    from recipes.videossr.compose import compose_recipe

    model_type = model_type_of(model_dir)
    if model_type not in CONFIG_FOR_MODEL_TYPE:
        raise ValueError(f"no recipe config for model_type {model_type!r}; known: {sorted(CONFIG_FOR_MODEL_TYPE)}")
    return compose_recipe(
        CONFIG_FOR_MODEL_TYPE[model_type],
        [
            f"actor_rollout_ref.model.path={Path(model_dir).resolve()}",
            f"data.train_files={Path(parquet).resolve()}",
            f"data.val_files={Path(parquet).resolve()}",
            *list(overrides or []),
        ],
    )


MANAGER_CLASS_KEY = "actor_rollout_ref.rollout.agent.agent_loop_manager_class"
HARNESS_WORKER_ATTR = "HARNESS_WORKER_CLASS"


def _class_from(value: Any, description: str) -> type:
    from verl.utils.import_utils import load_class_from_fqn

    return load_class_from_fqn(value, description) if isinstance(value, str) else value


def harness_worker_class(config) -> type:
    """The plain (in-process, non-Ray) ``AgentLoopWorker`` class that matches ``config``'s rollout.

    verl builds its agent-loop manager from ``actor_rollout_ref.rollout.agent.agent_loop_manager_class``
    (``verl/trainer/main_ppo.py`` ``init_agent_loop_manager``; ``ray_trainer.py`` for the legacy
    trainer). That manager runs Ray/TransferQueue workers, which this harness cannot start, so a
    custom manager names the plain worker with the same agent-loop behaviour in its class attribute
    ``HARNESS_WORKER_CLASS`` (a class or a fully qualified name), e.g.
    ``recipes.videossr.agent_loop.VideoSSRAgentLoopManager.HARNESS_WORKER_CLASS =
    VideoSSRAgentLoopWorker``. Key unset: verl's own ``AgentLoopWorker``. A custom manager without
    the attribute is an error rather than a silent fallback: the harness would then check verl's stock
    worker while training runs the custom one.
    """
    from omegaconf import OmegaConf
    from verl.experimental.agent_loop.agent_loop import AgentLoopWorker

    fqn = OmegaConf.select(config, MANAGER_CLASS_KEY, default=None)
    if not fqn:
        return AgentLoopWorker
    manager = _class_from(fqn, "AgentLoopManager")
    worker = getattr(manager, HARNESS_WORKER_ATTR, None)
    if worker is None:
        raise TypeError(
            f"{MANAGER_CLASS_KEY}={fqn} has no {HARNESS_WORKER_ATTR} attribute: set it to the plain "
            "AgentLoopWorker subclass its workers behave like, or pass worker_cls= explicitly"
        )
    worker = _class_from(worker, f"{fqn}.{HARNESS_WORKER_ATTR}")
    if not (isinstance(worker, type) and issubclass(worker, AgentLoopWorker)):
        raise TypeError(f"{fqn}.{HARNESS_WORKER_ATTR} = {worker!r} is not a subclass of verl's AgentLoopWorker")
    return worker


class TrainerHarness:
    """verl's AgentLoopWorker (or the config's own, see ``harness_worker_class``) for one model, with
    an in-process recording vLLM server."""

    def __init__(self, model_dir: str | Path, parquet: str | Path, overrides: list[str] | None = None,
                 worker_cls: type | None = None):
        from verl.workers.rollout.llm_server import LLMServerClient

        self.model_dir, self.parquet = Path(model_dir), Path(parquet)
        self.model_type = model_type_of(model_dir)
        self.config = compose_for_model(model_dir, parquet, overrides)
        client = LLMServerClient(self.config, load_balancer_handle=None)
        # worker_cls: an AgentLoopWorker subclass; default: the one the composed config's
        # agent_loop_manager_class runs (verl's AgentLoopWorker when the key is unset).
        self.worker_cls = worker_cls or harness_worker_class(self.config)
        self.worker = self.worker_cls(self.config, llm_client=client)
        eos = self.worker.tokenizer.eos_token_id
        self.engine = _RecordingEngine([int(eos if not isinstance(eos, list) else eos[0])])
        server = _server_state(self.worker.rollout_config, self.worker.model_config, self.engine)
        client._load_balancer = _LoadBalancer(_ServerHandle(server))
        self.dataset = self.worker.dataset_cls(
            data_files=str(self.parquet), tokenizer=self.worker.tokenizer, config=self.config.data,
            processor=self.worker.processor,
        )

    @property
    def processor(self):
        return self.worker.processor

    def run_row(self, index: int, validate: bool = True) -> TrainerSide:
        """Run dataset row ``index`` through verl's rollout path; ``validate`` = val sampling params."""
        from verl.protocol import DataProto
        from verl.utils.dataset.rl_dataset import collate_fn

        row = self.dataset[index]
        batch = DataProto.from_single_dict(collate_fn([row]))
        batch.meta_info.update({"validate": validate, "global_steps": 0})
        before = len(self.engine.requests)
        out = asyncio.run(self.worker.generate_sequences(batch))
        if len(self.engine.requests) != before + 1:
            raise RuntimeError(f"expected one vLLM request for row {index}, got {len(self.engine.requests) - before}")
        request = self.engine.requests[-1]

        prompts = out.batch["prompts"][0]
        attention = out.batch["attention_mask"][0]
        plen = prompts.shape[-1]
        prompt_mask = attention[:plen].bool()
        prompt_ids = prompts[prompt_mask].tolist()
        pos = out.batch["position_ids"][0]  # (4, prompt_length + response_length)
        if pos.dim() != 2 or pos.shape[0] not in (3, 4):
            raise RuntimeError(f"unexpected position_ids shape {tuple(pos.shape)} (no mrope?)")
        prompt_pos = pos[:, :plen][:, prompt_mask].numpy()
        mrope = prompt_pos[-3:]
        text = prompt_pos[0] if pos.shape[0] == 4 else np.arange(len(prompt_ids))
        mm_inputs = out.non_tensor_batch.get("multi_modal_inputs")
        mm = dict(mm_inputs[0]) if mm_inputs is not None else {}
        videos = (row.get("raw_prompt") or [])
        n_videos = sum(
            1 for m in videos if isinstance(m.get("content"), list)
            for item in m["content"] if isinstance(item, dict) and item.get("type") == "video"
        )
        return TrainerSide(
            data_source=str(row["data_source"]), row_index=int(index), model_type=self.model_type,
            num_videos=n_videos, prompt_ids=[int(t) for t in prompt_ids], position_ids=mrope,
            text_position_ids=text, request=request, multi_modal_inputs=mm,
            worker_class=f"{self.worker_cls.__module__}.{self.worker_cls.__qualname__}",
        )

    def actor_sample(self, index: int, response: list[int]) -> ActorSample:
        """The actor's batch row for row ``index`` answered with ``response`` (``actor_batch``)."""
        return actor_batch(self, index, response)[0]
