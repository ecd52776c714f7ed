"""The ``ray`` executor (extra ``ray``): an outer loop's jobs on a Ray cluster.

It connects to an existing cluster when one is named (the ``RAY_ADDRESS`` environment
variable, which ``--ray-address`` sets on the command line) and otherwise starts a local
one with one CPU per worker; on :meth:`RayExecutor.close` it shuts down what it started
(a cluster it started, or its connection to one it joined) and leaves a Ray session the
caller had already opened alone. Workers are actors of one CPU each, each holding its
replica (:mod:`metaplastic.training.replicas`): an ES generation sends every actor the
generation seed and the last generation's fitness, never the search mean or noise
vectors. A stateless :meth:`map` runs through the same actors. An actor that dies is
replaced from the driver's state and its jobs run again (Ray does not retry actor tasks
by default); workers on remote nodes need metaplastic installed (or a ``runtime_env``).

Example (starts a local Ray cluster, a few seconds)::

    with RayExecutor(workers=2) as ex:
        ex.map(abs, [-1, 2, -3])          # [1, 2, 3]
"""

from __future__ import annotations

import os
from typing import Any, Callable

from metaplastic.errors import ConfigError
from metaplastic.training.executors import ExecutorBase
from metaplastic.training.replicas import Replica, ReplicaSet, Slots, WorkerDied, serve

__all__ = ["RayExecutor", "ray_or_hint"]


def ray_or_hint() -> Any:
    """The ``ray`` module, or a one-line :class:`ConfigError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("executor 'ray' needs Ray; install it with: pip install 'metaplastic[ray]'") from None
    return ray


class _Holder:
    """The actor: one replica, served job chunk by job chunk."""

    def __init__(self, replica: Replica):
        self.replica = replica

    def run(self, message: Any, jobs: list[Any]) -> list[Any]:
        return serve(self.replica, message, jobs)

    def pid(self) -> int:
        return os.getpid()


class _ActorSlots(Slots):
    def __init__(self, ex: "RayExecutor", make: Callable[[], Replica]):
        self.ex = ex
        self.actors: list[Any] = [None] * ex.workers
        super().__init__(make, ex.workers)

    def run(self, message: Any, jobs: Any) -> list[Any]:
        # the message goes into the object store once and reaches each node once, not once per actor
        return super().run(self.ex.ray.put(message) if message is not None else None, jobs)

    def _start(self, i: int, replica: Replica) -> None:
        self.actors[i] = self.ex.holder.remote(replica)

    def _submit(self, i: int, message: Any, jobs: list[Any]) -> Any:
        return self.actors[i].run.remote(message, jobs)

    def _result(self, handle: Any) -> list[Any]:
        ray = self.ex.ray
        try:
            return ray.get(handle)
        except ray.exceptions.RayActorError as e:
            raise WorkerDied(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
        except ray.exceptions.RayTaskError as e:  # the job's own exception (or ReplicaStale), as itself
            raise (e.cause if isinstance(e.cause, BaseException) else e) from None

    def _stop(self, i: int) -> None:
        actor, self.actors[i] = self.actors[i], None
        if actor is not None:
            self.ex.ray.kill(actor)


class RayExecutor(ExecutorBase):
    """``workers`` one-CPU actors on a Ray cluster (``None``: one per CPU the cluster has)."""

    def __init__(self, workers: int | None = None):
        ray = ray_or_hint()
        self.ray = ray
        self._opened = False
        if not ray.is_initialized():
            address = os.environ.get("RAY_ADDRESS") or None
            try:
                if address:
                    ray.init(address=address, log_to_driver=False)
                else:
                    # a new local cluster of our own, even if another is running here
                    ray.init(address="local", num_cpus=workers or None, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = f"the Ray cluster at {address!r}" if address else "a local Ray cluster"
                raise ConfigError(f"could not start or reach {where}: {str(e).splitlines()[0]}; check RAY_ADDRESS "
                                  "(--ray-address) or unset it to start a local cluster") from None
            self._opened = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = int(workers or max(1, cpus))
        if not 1 <= self.workers <= cpus:
            self.close()
            raise ConfigError(f"the ray executor runs one-CPU workers and the cluster has {cpus} CPUs; workers="
                              f"{workers} would never all start: use 1 to {cpus} (or 0: one per CPU)")
        self.holder = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_Holder)

    def replicate(self, make: Callable[[], Replica]) -> ReplicaSet:
        return _ActorSlots(self, make)

    def close(self) -> None:
        if self._opened and self.ray.is_initialized():
            self.ray.shutdown()
        self._opened = False
