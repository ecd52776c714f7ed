"""A worker's copy of an evolution strategy: how a generation moves as seeds (Salimans et
al. 2017). Every worker holds the search (mean and Adam moments) and the fitness; the
driver sends each generation's seed and, once, the previous generation's fitness and the
fingerprint of the mean it reached, so a generation moves ``O(population)`` numbers
whatever the network's size. The worker applies that update itself (the same arithmetic
as the driver, so the same bits), checks the fingerprint, and evaluates its members,
regenerating each perturbation from ``(generation seed, pair)``.

A replica that missed an update, or whose mean came out different (another machine's
floating point), raises :class:`~metaplastic.training.replicas.ReplicaStale`; the executor
restarts it from the driver's state (the one time the mean travels).

Example:
    >>> import numpy as np
    >>> from metaplastic.training.es import ESSettings, EvolutionStrategy
    >>> from metaplastic.training.replicas import LocalSlots
    >>> es = EvolutionStrategy(np.zeros(2), ESSettings(population=4))
    >>> slots = LocalSlots(lambda: ESReplica(es, lambda job: float(job[0].sum())))
    >>> f = slots.run(None, [(7, i, 0, 0) for i in range(4)])
    >>> bool(f[0] == -f[1])   # antithetic members
    True
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from metaplastic.training.es import EvolutionStrategy, digest, generation_noise, member
from metaplastic.training.replicas import ReplicaStale

__all__ = ["ESReplica", "Sync", "sync_message"]

#: ``(t, seed, fitness, fingerprint)``: the update that took the search from step ``t`` to
#: ``t + 1`` (generation ``seed`` scored ``fitness``) and the fingerprint of the mean after it.
Sync = tuple[int, int, np.ndarray, str]


def sync_message(es: EvolutionStrategy, t: int, seed: int, fitness: np.ndarray) -> Sync:
    """The message that brings a replica from step ``t`` to where ``es`` is now (just told
    generation ``seed`` its ``fitness``)."""
    return (int(t), int(seed), np.asarray(fitness, dtype=np.float64), digest(es.theta))


class ESReplica:
    """The search ``es`` and ``fitness`` (a callable on ``(theta, task_seed, agent_seed)``)
    held by a worker. Jobs are ``(generation seed, member index, task_seed, agent_seed)``;
    messages are :data:`Sync` (or ``None``: nothing new)."""

    def __init__(self, es: EvolutionStrategy, fitness: Callable[[tuple[np.ndarray, int, int]], float]):
        self.es, self.fitness = es, fitness

    def receive(self, message: Sync | None) -> None:
        if message is None:
            return
        t, seed, fitness, fingerprint = message
        es = self.es
        if es.t == t + 1 and digest(es.theta) == fingerprint:  # already there (started from the driver's state)
            return
        if es.t != t:
            raise ReplicaStale(f"this replica is at step {es.t} and got the update of step {t}")
        es.tell(generation_noise(seed, es.settings.population // 2, es.theta.size), fitness)
        if digest(es.theta) != fingerprint:
            raise ReplicaStale(f"after step {t} this replica's search mean differs from the driver's (floating point "
                               "differs between the machines?)")

    def __call__(self, job: tuple[int, int, int, int]) -> Any:
        seed, index, task_seed, agent_seed = job
        return self.fitness((member(self.es.theta, self.es.settings.sigma, seed, index), task_seed, agent_seed))
