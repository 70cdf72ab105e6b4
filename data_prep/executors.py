"""Run one function over many items: in-process, on a local process pool, or as Ray tasks.

All three yield results as they complete (the caller records each one durably at once, which is
what makes jobs resumable: a kill loses only the tasks in flight). Ray is the way to go past one
machine: the same function runs as a task on every node of a cluster, which must see the same
input and output paths (shared storage).

What an item ends as (``run_journaled``): ``ok``, or ``skipped`` with a reason (a *data* problem
of that item: a video too short, a frame unreadable; recorded, so a resume does not retry it), or
``failed`` (a *program or environment* error: a bug, a full disk, a vanished mount). A failed item
is never recorded: the run stops, raising ``JobFailed`` with the exception's last line and where
it was raised, and the next run retries it. Records an older version wrote for program errors
(skipped, "unexpected error: ...") are retried on resume too (``load_journal``).
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing as mp
import os
import signal
import socket
import sys
import sysconfig
import traceback
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from tqdm import tqdm

from data_prep.jsonl import JsonlAppender, read_records, rewrite_sorted

CHUNKS_PER_WORKER = 4  # batches are cut small enough for >= 4 per worker: the last ones end together
OK, SKIPPED, FAILED = "ok", "skipped", "failed"
LEGACY_PROGRAM_ERROR = "unexpected error:"  # how older versions recorded any exception as a skip
RAY_CONNECT_TIMEOUT_S = 10.0


class JobFailed(RuntimeError):
    """A run did not make what it was asked for: a program or environment error stopped it (nothing
    was recorded for the failed item), or every item was skipped (nothing usable was written)."""


def describe_exception(exc: BaseException) -> str:
    """The traceback's last line and the place it was raised: ``Type: message (at file:line in fn)``.

    >>> try:
    ...     1 / 0
    ... except ZeroDivisionError as e:
    ...     describe_exception(e)
    'ZeroDivisionError: division by zero (at <doctest ...>:2 in <module>)'
    """
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        # the innermost frame of the project's (or a fork's) code, not of Python's or a library's
        libraries = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})
        own = [f for f in frames if not os.path.abspath(f.filename).startswith(libraries)]
        where = (own or frames)[-1]
        path = where.filename
        try:
            path = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
        except ValueError:
            pass
        text += f" (at {path}:{where.lineno} in {where.name})"
    return text


def failure_record(base: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """The record of an item a program or environment error stopped (never journaled)."""
    return base | {"status": FAILED, "reason": describe_exception(exc)}


def is_retryable(record: dict[str, Any]) -> bool:
    """A journaled record an older version wrote for a program error: done again on resume."""
    return record.get("status") != OK and str(record.get("reason", "")).startswith(LEGACY_PROGRAM_ERROR)


def load_journal(journal: Path, key: str) -> dict[str, dict]:
    """The finished records of a journal by ``key``, without the ones to retry (``is_retryable``)."""
    return {r[key]: r for r in read_records(journal) if not is_retryable(r)}


def available_cores() -> int:
    """CPUs this process may run on (its affinity mask, which containers and ``taskset`` narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int, cores: Optional[int] = None) -> int:
    """Threads each of ``workers`` processes may use so that together they fill the cores, no more.

    A decoder left to choose takes every core (FFmpeg: cores + 1 threads) in every worker, so N
    workers would run N times too many threads and lose to switching what they gain in parallel.

    >>> threads_per_worker(1, cores=2), threads_per_worker(2, cores=2), threads_per_worker(3, cores=16)
    (2, 1, 5)
    >>> threads_per_worker(8, cores=2)
    1
    """
    return max(1, (cores or available_cores()) // max(1, workers))


def run_unordered(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    workers: int = 1,
    ray_address: Optional[str] = None,
    max_in_flight: Optional[int] = None,
    batch: int = 1,
) -> Iterator[Any]:
    """Yield ``fn(item)`` for every item, in completion order.

    ``ray_address``: ``"auto"`` or ``"HOST:PORT"`` joins a running cluster; ``"local"`` starts a
    private single-machine Ray instance with ``workers`` CPUs (handy for testing the Ray path).
    ``batch``: up to this many items per task, for items too short to pay for a task each (a build
    sample takes ~10 ms, not much more than a Ray task's round trip); results still come one per
    item. Items are started in the order given: put the longest first.
    """
    items = list(items)
    if ray_address and items:
        yield from _run_ray(fn, items, workers, ray_address, max_in_flight, batch)
    elif workers > 1 and len(items) > 1:
        yield from _run_pool(fn, items, workers, batch)
    else:
        for item in items:
            yield fn(item)


def _chunks(items: list[Any], batch: int, parallelism: int) -> list[list[Any]]:
    """``items`` cut into consecutive batches of at most ``batch``, shrinking towards the end.

    Each batch is 1/(CHUNKS_PER_WORKER * parallelism) of what remains (at most ``batch``, at least
    1), so the workers' last batches are small and end together: no worker idles through a whole
    batch of another's at the end.

    >>> [len(c) for c in _chunks(list(range(10)), batch=4, parallelism=1)]
    [3, 2, 2, 1, 1, 1]
    >>> [len(c) for c in _chunks(list(range(40)), batch=4, parallelism=2)]
    [4, 4, 4, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
    """
    chunks, start = [], 0
    while start < len(items):
        size = max(1, min(batch, math.ceil((len(items) - start) / (CHUNKS_PER_WORKER * parallelism))))
        chunks.append(items[start : start + size])
        start += size
    return chunks


def _ignore_sigint() -> None:
    """Worker processes leave Ctrl-C to the parent, which stops them: one message, no tracebacks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_pool(workers: int) -> None:
    """End a pool's workers now (Ctrl-C, a failed run): their unfinished items are redone on resume."""
    pool = _pools.pop(workers, None)
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _pool_context() -> mp.context.BaseContext:
    """fork where it is safe, spawn otherwise.

    A forked worker starts in milliseconds with the parent's modules imported; a spawned one imports
    numpy, PIL and the tasks again (~0.3 s each, the time of ~30 build samples). Forking a process
    that has imported torch (its thread pools, CUDA) can deadlock the child: then spawn.
    """
    if "fork" in mp.get_all_start_methods() and "torch" not in sys.modules:
        return mp.get_context("fork")
    return mp.get_context("spawn")


_pools: dict[int, cf.ProcessPoolExecutor] = {}


def _warm_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A pool of ``workers`` processes, kept for the next stage of this process (``make demo`` runs three).

    Starting a spawned worker (a Python process importing numpy, PIL, PyAV) costs ~0.3 s, as much as
    a small build (see ``_pool_context``).
    """
    if workers not in _pools:
        _pools[workers] = cf.ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(),
                                                 initializer=_ignore_sigint)
    return _pools[workers]


def _run_pool(fn, items, workers, batch) -> Iterator[Any]:
    chunks = deque(_chunks(items, batch, workers))
    pool = _warm_pool(workers)
    pending: set = set()
    try:
        while chunks or pending:
            # at most two tasks per worker queued: a 1M-video corpus holds no million futures
            while chunks and len(pending) < 2 * workers:
                pending.add(pool.submit(_apply_all, fn, chunks.popleft()))
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                yield from future.result()
    except BrokenProcessPool:
        _pools.pop(workers, None)  # a worker died (e.g. killed for memory): the next run starts a new pool
        raise
    except BaseException:  # Ctrl-C, or the caller stopped (a failed item): do not wait for the workers
        _stop_pool(workers)
        raise
    finally:
        for future in pending:
            future.cancel()


def _apply_all(fn: Callable[[Any], Any], chunk: list[Any]) -> list[Any]:
    return [fn(item) for item in chunk]


def check_ray_reachable(address: str, timeout: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """Raise ``ConnectionError`` (one line) unless ``HOST:PORT`` accepts a connection within ``timeout``.

    ``ray.init`` itself retries an unreachable address for many minutes, printing warnings.
    ``auto`` and ``local`` are left to Ray (it fails fast when no cluster is recorded).
    """
    if address in ("auto", "local"):
        return
    rest = address[len("ray://"):] if address.startswith("ray://") else address
    host, _, port = rest.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise ConnectionError(
            f"--ray {address}: no Ray cluster answers there ({reason}; waited up to {timeout:g} s): start one "
            "(`ray start --head` on the head node), pass its HOST:PORT, or use --ray local on this machine"
        ) from None


def _run_ray(fn, items, workers, address, max_in_flight, batch) -> Iterator[Any]:
    check_ray_reachable(address)
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        if address == "local":
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    try:
        remote_apply = ray.remote(num_cpus=1)(_apply_all)  # ray.remote needs a plain function, not a partial
        fn_ref = ray.put(fn)
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        limit = max_in_flight or max(4, 2 * cpus)
        pending, queue = [], deque(_chunks(items, batch, cpus))
        while queue or pending:
            while queue and len(pending) < limit:  # bounded: a 1M-video corpus must not flood the GCS
                pending.append(remote_apply.remote(fn_ref, queue.popleft()))
            done, pending = ray.wait(pending, num_returns=1)
            yield from ray.get(done[0])
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
    batch: int = 1,
    progress: bool = True,
    desc: str = "",
    unit: str = "item",
    describe_skip: Callable[[dict], str] = lambda r: f"skipped: {r.get('reason', '')}",
    bind: Optional[Callable[[], None]] = None,
) -> dict[str, dict]:
    """Run ``fn`` over ``todo`` and journal every result record the moment it completes.

    This is what makes the pipeline's stages resumable: each record is appended durably to the
    JSONL ``journal`` (and added to ``done`` under ``record[key]``) as soon as it arrives, so a
    killed run loses at most the items in flight. Records whose ``status`` is ``skipped`` are
    reported under the progress bar. A ``failed`` record (a program or environment error, see the
    module docstring) is not journaled: the run stops and ``JobFailed`` names the item and the
    error. ``bind`` is called once, before the first ``ok`` record is journaled: a folder records
    the options it is built with only once something was built with them. At the end (or at a
    failure) the journal is rewritten sorted by ``key``, so the finished file does not depend on
    completion order (nor on ``batch``: see ``run_unordered``). Returns ``done``.
    """
    bar = tqdm(total=len(todo), unit=unit, desc=desc, disable=not progress, file=sys.stderr)
    failed: Optional[dict] = None
    results = run_unordered(fn, todo, workers=workers, ray_address=ray_address, batch=batch)
    try:
        with JsonlAppender(journal) as appender:
            for record in results:
                if record.get("status") == FAILED:
                    failed = record
                    break
                if record.get("status") == OK and bind is not None:
                    bind()
                    bind = None
                appender.append(record)
                done[record[key]] = record
                bar.update(1)
                if record.get("status") != OK:
                    bar.write(describe_skip(record))
    except BrokenProcessPool as exc:  # the environment: a worker was killed (out of memory, a signal)
        raise JobFailed(f"{desc or 'run'}: a worker process died ({exc}); finished {unit}s are kept: run the same "
                        "command again (with fewer --workers if memory is short)") from None
    finally:
        results.close()  # stops the workers' remaining items (a failure, Ctrl-C)
        bar.close()
    rewrite_sorted(journal, done.values(), key=key)
    if failed is not None:
        raise JobFailed(
            f"{desc or 'run'}: {unit} {failed[key]} failed: {failed['reason']}. This is a program or "
            f"environment error, not bad data: nothing was recorded for it; fix the cause and run the same "
            f"command again (finished {unit}s are kept)"
        )
    return done
