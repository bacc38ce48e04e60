"""Run :func:`~nerasense.screen.partition.screen_part` over every part: on this machine, or on Dask.

``run_local`` keeps at most ``workers`` parts in flight in threads (polars releases the GIL and uses every
core inside a part; a second part in flight overlaps one part's Python steps and file reads with another's
work), so memory is bounded by ``workers`` parts, not by the input. ``run_dask`` sends the same parts to a
dask.distributed cluster: a LocalCluster of ``workers`` processes, or the scheduler at ``scheduler``. The
knowledge is sent to every worker once. Both return the parts' results in part order, and
:func:`~nerasense.screen.summary.combine` makes the same screen of either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from nerasense.errors import InputError, Problem
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.screen.inputs import Part
from nerasense.screen.partition import Knowledge, Options, PartResult, screen_part, threads_recording

Progress = Callable[[int], None]  # called with the bytes of input a finished part covered


def run_local(parts: Sequence[Part], gk: Knowledge, options: Options, *, workers: int = 2,
              progress: Progress | None = None) -> list[PartResult]:
    results: list[PartResult] = []
    pending: set[Future[PartResult]] = set()
    todo = list(parts)
    with threads_recording(), ThreadPoolExecutor(max(1, workers), thread_name_prefix="screen") as pool:
        while todo or pending:
            while todo and len(pending) < max(1, workers):
                pending.add(pool.submit(screen_part, todo.pop(0), gk, options))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                results.append(result)
                if progress is not None:
                    progress(next(p.size for p in parts if p.index == result.index))
    return sorted(results, key=lambda r: r.index)


def run_dask(parts: Sequence[Part], gk: GenomicsKnowledge, options: Options, *, scheduler: str | None = None,
             workers: int = 2, progress: Progress | None = None) -> list[PartResult]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError(Problem("--engine", "dask", "local, or dask with dask[distributed] installed",
                                 "pip install 'dask[distributed]'")) from None
    cluster: Any = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
    try:
        with Client(scheduler or cluster, set_as_default=False) as client:
            knowledge = client.scatter(gk, broadcast=True)
            futures = client.map(screen_part, list(parts), knowledge=knowledge, options=options, pure=False)
            sizes = {f.key: p.size for f, p in zip(futures, parts, strict=True)}
            for future in as_completed(futures, loop=client.loop):
                if future.status == "error":
                    future.result()  # raises the part's error here, as the local engine would
                if progress is not None:
                    progress(sizes[future.key])
            results: list[PartResult] = client.gather(futures)
    except OSError as exc:
        raise InputError(Problem("--scheduler", scheduler, "the address of a running dask scheduler",
                                 f"cannot reach it ({exc})")) from None
    finally:
        if cluster is not None:
            cluster.close()
    return sorted(results, key=lambda r: r.index)


__all__ = ["run_dask", "run_local"]
