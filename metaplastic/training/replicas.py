"""Replicas: state that lives in every worker of an executor and is kept up to date by small
messages, so that an outer loop moves seeds and scalars between workers, never the state.

An evolution strategy is the case in point (Salimans et al. 2017): every worker holds the
search mean; a generation sends each worker the generation's seed and the previous
generation's fitness (``O(population)`` numbers), the worker applies the same update the
driver applied and evaluates its share of the population from the seed.

A :class:`Replica` has two methods: ``receive(message)`` brings it up to date and
``__call__(job)`` does one job. An executor's ``replicate(make)`` starts one replica per
worker from ``make()`` (called on the driver, so a replica always starts from the driver's
current state) and returns a :class:`ReplicaSet`; ``run(message, jobs)`` sends ``message``
to every worker and spreads ``jobs`` over them, results in the order of ``jobs``.

A worker that dies, or whose replica cannot apply a message (:class:`ReplicaStale`: it
missed one, or its state no longer matches the driver's), is restarted from a fresh
``make()`` and its share of the jobs is run again, at most ``retries`` times; after that
:class:`WorkerFailed` says which worker and why. Jobs are never dropped. An exception a
job itself raises (a diverged network, a bad config) is not retried: it reaches the caller
as itself.

Example:
    >>> class Adder:
    ...     def __init__(self): self.base = 0
    ...     def receive(self, message): self.base = message
    ...     def __call__(self, job): return self.base + job
    >>> slots = LocalSlots(Adder)
    >>> slots.run(10, [1, 2, 3])
    [11, 12, 13]
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

from metaplastic.errors import WorkerFailed  # a worker kept dying after its retries: its jobs were not run

__all__ = ["Replica", "ReplicaStale", "WorkerFailed", "WorkerDied", "ReplicaSet", "Slots", "LocalSlots", "spread",
           "serve"]


class Replica(Protocol):
    """State held by a worker: updated by ``receive``, used by ``__call__``."""

    def receive(self, message: Any) -> None: ...

    def __call__(self, job: Any) -> Any: ...


class ReplicaStale(Exception):
    """A replica cannot apply a message (it missed one, or its state no longer matches the
    driver's); the executor restarts it from a fresh copy of the driver's state."""


class WorkerDied(Exception):
    """Internal: an executor's worker process (or actor) is gone."""


class ReplicaSet(Protocol):
    """Replicas on an executor's workers (see the module docstring)."""

    workers: int

    def run(self, message: Any, jobs: Sequence[Any]) -> list[Any]: ...

    def close(self) -> None: ...


def spread(jobs: Sequence[Any], workers: int) -> list[list[Any]]:
    """``jobs`` in at most ``workers`` contiguous chunks of near-equal size (no empty chunk).

    Example:
        >>> spread(list(range(5)), 2), spread([1], 3)
        ([[0, 1, 2], [3, 4]], [[1]])
    """
    size = max(1, -(-len(jobs) // max(1, workers)))
    return [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]


def serve(replica: Replica, message: Any, jobs: Sequence[Any]) -> list[Any]:
    """What a worker does with its share: apply ``message``, then run ``jobs`` in order."""
    replica.receive(message)
    return [replica(job) for job in jobs]


class Slots:
    """A :class:`ReplicaSet` over ``workers`` addressable workers; an executor subclasses it
    with three methods: ``_start(i, replica)`` (worker ``i`` holds ``replica`` from now on),
    ``_submit(i, message, jobs)`` (start :func:`serve` there; returns a handle) and
    ``_result(handle)`` (the results, or raise :class:`WorkerDied` / :class:`ReplicaStale`),
    plus ``_stop(i)``. The restart-and-retry policy is here, once for every executor."""

    def __init__(self, make: Callable[[], Replica], workers: int, *, retries: int = 2):
        if workers < 1:
            raise ValueError(f"replicas need at least one worker, got {workers}")
        self.make, self.workers, self.retries = make, int(workers), int(retries)
        self.restarts = 0  # workers restarted so far (dead or stale)
        for i in range(self.workers):
            self._start(i, make())

    def run(self, message: Any, jobs: Sequence[Any]) -> list[Any]:
        chunks = spread(jobs, self.workers)
        handles = [self._submit(i, message, chunk) for i, chunk in enumerate(chunks)]
        out: list[Any] = []
        for i, (chunk, handle) in enumerate(zip(chunks, handles)):
            for attempt in range(self.retries + 1):
                try:
                    out.extend(self._result(handle))
                    break
                except (WorkerDied, ReplicaStale) as e:
                    if attempt == self.retries:
                        raise WorkerFailed(f"worker {i} failed {attempt + 1} times ({type(e).__name__}: {e}); its "
                                           f"{len(chunk)} jobs were not run — check the workers' logs and memory, or "
                                           "use fewer workers") from None
                    self.restarts += 1
                    self._stop(i)
                    self._start(i, self.make())  # the driver's current state: no message is missed
                    handle = self._submit(i, message, chunk)
        return out

    def close(self) -> None:
        for i in range(self.workers):
            self._stop(i)

    # -- what an executor provides ------------------------------------------------------------
    def _start(self, i: int, replica: Replica) -> None:
        raise NotImplementedError

    def _submit(self, i: int, message: Any, jobs: list[Any]) -> Any:
        raise NotImplementedError

    def _result(self, handle: Any) -> list[Any]:
        raise NotImplementedError

    def _stop(self, i: int) -> None:
        raise NotImplementedError


class LocalSlots(Slots):
    """One replica in this process (the in-process executor): jobs run at submission."""

    def __init__(self, make: Callable[[], Replica], *, retries: int = 2):
        self._replica: Replica | None = None
        super().__init__(make, 1, retries=retries)

    def _start(self, i: int, replica: Replica) -> None:
        self._replica = replica

    def _submit(self, i: int, message: Any, jobs: list[Any]) -> Any:
        try:
            return ("ok", serve(self._replica, message, jobs))
        except ReplicaStale as e:
            return ("stale", e)

    def _result(self, handle: Any) -> list[Any]:
        kind, value = handle
        if kind == "stale":
            raise value
        return value

    def _stop(self, i: int) -> None:
        self._replica = None
