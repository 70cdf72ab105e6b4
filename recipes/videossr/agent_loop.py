"""The rollout side of the recipe: vLLM generates from exactly the tokens and positions the actor scores.

GRPO scores, with the FSDP actor, the prompt vLLM generated from. Stock verl 0.9.1 + vLLM 0.24 break
that for video (measured by ``python -m recipes.videossr.agreement``, issue 13):

- **Qwen3-VL token ids.** verl sends vLLM its fully expanded prompt after collapsing every run of
  pad tokens to one (``vllm_async_server.py``, ``qwen2_5_vl_dedup_image_tokens``). Qwen3-VL writes
  one ``<t seconds><|vision_start|><|video_pad|>...<|vision_end|>`` block per temporal patch, so 24
  single-pad blocks per clip survive and vLLM rebuilds a different prompt (+213 tokens for one clip;
  verl issue #5024). Here vLLM is sent the chat-template ids, one ``<|vision_start|><|video_pad|>
  <|vision_end|>`` per clip (the collapse leaves them alone), and the actor scores the sequence vLLM
  expands that into: the text between clips tokenized on its own and each clip expanded alone by
  the HF processor (transformers 5.10 would add an outer vision_start/vision_end pair per clip and
  re-tokenize across the clip boundary, which vLLM does not).
- **Qwen2.5-VL positions.** vLLM's Qwen2.5-VL parser drops the clips' metadata, so its HF processor
  assumes 24 fps; the request now carries ``mm_processor_kwargs.video_metadata`` (the clips' true
  sampling), and the actor's positions follow vLLM's M-RoPE rule (``recipes.videossr.mrope``)
  instead of transformers' ``get_rope_index``, which truncates seconds per temporal patch to an int.

Wired through verl's extension points only (``videossr_base.yaml``):
``actor_rollout_ref.rollout.agent.default_agent_loop: videossr_agent`` (registered below) and
``actor_rollout_ref.rollout.agent.agent_loop_manager_class:
recipes.videossr.agent_loop.VideoSSRAgentLoopManager`` (its workers compute the positions).
Text-only prompts, images and other model families take verl's own path unchanged.

Speed: the n sessions of a prompt share the HF processor's work on their identical clips
(``recipes.videossr.processor_cache``, ``data.videossr.processor_cache_mb``), with outputs
byte-identical to computing it in every session. Per prompt, each clip's video features (pixel
values, grids) are computed once, by ``recipes.videossr.video_features`` (the processor's own bytes
with one copy of the frames instead of five), during the prompt build, and post-processing reuses
them; the prompt build itself (Qwen3-VL: each clip's expansion; Qwen2.5-VL: verl's builder) runs
once. What still runs in every session is verl's per-session text work (chat template, the
post-processing processor's text side: the sessions' answers differ).
"""

from __future__ import annotations

import copy
from typing import Any, Optional

import ray
from verl.experimental.agent_loop.agent_loop import AgentLoopWorker, register
from verl.experimental.agent_loop.single_turn_agent_loop import SingleTurnAgentLoop
from verl.trainer.ppo.v1.agent_loop_tq import AgentLoopManagerTQ, AgentLoopWorkerTQ
from verl.utils.tokenizer import build_multimodal_processor_inputs, get_processor_token_id
from verl.utils.tokenizer.chat_template import apply_chat_template
from verl.utils.tokenizer.tokenizer import normalize_token_ids

from recipes.videossr import rollout_trace
from recipes.videossr.mrope import qwen2_5_vl_positions, round_to_dtype
from recipes.videossr.processor_cache import ProcessorCache, configure, identity, kwargs_key, objects
from recipes.videossr.video_features import fast_video_processor

AGENT_NAME = "videossr_agent"
QWEN3_VL_VIDEO = "<|vision_start|><|video_pad|><|vision_end|>"  # one clip in the chat template
QWEN3_VL_PAD = "<|video_pad|>"


