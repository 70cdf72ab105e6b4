"""Run one function over many items: in-process, on a local process pool, or as Ray tasks.

All three yield results as they complete (the caller records each one durably at once, which is
what makes jobs resumable). Ray is the way to go past one machine: the same function runs as a
task on every node of a cluster, which must see the same input and output paths (shared storage).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from tqdm import tqdm

from data_prep.jsonl import JsonlAppender, rewrite_sorted


def run_unordered(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    workers: int = 1,
    ray_address: Optional[str] = None,
    max_in_flight: Optional[int] = None,
) -> Iterator[Any]:
    """Yield ``fn(item)`` for every item, in completion order.

    ``ray_address``: ``"auto"`` or ``"HOST:PORT"`` joins a running cluster; ``"local"`` starts a
    private single-machine Ray instance with ``workers`` CPUs (handy for testing the Ray path).
    """
    items = list(items)
    if ray_address:
        yield from _run_ray(fn, items, workers, ray_address, max_in_flight)
    elif workers > 1 and len(items) > 1:
        # spawn: safe whatever the parent imported (fork after torch/threads can deadlock).
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(fn, item) for item in items]
            for future in cf.as_completed(futures):
                yield future.result()
    else:
        for item in items:
            yield fn(item)


def _apply(fn: Callable[[Any], Any], item: Any) -> Any:
    return fn(item)


def _run_ray(fn, items, workers, address, max_in_flight) -> Iterator[Any]:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        if address == "local":
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    try:
        remote_apply = ray.remote(num_cpus=1)(_apply)  # ray.remote needs a plain function, not a partial
        fn_ref = ray.put(fn)
        limit = max_in_flight or max(4, 2 * int(ray.cluster_resources().get("CPU", 1)))
        pending, queue = [], list(reversed(items))
        while queue or pending:
            while queue and len(pending) < limit:  # bounded: a 1M-video corpus must not flood the GCS
                pending.append(remote_apply.remote(fn_ref, queue.pop()))
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started_here:
            ray.shutdown()


def run_journaled(
    fn: Callable[[Any], dict],
    todo: list[Any],
    journal: Path,
    done: dict[str, dict],
    key: str,
    *,
    workers: int = 1,
    ray_address: Optional[str] = None,
    progress: bool = True,
    desc: str = "",
    unit: str = "item",
    describe_skip: Callable[[dict], str] = lambda r: f"skipped: {r.get('reason', '')}",
) -> dict[str, dict]:
    """Run ``fn`` over ``todo`` and journal every result record the moment it completes.

    This is what makes the pipeline's stages resumable: each record is appended durably to the
    JSONL ``journal`` (and added to ``done`` under ``record[key]``) as soon as it arrives, so a
    killed run loses at most the items in flight. Records whose ``status`` is not ``"ok"`` are
    reported under the progress bar. At the end the journal is rewritten sorted by ``key``, so the
    finished file does not depend on completion order. Returns ``done``.
    """
    bar = tqdm(total=len(todo), unit=unit, desc=desc, disable=not progress, file=sys.stderr)
    with JsonlAppender(journal) as appender:
        for record in run_unordered(fn, todo, workers=workers, ray_address=ray_address):
            appender.append(record)
            done[record[key]] = record
            bar.update(1)
            if record.get("status") != "ok":
                bar.write(describe_skip(record))
    bar.close()
    rewrite_sorted(journal, done.values(), key=key)
    return done
