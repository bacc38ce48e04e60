"""CPU-heavy work (assessing a case, drawing a report as HTML or PDF) in a small pool of worker processes, so the
serving process stays free to answer look-ups and to read and write the database.

* The workers are started by ``forkserver`` (``spawn`` where there is none), each loads the knowledge once when it
  starts, and each runs at a lower OS priority (``os.nice``) than the server, so a look-up is answered before a
  report is drawn. Every call carries the server's ``kb_version``; a worker on other knowledge refuses it.
* The work sent is pure computation: files in, an answer out. The database and the audit trail stay with the
  server (an audit row is written in the same transaction as the change it records, see :mod:`.audit`).
* ``workers=0`` computes in the serving process (a thread of its own), as before the pool existed.
* One pool per (workers, nice) in a process, made when first asked for and shared by every app built in it (the
  tests build many); :func:`shutdown` ends them (``nerasense serve`` does when it stops), and a worker whose
  server is gone without doing so (killed) ends itself within a second.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from nerasense.errors import InputError, KnowledgeError, Problem
from nerasense.knowledge import KnowledgeBase
from nerasense.knowledge.genomics import GenomicsKnowledge

T = TypeVar("T")
Task = Callable[..., T]  # called as task(kb, gk, *args)

_state: dict[str, Any] = {}  # in a worker: its knowledge
_pools: dict[tuple[int, int], ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


class _Refused:
    """An InputError crossing back from a worker (its problems; the exception itself does not pickle whole)."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a stopped server not yet reaped by its parent is a zombie: gone all the same
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _watch(server: int) -> None:
    """End this worker when the server is gone (killed, so it could not stop its pool)."""
    while _alive(server):
        time.sleep(1.0)
    os._exit(0)


def _start_worker(nice: int, server: int) -> None:
    """In each new worker: lower its priority, load the knowledge and the drawing libraries once."""
    from nerasense.knowledge import default_knowledge

    threading.Thread(target=_watch, args=(server,), name="nerasense-watch", daemon=True).start()
    if nice:
        os.nice(nice)
    kb = default_knowledge()
    _state["kb"], _state["gk"] = kb, GenomicsKnowledge(kb)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    import nerasense.report.patient_report  # noqa: F401


def _ping() -> int:
    return os.getpid()


def _invoke(task: Callable[..., Any], kb_version: str, args: tuple[Any, ...]) -> Any:
    kb: KnowledgeBase = _state["kb"]
    if kb.kb_version != kb_version:
        raise KnowledgeError(f"a compute worker holds knowledge {kb.kb_version}, the server {kb_version}; "
                             "restart the server")
    try:
        return task(kb, _state["gk"], *args)
    except InputError as err:
        return _Refused(err.problems)


def _unwrap(value: Any) -> Any:
    if isinstance(value, _Refused):
        raise InputError(value.problems)
    return value


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    mp = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if mp.get_start_method() == "forkserver":
        mp.set_forkserver_preload(["nerasense.service.compute"])  # not __main__: workers import only what they run
    return mp


def pool(workers: int, nice: int) -> ProcessPoolExecutor:
    """The process's pool of ``workers`` processes at ``nice`` (made on first use, then shared)."""
    with _pools_lock:
        key = (workers, nice)
        found = _pools.get(key)
        if found is None:
            found = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_start_worker,
                                        initargs=(nice, os.getpid()))
            _pools[key] = found
        return found


def _replace(broken: ProcessPoolExecutor) -> None:
    """A worker died (killed, out of memory): the pool cannot be used again; the next call makes a new one."""
    with _pools_lock:
        for key, value in list(_pools.items()):
            if value is broken:
                del _pools[key]
    broken.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """End every pool of this process (the server calls it when it stops)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for p in pools:
        p.shutdown(wait=True, cancel_futures=True)


class Compute:
    """Runs ``task(kb, gk, *args)``: in a worker process when ``workers`` > 0, else in this process."""

    def __init__(self, kb: KnowledgeBase, gk: GenomicsKnowledge, workers: int = 0, nice: int = 10) -> None:
        self.kb, self.gk, self.workers, self.nice = kb, gk, workers, nice

    def _executor(self) -> ProcessPoolExecutor:
        return pool(self.workers, self.nice)

    def warm(self) -> None:
        """Start the workers now (each loads the knowledge), without waiting for them."""
        if self.workers:
            ex = self._executor()
            for _ in range(self.workers):
                ex.submit(_ping)

    def call(self, task: Task[T], *args: Any) -> T:
        """From a thread (the job worker): wait for the answer."""
        if not self.workers:
            return task(self.kb, self.gk, *args)
        ex = self._executor()
        try:
            return _unwrap(ex.submit(_invoke, task, self.kb.kb_version, args).result())
        except BrokenProcessPool:
            _replace(ex)
            raise

    async def run(self, task: Task[T], *args: Any) -> T:
        """From the event loop: await the answer, holding no thread of the server's while the worker computes."""
        if not self.workers:
            from anyio import to_thread

            return await to_thread.run_sync(lambda: task(self.kb, self.gk, *args))
        ex: Executor = self._executor()
        try:
            value = await asyncio.get_running_loop().run_in_executor(ex, _invoke, task, self.kb.kb_version, args)
        except BrokenProcessPool:
            _replace(ex)  # type: ignore[arg-type]
            raise
        return _unwrap(value)