def qwen3_vl_prompt(processor: Any, text: str, videos: list, mm_processor_kwargs: Optional[dict] = None,
                    cache: Optional[ProcessorCache] = None) -> tuple[list[int], list[int]]:
    """``(request ids, scored ids)`` of a rendered Qwen3-VL chat with one placeholder per clip.

    The request ids are the chat text's tokens (what vLLM expands itself); the scored ids are what
    vLLM 0.24 expands them into: each text span between clips tokenized alone, each clip replaced
    by the processor's expansion of that clip alone (its timestamps, vision tokens and pads).
    With ``cache``, each clip's expansion is computed once per (processor, frames, metadata, kwargs).
    """
    tokenizer = processor.tokenizer
    spans = text.split(QWEN3_VL_VIDEO)
    if len(spans) != len(videos) + 1:
        raise ValueError(f"the prompt has {len(spans) - 1} video placeholders for {len(videos)} videos")
    scored: list[int] = []
    for k, span in enumerate(spans):
        scored += tokenizer.encode(span, add_special_tokens=False)
        if k < len(videos):
            def expand(video=videos[k]) -> tuple[int, ...]:
                # With the cache, the clip's video features are computed here once and reused by
                # post-processing (same video processor, frames, metadata and kwargs).
                shared = cache is not None and cache.max_bytes > 0
                owner = _shared_video_processor(processor, cache) if shared else processor
                clip = build_multimodal_processor_inputs(owner, text=[QWEN3_VL_PAD], videos=[video],
                                                         mm_processor_kwargs=mm_processor_kwargs)
                return tuple(normalize_token_ids(clip["input_ids"]))

            if cache is None:
                scored += expand()
            else:
                key = ("qwen3_vl_clip", id(processor), identity(videos[k]), kwargs_key(mm_processor_kwargs))
                scored += cache.get_or_compute(key, expand, refs=[processor, *objects(videos[k])])
    return tokenizer.encode(text, add_special_tokens=False), scored


class _CachedBuilder:
    """verl's continuous-token builder whose video-only ``build_initial_tokens`` goes through the cache.

    The cached value is the builder's ids and what it put into ``mm_inputs_out``; every caller gets a
    fresh list and a fresh ``mm_inputs_out`` update (the tensors themselves are shared, read-only).
    """

    def __init__(self, builder: Any, cache: ProcessorCache, loop: "VideoSSRAgentLoop"):
        # Every session builds its own builder: the key names what the builder is made of instead.
        self._builder, self._cache = builder, cache
        self._identity = (f"{type(builder).__module__}.{type(builder).__qualname__}", id(loop.tokenizer),
                          id(loop.processor), loop.family, kwargs_key(loop.apply_chat_template_kwargs),
                          kwargs_key(loop.mm_processor_kwargs))
        self._refs = (loop.tokenizer, loop.processor)

    def build_initial_tokens(self, messages, tools=None, images=None, videos=None, audios=None,
                             mm_inputs_out=None, **kwargs):
        if not videos or images or audios or kwargs:
            return self._builder.build_initial_tokens(messages, tools=tools, images=images, videos=videos,
                                                      audios=audios, mm_inputs_out=mm_inputs_out, **kwargs)

        def build():
            # verl's builder on a processor whose video features are shared with post-processing.
            builder = self._builder
            if self._cache.max_bytes > 0:  # 0: verl's code throughout
                builder = copy.copy(builder)
                builder.processor = _shared_video_processor(builder.processor, self._cache)
            features: dict = {}
            ids = builder.build_initial_tokens(messages, tools=tools, videos=videos, mm_inputs_out=features)
            return list(ids), features

        key = ("builder", self._identity, kwargs_key(messages), kwargs_key(tools), identity(list(videos)))
        ids, features = self._cache.get_or_compute(key, build, refs=[*self._refs, *objects(list(videos))])
        if mm_inputs_out is not None:
            mm_inputs_out.update(features)
        return list(ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._builder, name)


