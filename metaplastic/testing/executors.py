"""The executor conformance kit: what every executor in
:data:`~metaplastic.training.executors.EXECUTORS` must do, as pytest checks a new engine
(a lab's cluster scheduler) inherits. Subclass :class:`ExecutorConformance` and give an
``executor`` fixture (a started executor with at least two workers).

The replicas here are picklable on purpose (workers import them by module name); two of
them kill the worker process that runs them, to check that jobs are retried, never dropped.

Example (a plugin's test file)::

    import pytest
    from metaplastic.testing.executors import ExecutorConformance

    class TestMine(ExecutorConformance):
        @pytest.fixture
        def executor(self):
            with MyExecutor(workers=2) as ex:
                yield ex
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from metaplastic.errors import WorkerFailed
from metaplastic.training.replicas import ReplicaStale

__all__ = ["ExecutorConformance", "WorkerFailureConformance", "Accumulator", "CrashOnce", "AlwaysCrash", "StaleOnce", "square", "fails"]


def square(x: int) -> int:
    """A job for ``map``."""
    return x * x


def fails(x: int) -> int:
    """A job that raises its own error (never retried)."""
    raise ValueError(f"job {x} is bad")


class Accumulator:
    """A replica whose state is the sum of the messages it received."""

    def __init__(self, start: int = 0):
        self.total = start

    def receive(self, message: Any) -> None:
        if message is not None:
            self.total += message

    def __call__(self, job: int) -> tuple[int, int]:
        return self.total, job


def _first(marker: str) -> bool:
    """Whether this call is the first to claim ``marker`` (atomic across processes)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


class CrashOnce:
    """Kills the process that runs it the first time (a marker file remembers), then works."""

    def __init__(self, marker: str):
        self.marker = marker

    def receive(self, message: Any) -> None:
        pass

    def __call__(self, job: int) -> int:
        if _first(self.marker):
            os._exit(1)
        return job


class AlwaysCrash(CrashOnce):
    """Kills every process that runs it."""

    def __call__(self, job: int) -> int:
        os._exit(1)


class StaleOnce:
    """Falls out of step once (a marker file remembers): the executor must restart it."""

    def __init__(self, marker: str, fresh: bool = False):
        self.marker, self.fresh = marker, fresh

    def receive(self, message: Any) -> None:
        if not self.fresh and _first(self.marker):
            raise ReplicaStale("missed an update")

    def __call__(self, job: int) -> tuple[bool, int]:
        return self.fresh, job


class ExecutorConformance:
    """Checks for an ``executor`` fixture."""

    def test_map_keeps_the_order_of_the_jobs(self, executor: Any) -> None:
        assert executor.map(square, list(range(7))) == [x * x for x in range(7)]

    def test_every_replica_receives_every_message(self, executor: Any) -> None:
        replicas = executor.replicate(lambda: Accumulator(5))
        try:
            first = replicas.run(1, list(range(6)))
            second = replicas.run(10, list(range(6)))
        finally:
            replicas.close()
        assert first == [(6, j) for j in range(6)]
        assert second == [(16, j) for j in range(6)]

    def test_a_job_that_raises_reaches_the_caller_as_itself(self, executor: Any) -> None:
        with pytest.raises(ValueError, match="is bad"):
            executor.map(fails, [1, 2])

    def test_a_stale_replica_restarts_from_the_drivers_state(self, executor: Any, tmp_path: Path) -> None:
        marker = str(tmp_path / "stale")
        made = []

        def make() -> StaleOnce:
            made.append(1)
            return StaleOnce(marker, fresh=len(made) > executor.workers)  # copies made after the start are fresh

        replicas = executor.replicate(make)
        try:
            out = replicas.run("update", list(range(4)))
        finally:
            replicas.close()
        assert [j for _, j in out] == list(range(4))
        assert sum(fresh for fresh, _ in out) >= 1, "the stale worker's jobs ran on a fresh copy"
        assert replicas.restarts == 1


class WorkerFailureConformance(ExecutorConformance):
    """The checks of an executor whose workers are processes of their own (a dying worker
    must not take the driver with it), with an ``executor`` fixture of two workers or more."""

    def test_a_worker_that_dies_is_replaced_and_its_jobs_run_again(self, executor: Any, tmp_path: Path) -> None:
        marker = str(tmp_path / "crashed")
        replicas = executor.replicate(lambda: CrashOnce(marker))
        try:
            out = replicas.run(None, list(range(6)))
            assert replicas.restarts == 1, "exactly one worker died and was restarted"
        finally:
            replicas.close()
        assert out == list(range(6)), "no job may be dropped"

    def test_a_worker_that_keeps_dying_is_reported(self, executor: Any, tmp_path: Path) -> None:
        replicas = executor.replicate(lambda: AlwaysCrash(str(tmp_path / "never")))
        try:
            with pytest.raises(WorkerFailed, match="were not run"):
                replicas.run(None, [1, 2])
        finally:
            replicas.close()
        assert executor.map(square, [3]) == [9], "the executor still works after its workers died"
