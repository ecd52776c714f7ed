"""Executors: how a batch of independent jobs (an ES population's fitness evaluations)
is run. An executor maps a picklable callable over a list of jobs and returns results in
order; algorithms see only :class:`Executor`, so a distributed engine (Ray, Dask) plugs in
by registering one more factory in :data:`EXECUTORS`, without touching the algorithm.

Example:
    >>> with make_executor("inprocess") as ex:
    ...     ex.map(abs, [-1, 2, -3])
    [1, 2, 3]
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from typing import Any, Callable, Protocol, Sequence

from metaplastic.errors import ConfigError

__all__ = ["Executor", "InProcessExecutor", "ProcessPoolExecutor", "EXECUTORS", "make_executor"]


class Executor(Protocol):
    """Runs ``fn`` over ``jobs``; results in the order of ``jobs``."""

    workers: int

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]: ...

    def close(self) -> None: ...


class _Closing:
    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()  # type: ignore[attr-defined]


class InProcessExecutor(_Closing):
    """Jobs one after another in this process."""

    workers = 1

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
        return [fn(job) for job in jobs]

    def close(self) -> None:
        pass


class ProcessPoolExecutor(_Closing):
    """Jobs spread over ``workers`` local processes (started with ``spawn``, so a parent
    that has loaded threaded libraries is safe), kept alive across calls; jobs are sent
    in one chunk per worker."""

    def __init__(self, workers: int | None = None):
        self.workers = int(workers or os.cpu_count() or 1)
        if self.workers < 1:
            raise ConfigError(f"a process pool needs at least one worker, got {workers}")
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))

    def map(self, fn: Callable[[Any], Any], jobs: Sequence[Any]) -> list[Any]:
        chunk = max(1, -(-len(jobs) // self.workers))
        return list(self._pool.map(fn, jobs, chunksize=chunk))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


EXECUTORS: dict[str, Callable[[int], Any]] = {
    "inprocess": lambda workers: InProcessExecutor(),
    "process": lambda workers: ProcessPoolExecutor(workers or None),
}


def make_executor(name: str, workers: int = 0) -> Any:
    """The executor registered as ``name`` (``workers`` 0: one per CPU core)."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
    return EXECUTORS[name](workers)