class _RequestForm:
    """The loop's LLM client, sending vLLM the request form of the prompt the loop scores."""

    def __init__(self, client: Any, loop: "VideoSSRAgentLoop"):
        self._client, self._loop = client, loop

    async def generate(self, request_id, *, prompt_ids, video_data=None, mm_processor_kwargs=None,
                       sampling_params=None, **kwargs):
        sent = self._loop.request_ids.get(id(prompt_ids), prompt_ids)
        mm_processor_kwargs = dict(mm_processor_kwargs or {})
        if self._loop.family == "qwen2_5_vl" and video_data:
            # vLLM's Qwen2.5-VL parser drops the (frames, metadata) metadata: pass it to its processor.
            mm_processor_kwargs.setdefault("video_metadata", [dict(meta) for _, meta in video_data])
        tracing = self._loop.trace_dir is not None
        if tracing:  # vLLM reports the prompt it ran (recipes.videossr.rollout_trace)
            sampling_params = {**(sampling_params or {}), "prompt_logprobs": 0}
        output = await self._client.generate(request_id, prompt_ids=sent, video_data=video_data,
                                             mm_processor_kwargs=mm_processor_kwargs or None,
                                             sampling_params=sampling_params, **kwargs)
        if tracing:
            output.extra_fields[rollout_trace.PROMPT_CHECK_FIELD] = rollout_trace.vllm_prompt_ids(output.extra_fields)
            output.extra_fields.pop("prompt_ids", None)
            output.extra_fields.pop("prompt_logprobs", None)
        return output

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@register(AGENT_NAME)
class VideoSSRAgentLoop(SingleTurnAgentLoop):
    """verl's single-turn loop; for Qwen-VL video prompts vLLM and the actor see the same tokens."""

    def __init__(self, *args, hf_model_type: Optional[str] = None, **kwargs):
        super().__init__(*args, hf_model_type=hf_model_type, **kwargs)
        if self.rollout_config.name != "vllm":
            raise ValueError(f"{AGENT_NAME} builds vLLM requests; rollout.name={self.rollout_config.name!r} "
                             "needs verl's single_turn_agent (actor_rollout_ref.rollout.agent.default_agent_loop)")
        self.family = hf_model_type
        self.request_ids: dict[int, list[int]] = {}  # id(scored ids) -> ids sent to vLLM (one loop = one prompt)
        self.trace_dir = rollout_trace.trace_dir(self.data_config)
        self.server_manager = _RequestForm(self.server_manager, self)
        self.processor_cache = configure(self.data_config)  # shared by the n sessions of a prompt
        if getattr(self, "continuous_token_builder", None) is not None:
            self.continuous_token_builder = _CachedBuilder(self.continuous_token_builder, self.processor_cache,
                                                          self)

    async def ct_build_initial_tokens(self, messages, tools=None, images=None, videos=None, audios=None,
                                      mm_inputs_out=None) -> list[int]:
        if self.family != "qwen3_vl" or not videos or images or audios or tools:
            return await super().ct_build_initial_tokens(messages, tools=tools, images=images, videos=videos,
                                                         audios=audios, mm_inputs_out=mm_inputs_out)
        text = apply_chat_template(self.processor, messages, tokenize=False, add_generation_prompt=True,
                                   **self.apply_chat_template_kwargs)
        kwargs = self.continuous_token_builder.mm_processor_kwargs or None
        request, scored = await self.loop.run_in_executor(
            None, lambda: qwen3_vl_prompt(self.processor, text, list(videos), kwargs, cache=self.processor_cache))
        if len(scored) > self.rollout_config.prompt_length:
            raise ValueError(f"Multimodal prompt produced {len(scored)} tokens, exceeding rollout.prompt_length="
                             f"{self.rollout_config.prompt_length}; lower the rows' max_pixels or raise "
                             "data.max_prompt_length (a video prompt cannot be truncated)")
        self.request_ids[id(scored)] = request
        return scored


