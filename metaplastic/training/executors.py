"""Executors: where the independent jobs of an outer loop run (an ES population's fitness
evaluations, a sweep's trainings). Algorithms see only :class:`Executor`; an engine plugs
in by registering one more factory in :data:`EXECUTORS`, without touching the algorithm.

An executor does two things: ``map(fn, jobs)`` (a picklable callable over jobs, results in
order) and ``replicate(make)`` (state held by every worker and kept up to date by small
messages: :mod:`metaplastic.training.replicas`). Built in: ``inprocess`` (this process),
``process`` (local processes) and ``ray`` (a Ray cluster, extra ``ray``:
:mod:`metaplastic.training.ray_executor`). A worker that dies is restarted and its jobs run
again; one that keeps dying raises :class:`~metaplastic.training.replicas.WorkerFailed`.
The same jobs give the same results on every executor.

Example:
    >>> with make_executor("inprocess") as ex:
    ...     ex.map(abs, [-1, 2, -3])
    [1, 2, 3]
"""

from __future__ import annotations

import concurrent.futures
import itertools
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Protocol, Sequence

from metaplastic.errors import ConfigError
from metaplastic.training.replicas import LocalSlots, Replica, ReplicaSet, ReplicaStale, Slots, WorkerDied, serve

__all__ = ["Executor", "ExecutorBase", "InProcessExecutor", "ProcessPoolExecutor", "EXECUTORS", "make_executor", "Apply"]


class Executor(Protocol):
    """Runs jobs: ``map`` for stateless ones, ``replicate`` for state every worker holds."""

    workers: int

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]: ...

    def replicate(self, make: Callable[[], Replica]) -> ReplicaSet: ...

    def close(self) -> None: ...


class Apply:
    """The replica of a stateless map: ``fn`` applied to each job (messages ignored).

    Example:
        >>> Apply(abs)(-2)
        2
    """

    def __init__(self, fn: Callable[[Any], Any]):
        self.fn = fn

    def receive(self, message: Any) -> None:
        pass

    def __call__(self, job: Any) -> Any:
        return self.fn(job)


class ExecutorBase:
    """What every executor shares: ``with`` closes it, and :meth:`map` runs through
    :meth:`replicate` (so it is retried like any replica's jobs). A new engine subclasses
    it, sets ``workers`` (how many jobs run at once) and implements ``replicate`` (whose
    replica set also has ``workers``) and ``close``."""

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()  # type: ignore[attr-defined]

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
        """``fn`` over ``jobs``, results in order: one job per worker at a time, so a worker
        that dies costs only the job it was running (a sweep's point, not all of them)."""
        replicas = self.replicate(lambda: Apply(fn))  # type: ignore[attr-defined]
        step = replicas.workers
        try:
            return [r for i in range(0, len(jobs), step) for r in replicas.run(None, jobs[i : i + step])]
        finally:
            replicas.close()


class InProcessExecutor(ExecutorBase):
    """Jobs one after another in this process (a replica is a fresh copy from ``make``, as
    on any other executor)."""

    workers = 1

    def replicate(self, make: Callable[[], Replica]) -> ReplicaSet:
        return LocalSlots(make)

    def close(self) -> None:
        pass


# -- local processes ---------------------------------------------------------------------------
_HELD: dict[str, Replica] = {}  # in a worker process: the replicas it holds, by token


def _serve_held(token: str, replica: Replica | None, message: Any, jobs: list[Any]) -> list[Any]:
    if replica is not None:
        _HELD[token] = replica
    held = _HELD.get(token)
    if held is None:
        raise ReplicaStale(f"worker process {os.getpid()} holds no replica {token}")
    return serve(held, message, jobs)


def _drop_held(token: str) -> None:
    _HELD.pop(token, None)


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the driver, which stops after the update in progress."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _ProcessSlots(Slots):
    """Replicas in the pool's worker processes: a replica travels with the first jobs
    after it starts, then only messages and jobs do."""

    _tokens = itertools.count()

    def __init__(self, pool: "ProcessPoolExecutor", make: Callable[[], Replica]):
        self.pool = pool
        self.token = f"{os.getpid()}-{next(self._tokens)}"
        self._pending: dict[int, Replica | None] = {}
        super().__init__(make, pool.workers)

    def _start(self, i: int, replica: Replica) -> None:
        self._pending[i] = replica

    def _submit(self, i: int, message: Any, jobs: list[Any]) -> Any:
        replica, self._pending[i] = self._pending.get(i), None
        try:
            return self.pool.worker(i).submit(_serve_held, self.token, replica, message, jobs)
        except BrokenProcessPool:
            return None

    def _result(self, handle: Any) -> list[Any]:
        if handle is None:
            raise WorkerDied("its process pool is broken")
        try:
            return handle.result()
        except BrokenProcessPool:
            raise WorkerDied("its process exited abruptly (out of memory? a crash in native code? A script run with "
                             "executor=process needs an `if __name__ == '__main__':` guard: workers are spawned and "
                             "import it)") from None

    def _stop(self, i: int) -> None:
        self.pool.release(i, self.token)


class ProcessPoolExecutor(ExecutorBase):
    """Jobs spread over ``workers`` local processes (started with ``spawn``, so a parent
    that has loaded threaded libraries is safe), kept alive across calls. Each worker is a
    process of its own, so a replica stays where it was started; a dead process is
    replaced."""

    def __init__(self, workers: int | None = None):
        self.workers = int(workers or os.cpu_count() or 1)
        if self.workers < 1:
            raise ConfigError(f"a process pool needs at least one worker, got {workers}")
        self._pools: list[concurrent.futures.ProcessPoolExecutor | None] = [None] * self.workers

    def worker(self, i: int) -> concurrent.futures.ProcessPoolExecutor:
        """Worker ``i``'s one-process pool (started on first use)."""
        if self._pools[i] is None:
            self._pools[i] = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint)
        return self._pools[i]  # type: ignore[return-value]

    def release(self, i: int, token: str) -> None:
        """Forget replica ``token`` on worker ``i``; replace the worker if it has died."""
        pool = self._pools[i]
        if pool is None:
            return
        try:
            pool.submit(_drop_held, token).result()
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            self._pools[i] = None

    def replicate(self, make: Callable[[], Replica]) -> ReplicaSet:
        return _ProcessSlots(self, make)

    def close(self) -> None:
        for pool in self._pools:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pools = [None] * self.workers


def _ray(workers: int) -> Any:
    from metaplastic.training.ray_executor import RayExecutor

    return RayExecutor(workers or None)


EXECUTORS: dict[str, Callable[[int], Any]] = {
    "inprocess": lambda workers: InProcessExecutor(),
    "process": lambda workers: ProcessPoolExecutor(workers or None),
    "ray": _ray,
}


def make_executor(name: str, workers: int = 0) -> Any:
    """The executor registered as ``name`` (``workers`` 0: one per CPU core, or per CPU of
    the Ray cluster)."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
    return EXECUTORS[name](workers)
