"""Meta-training a spiking RL² network by evolution strategies, without torch: the shared
outer loop (:func:`~metaplastic.training.outer.run_outer_loop`) draws each generation's
randomness, :class:`~metaplastic.training.es.EvolutionStrategy` proposes the population,
an executor (:mod:`metaplastic.training.executors`) evaluates it with the numba kernels
(:class:`~metaplastic.spiking.es_fitness.TrialReturnFitness`) on workers that each hold a
copy of the search (:class:`~metaplastic.training.es_replica.ESReplica`), so a generation
moves seeds and fitness values, never weights or noise.

The loop's explicit state (:class:`~metaplastic.training.state.TrainState`) holds the map
between networks and flat vectors (``params``, a :class:`NetVector`) and the search
(``optimizer``, mean and Adam moments); :func:`state_net` is the network it stands at.
Non-finite candidates, fitness or search mean raise
:class:`~metaplastic.errors.TrainingDiverged` naming the generation, and the search is
left at the last good one (see :mod:`metaplastic.training.es`).

Example:
    >>> import metaplastic
    >>> from metaplastic.spiking.es_fitness import random_net
    >>> tasks = metaplastic.make_tasks("bandits:k=2,n=4")
    >>> state = init_es_state(random_net(tasks, neurons=8, seed=0), ESSettings(population=4), seed=0)
    >>> state = train_es(state, tasks, budget=2, batch_tasks=8, show_progress=False)
    >>> state.progress.updates, state_net(state).w_rec.shape
    (2, (8, 8))
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from metaplastic.spiking.es_fitness import NetVector, TrialReturnFitness
from metaplastic.spiking.net import SpikingNet
from metaplastic.training.es import ESSettings, EvolutionStrategy
from metaplastic.training.divergence import FLOAT32_MAX, nonfinite
from metaplastic.training.es_replica import ESReplica, sync_message
from metaplastic.training.executors import make_executor
from metaplastic.training.outer import run_outer_loop
from metaplastic.training.state import TrainProgress, TrainState

__all__ = ["ESSettings", "init_es_state", "train_es", "state_net", "es_arrays", "ES_KEYS"]

#: The arrays of an ES search saved with a checkpoint.
ES_KEYS = ("theta", "m", "v", "t")


def init_es_state(net: SpikingNet, settings: ESSettings, *, seed: int, trainable_plasticity: bool = False,
                  saved: Mapping[str, np.ndarray] | None = None, progress: TrainProgress | None = None) -> TrainState:
    """The state of an ES search around ``net`` (or continuing the ``saved`` search arrays,
    when their size fits)."""
    vector = NetVector(net, trainable_plasticity=trainable_plasticity or net.plasticity.enabled)
    es = EvolutionStrategy(vector.flatten(net), settings)
    if saved is not None and saved["theta"].shape == es.theta.shape:
        es.theta, es.m, es.v, es.t = saved["theta"].copy(), saved["m"].copy(), saved["v"].copy(), int(saved["t"])
    return TrainState(seed=seed, params=vector, optimizer=es, progress=progress or TrainProgress())


def state_net(state: TrainState) -> SpikingNet:
    """The network at the search mean of ``state``."""
    return state.params.unflatten(state.optimizer.theta)


def es_arrays(state: TrainState) -> dict[str, np.ndarray]:
    """The search arrays of ``state`` (to save with a checkpoint)."""
    es = state.optimizer
    return {"theta": es.theta, "m": es.m, "v": es.v, "t": np.array(es.t)}


def train_es(state: TrainState, tasks: Any, *, budget: Any, batch_tasks: int, greedy: bool = False,
             executor: str = "inprocess", workers: int = 0, callback: Callable[..., Any] | None = None,
             show_progress: bool = True, energy_coef: float = 0.0) -> TrainState:
    """Evolve the network of ``state`` on ``tasks`` until ``budget``; return ``state``.
    ``energy_coef`` > 0 subtracts that much of each candidate's firing rate from its fitness."""
    es = state.optimizer
    fitness = TrialReturnFitness(state.params, tasks, batch_tasks=batch_tasks, greedy=greedy, energy_coef=energy_coef)
    with make_executor(executor, workers) as pool:
        # every worker holds the search and the fitness; a generation moves seeds and scalars
        replicas = pool.replicate(lambda: ESReplica(es, fitness))
        sync: list[Any] = [None]  # the last update, for the replicas

        def update(rng: np.random.Generator, fraction: float) -> tuple[dict[str, Any], int]:
            seed, eps = es.ask_seeded(int(rng.integers(2**63)), limit=FLOAT32_MAX,
                                      hint=f"sigma={es.settings.sigma:g} is probably too large (the networks' "
                                      "float32 weights overflow) — lower sigma")
            task_seed, agent_seed = (int(v) for v in rng.integers(2**31, size=2))
            population = 2 * len(eps)
            f = np.asarray(replicas.run(sync[0], [(seed, i, task_seed, agent_seed) for i in range(population)]))
            t = es.t
            grad = es.tell(eps, f)
            sync[0] = sync_message(es, t, seed, f)
            metrics = {"trial_return": float(f.mean()), "best_return": float(f.max()),
                       "grad_norm": float(np.linalg.norm(grad)), "workers": replicas.workers}
            return metrics, population * batch_tasks

        try:
            # compile the kernels in every worker before the budget's clock starts: under a time
            # budget the first update's cost fixes the schedule horizon, and numba's JIT
            # compilation in it would make the horizon far too short. A throwaway evaluation: the
            # search state is untouched and every update draws its own tasks, so results do not change.
            replicas.run(None, [(0, 0, 0, 0)] * replicas.workers)
            return run_outer_loop(update, label="es", budget=budget, state=state, callback=callback,
                                  show_progress=show_progress,
                                  check=lambda s: nonfinite(s.optimizer.theta, "the search mean", FLOAT32_MAX),
                                  hint=f"lr={es.settings.lr:g} is probably too large — lower lr")
        finally:
            replicas.close()