class _SharedVideoFeatures:
    """A video processor whose outputs are cached per clip and per call (processor, frames, kwargs).

    The features are computed by ``recipes.videossr.video_features.fast_video_processor`` (the
    processor's own bytes, fewer copies). A call on several clips whose per-clip features are all
    cached (Qwen3-VL: the prompt build expands each clip alone) concatenates them, as the processor
    concatenates its clips, and drops the per-clip entries; otherwise it runs on all the clips at once.
    Each call returns a fresh ``BatchFeature`` (the processor adds keys to it) over shared tensors.
    """

    MERGED = ("pixel_values_videos", "video_grid_thw", "video_metadata")  # what the Qwen-VL processors return

    def __init__(self, video_processor: Any, cache: ProcessorCache):
        self._video_processor, self._cache = video_processor, cache
        self._fast = fast_video_processor(video_processor)

    def _key(self, videos, kwargs) -> tuple:
        return ("video_features", id(self._video_processor), identity(videos), kwargs_key(kwargs))

    def _compute(self, videos, kwargs):
        return self._fast(videos, **kwargs)

    def _clips(self, videos, kwargs) -> Optional[list[tuple[list, dict]]]:
        """``(videos, kwargs)`` of each clip's own call, or None when the call cannot be split."""
        import torch

        if not isinstance(videos, (list, tuple)) or len(videos) < 2 or not all(
                isinstance(v, torch.Tensor) and v.ndim == 4 for v in videos):
            return None
        metadata = kwargs.get("video_metadata")
        if metadata is None:
            return [([v], dict(kwargs)) for v in videos]
        if not isinstance(metadata, (list, tuple)) or len(metadata) != len(videos):
            return None
        return [([v], {**kwargs, "video_metadata": [m]}) for v, m in zip(videos, metadata)]

    def _merged(self, videos, kwargs, clips):
        import torch
        from transformers.image_processing_utils import BatchFeature

        keys = [self._key(v, k) for v, k in clips]
        parts = [self._cache.peek(key) for key in keys]
        if any(part is None for part in parts) or any(
                list(part.keys()) != list(parts[0].keys()) or not set(part.keys()) <= set(self.MERGED)
                for part in parts):
            return self._compute(videos, kwargs)
        data = {}
        for name in parts[0].keys():
            values = [part[name] for part in parts]
            data[name] = torch.cat(values) if name != "video_metadata" else [m for v in values for m in v]
        for key in keys:  # their features now live in the merged entry
            self._cache.discard(key)
        return BatchFeature(data=data)

    def __call__(self, videos=None, **kwargs):
        clips = self._clips(videos, kwargs)
        compute = ((lambda: self._compute(videos, kwargs)) if clips is None
                   else (lambda: self._merged(videos, kwargs, clips)))
        features = self._cache.get_or_compute(self._key(videos, kwargs), compute,
                                              refs=[self._video_processor, *objects(videos)])
        return copy.copy(features)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._video_processor, name)


_SHARED_PROCESSORS: dict[int, tuple[Any, Any]] = {}  # id(processor) -> (processor, its sharing copy)


def _shared_video_processor(processor: Any, cache: ProcessorCache) -> Any:
    """A shallow copy of ``processor`` whose ``video_processor`` is a ``_SharedVideoFeatures``."""
    if isinstance(processor.video_processor, _SharedVideoFeatures):
        return processor  # already one
    held = _SHARED_PROCESSORS.get(id(processor))
    if (held is None or held[0] is not processor or held[1].video_processor._cache is not cache
            or held[1].video_processor._video_processor is not processor.video_processor):
        shared = copy.copy(processor)
        shared.video_processor = _SharedVideoFeatures(processor.video_processor, cache)
        held = _SHARED_PROCESSORS[id(processor)] = (processor, shared)
    return held[1]


class _WithProcessor:
    """``worker`` seen with another ``processor`` (for running verl's method on it)."""

    def __init__(self, worker: Any, processor: Any):
        self.__dict__.update(_worker=worker, processor=processor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._worker, name)


