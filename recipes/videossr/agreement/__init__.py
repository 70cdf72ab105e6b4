"""Rollout/update agreement: do vLLM and the FSDP actor see the same prompt tokens and positions?

GRPO is only correct if the prompt token ids and the (M-RoPE) position ids vLLM generates from are
the ones the actor scores (issue 13). For one dataset row and one model folder this runs

* side (a), ``trainer_side``: verl 0.9.1's own ``AgentLoopWorker`` (built from the recipe config for
  the model's family; the config's ``agent_loop_manager_class`` may name a subclass through its
  ``HARNESS_WORKER_CLASS`` attribute) on the row, with verl's real ``LLMServerClient`` and ``vLLMHttpServer.generate``
  in front of a recording engine: the prompt ids / positions of the batch the actor scores, and
  the exact ``TokensPrompt`` vLLM would receive;
* side (b), ``vllm_side``: vLLM 0.24's own multimodal processor (``MULTIMODAL_REGISTRY.
  create_processor(ModelConfig(...)).apply``) and the model class's ``get_mrope_input_positions``
  on that request;

and compares them (``compare``). Both sides run in ONE process: the environment needs verl 0.9.1
and vLLM 0.24 together (``make vllm-venv`` / README of this package). CPU only, no weights loaded
beyond the tokenizer/processor.

>>> results = check_parquet("viubench.parquet", ["models/tiny-qwen3_vl"], rows_per_source=1)  # doctest: +SKIP
>>> print(format_table(results))                                                                # doctest: +SKIP
>>> print(format_markdown(results))  # the same rows as a markdown table                       # doctest: +SKIP

Command line::

    python -m recipes.videossr.agreement --data DATA.parquet --model MODEL_DIR [--model ...] [--rows-per-source 1]
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Iterable

from recipes.videossr.agreement.compare import Agreement, compare, format_markdown, format_table


def select_rows(data_sources: list[str], rows_per_source: int) -> list[int]:
    """The first ``rows_per_source`` row indices of each data_source, in file order (<= 0: all rows).

    >>> select_rows(["a", "a", "b", "a", "b"], 1)
    [0, 2]
    """
    seen: dict[str, int] = defaultdict(int)
    keep = []
    for i, source in enumerate(data_sources):
        if rows_per_source <= 0 or seen[source] < rows_per_source:
            keep.append(i)
            seen[source] += 1
    return keep


def check_parquet(parquet: str | Path, model_dirs: Iterable[str | Path], rows_per_source: int = 1,
                  rows: list[int] | None = None, overrides: list[str] | None = None,
                  worker_cls: type | None = None) -> list[Agreement]:
    """Agreement for ``rows`` (default: ``rows_per_source`` per data_source) of ``parquet``, per model.

    ``worker_cls``: the AgentLoopWorker class for side (a); default: the one the composed recipe
    config's ``agent_loop_manager_class`` names (``trainer_side.harness_worker_class``).
    """
    import pyarrow.parquet as pq

    from recipes.videossr.agreement.trainer_side import TrainerHarness
    from recipes.videossr.agreement.vllm_side import process_request

    if rows is None:
        sources = pq.read_table(parquet, columns=["data_source"]).column("data_source").to_pylist()
        rows = select_rows(sources, rows_per_source)
    results = []
    for model_dir in model_dirs:
        harness = TrainerHarness(model_dir, parquet, overrides, worker_cls=worker_cls)
        rollout = harness.worker.rollout_config
        max_model_len = int(rollout.max_model_len or (int(rollout.prompt_length) + int(rollout.response_length)))
        for index in rows:
            trainer = harness.run_row(index)
            vllm = process_request(model_dir, trainer.request["prompt"], max_model_len=max(max_model_len, 32768),
                                   limit_video=max(8, trainer.num_videos), dtype=str(rollout.dtype))
            results.append(compare(trainer, vllm))
    return results


__all__ = ["Agreement", "check_parquet", "compare", "format_markdown", "format_table", "select_rows"]
