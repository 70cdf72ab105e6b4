"""Compare side (a) and side (b), one row at a time, and format the agreement table."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable

import numpy as np


@dataclass
class Agreement:
    data_source: str
    model_type: str
    row_index: int
    clips: int
    trainer_tokens: int
    sent_tokens: int  # ids verl sent to vLLM (after its pad collapse)
    vllm_tokens: int
    ids_equal: bool
    first_id_mismatch: int | None  # index of the first differing token (None when equal)
    positions_compared: int  # tokens whose positions were compared (all, when the ids agree)
    positions_differing: int | None  # None when the ids differ (positions of different tokens mean nothing)
    positions_equal: bool
    trainer_second_per_grid_ts: list[float] | None  # in verl's processor output (not what get_rope_index got)
    vllm_second_per_grid_ts: list[float] | None
    trainer_worker: str = ""  # the AgentLoopWorker class side (a) ran

    @property
    def equal(self) -> bool:
        return self.ids_equal and self.positions_equal

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "equal": self.equal}


def first_mismatch(a: list[int], b: list[int]) -> int | None:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def compare(trainer, vllm) -> Agreement:
    """``trainer``: a ``TrainerSide``; ``vllm``: a ``VllmSide`` for the request recorded with it."""
    ids_equal = trainer.prompt_ids == vllm.prompt_ids
    if ids_equal:
        t_pos, v_pos = np.asarray(trainer.position_ids), np.asarray(vllm.position_ids)
        if t_pos.shape != v_pos.shape:
            raise ValueError(f"position shapes differ: trainer {t_pos.shape}, vLLM {v_pos.shape}")
        differing = int((t_pos != v_pos).any(axis=0).sum())
        compared = int(t_pos.shape[1])
    else:
        differing, compared = None, 0
    spg = trainer.multi_modal_inputs.get("second_per_grid_ts")
    spg = [round(float(x), 6) for x in spg.reshape(-1).tolist()] if spg is not None else None
    return Agreement(
        data_source=trainer.data_source, model_type=trainer.model_type, row_index=trainer.row_index,
        clips=trainer.num_videos, trainer_tokens=len(trainer.prompt_ids), sent_tokens=len(vllm.sent_ids),
        vllm_tokens=len(vllm.prompt_ids), ids_equal=ids_equal,
        first_id_mismatch=first_mismatch(trainer.prompt_ids, vllm.prompt_ids),
        positions_compared=compared, positions_differing=differing, positions_equal=bool(ids_equal and differing == 0),
        trainer_second_per_grid_ts=spg,
        vllm_second_per_grid_ts=[round(x, 6) for x in vllm.second_per_grid_ts] if vllm.second_per_grid_ts else None,
        trainer_worker=getattr(trainer, "worker_class", ""),
    )


def format_table(results: Iterable[Agreement]) -> str:
    """A plain-text table: one line per (data_source, model family, row)."""
    header = ("data_source", "family", "row", "clips", "trainer", "sent", "vLLM", "ids", "pos differing", "spg t/v")
    rows = []
    for r in results:
        pos = "-" if r.positions_differing is None else f"{r.positions_differing}/{r.positions_compared}"
        spg = "-"
        if r.trainer_second_per_grid_ts or r.vllm_second_per_grid_ts:
            t = ",".join(f"{x:.4f}" for x in r.trainer_second_per_grid_ts or [])[:20] or "-"
            v = ",".join(f"{x:.4f}" for x in r.vllm_second_per_grid_ts or [])[:20] or "-"
            spg = f"{t} / {v}"
        rows.append((r.data_source, r.model_type, str(r.row_index), str(r.clips), str(r.trainer_tokens),
                     str(r.sent_tokens), str(r.vllm_tokens), "equal" if r.ids_equal else "DIFFER", pos, spg))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def format_markdown(results: Iterable[Agreement]) -> str:
    """A GitHub-markdown table (one row per data_source x family x row) for a closing note.

    >>> r = Agreement("videossr/jigsaw/n8", "qwen3_vl", 7, 8, 6205, 6205, 6205, True, None, 6205, 0, True, None, None)
    >>> print(format_markdown([r]))
    | data_source | family | clips | trainer tokens | vLLM tokens | ids equal | positions differing |
    |---|---|---:|---:|---:|---|---:|
    | videossr/jigsaw/n8 | qwen3_vl | 8 | 6,205 | 6,205 | yes | 0 / 6,205 |
    """
    header = ("data_source", "family", "clips", "trainer tokens", "vLLM tokens", "ids equal", "positions differing")
    lines = ["| " + " | ".join(header) + " |", "|---|---|---:|---:|---:|---|---:|"]
    for r in results:
        pos = ("- (ids differ)" if r.positions_differing is None
               else f"{r.positions_differing:,} / {r.positions_compared:,}")
        ids = "yes" if r.ids_equal else f"**no** (first at {r.first_id_mismatch:,})"
        lines.append(f"| {r.data_source} | {r.model_type} | {r.clips} | {r.trainer_tokens:,} | {r.vllm_tokens:,} "
                     f"| {ids} | {pos} |")
    return "\n".join(lines)