class VideoSSRWorkerMixin:
    """The recipe's agent-loop worker methods.

    - ``_compute_multi_modal_inputs``: verl's, with the video features (pixel values, grids, the
      processor's per-clip work) computed once per (processor, clips, processor kwargs) and shared by
      the n sessions of a prompt, whatever their answers (``recipes.videossr.processor_cache``).
    - ``_compute_position_ids``: vLLM's M-RoPE rule for Qwen2.5-VL video (verl's otherwise).
    """

    def _compute_multi_modal_inputs(self, output, input_ids):
        # verl's own code, run with a processor whose video processor shares its features: the
        # sessions' sequences differ (their answers), their clips and kwargs do not.
        data = output.multi_modal_data or {}
        cache = configure(self.config.data)
        if (self.processor is None or getattr(self.processor, "video_processor", None) is None
                or not data.get("videos") or data.get("images") or data.get("audios") or cache.max_bytes <= 0):
            return super()._compute_multi_modal_inputs(output, input_ids)
        verl_code = super(VideoSSRWorkerMixin, self)._compute_multi_modal_inputs.__func__
        return verl_code(_WithProcessor(self, _shared_video_processor(self.processor, cache)), output, input_ids)

    def _compute_position_ids(self, input_ids, attention_mask, multi_modal_inputs, mm_processor_kwargs=None):
        import torch

        if (type(self.processor).__name__ != "Qwen2_5_VLProcessor"
                or multi_modal_inputs.get("video_grid_thw") is None):
            return super()._compute_position_ids(input_ids, attention_mask, multi_modal_inputs, mm_processor_kwargs)
        multi_modal_inputs.pop("mm_token_type_ids", None)  # verl's path drops it too (positions only)
        vision = self.processor.config.vision_config
        grids = multi_modal_inputs["video_grid_thw"].tolist()
        seconds = multi_modal_inputs.get("second_per_grid_ts")
        seconds = [1.0] * len(grids) if seconds is None else torch.as_tensor(seconds).reshape(-1).tolist()
        image_grids = multi_modal_inputs.get("image_grid_thw")
        valid = attention_mask[0].bool()
        positions = qwen2_5_vl_positions(
            input_ids[0][valid].tolist(),
            video_token_id=get_processor_token_id(self.processor, "video"),
            video_grids=grids,
            seconds_per_grid=round_to_dtype(seconds, str(self.rollout_config.dtype)),
            tokens_per_second=getattr(vision, "tokens_per_second", 1.0),
            spatial_merge_size=vision.spatial_merge_size,
            image_token_id=get_processor_token_id(self.processor, "image"),
            image_grids=[] if image_grids is None else image_grids.tolist(),
        )
        # verl's layout: (1, 4, seq) = text positions, then the three M-RoPE rows; padding gets 1.
        out = torch.ones((1, 4, input_ids.shape[1]), dtype=torch.long)
        out[0, 0, valid] = torch.arange(int(valid.sum()))
        out[0, 1:, valid] = torch.from_numpy(positions)
        return out


class VideoSSRAgentLoopWorker(VideoSSRWorkerMixin, AgentLoopWorker):
    """verl's agent-loop worker with the recipe's methods (the in-process agreement check runs it)."""


class VideoSSRAgentLoopWorkerTQ(VideoSSRWorkerMixin, AgentLoopWorkerTQ.__ray_actor_class__):
    """verl's V1 (TransferQueue) agent-loop worker with the recipe's methods."""

    def __init__(self, *args, **kwargs):
        # Without its own __init__, Ray ships the inherited one by value with its own copy of verl's
        # class, and that __init__'s zero-argument super() then fails at actor creation
        # ("super(type, obj): obj must be an instance or subtype of type"), on every machine.
        super().__init__(*args, **kwargs)

    async def _agent_loop_postprocess(self, output, validate, **kwargs):
        outputs = output if isinstance(output, list) else [output]
        vllm_ids = [o.extra_fields.pop(rollout_trace.PROMPT_CHECK_FIELD, None) for o in outputs]
        await super()._agent_loop_postprocess(output, validate, **kwargs)  # verl: reward, TransferQueue
        directory = rollout_trace.trace_dir(self.config.data)
        if directory is not None:
            for i, (one, ids) in enumerate(zip(outputs, vllm_ids)):
                rollout_trace.append(directory, rollout_trace.record(one, validate, kwargs, ids, index=i))


class VideoSSRAgentLoopManager(AgentLoopManagerTQ):
    """``agent_loop_manager_class`` for verl's V1 trainer: verl's manager, this recipe's workers."""

    HARNESS_WORKER_CLASS = VideoSSRAgentLoopWorker  # what the in-process agreement check runs

    def __init__(self, config, *args, **kwargs):
        if not config.trainer.get("use_v1", True):
            raise ValueError(f"{type(self).__module__}.{type(self).__name__} needs verl's V1 trainer "
                             "(trainer.use_v1=true, verl 0.9.1's default)")
        super().__init__(config, *args, **kwargs)
        self.agent_loop_workers_class = ray.remote(VideoSSRAgentLoopWorkerTQ)  # verl's sets AgentLoopWorkerTQ
