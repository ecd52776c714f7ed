"""Meta-training a spiking RL² network by evolution strategies, without torch: the shared
outer loop (:func:`~metaplastic.training.outer.run_outer_loop`) draws each generation's
randomness, :class:`~metaplastic.training.es.EvolutionStrategy` proposes the population,
an executor (:mod:`metaplastic.training.executors`) evaluates it with the numba kernels
(:class:`~metaplastic.spiking.es_fitness.TrialReturnFitness`), and the learner keeps the
search state so a checkpoint taken meanwhile resumes exactly.

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("numba", hidden=8, population=4, batch_tasks=8)
    >>> learner.meta_train(metaplastic.make_tasks("bandits:k=2,n=4"), budget=2, seed=0, show_progress=False)["updates"]
    2
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from metaplastic.training.executors import make_executor
from metaplastic.spiking.es_fitness import NetVector, TrialReturnFitness
from metaplastic.training.es import ESSettings, EvolutionStrategy
from metaplastic.training.outer import TrainProgress, run_outer_loop

__all__ = ["train_es"]


def train_es(learner: Any, tasks: Any, *, budget: Any, seed: int, callback: Callable[..., Any] | None,
             show_progress: bool) -> dict[str, Any]:
    """Evolve ``learner.net`` (a :class:`~metaplastic.backends.numba.NumbaLearner`) on
    ``tasks`` until ``budget``; return the learner's progress."""
    c = learner.config
    net = learner.net
    vector = NetVector(net, trainable_plasticity=bool(c["plastic"] or net.plasticity.enabled))
    es = EvolutionStrategy(vector.flatten(net), ESSettings(population=c["population"], sigma=c["sigma"], lr=c["lr"],
                                                           weight_decay=c["weight_decay"]))
    state = learner.es_state
    if state is not None and state["theta"].shape == es.theta.shape:
        es.theta, es.m, es.v, es.t = state["theta"].copy(), state["m"].copy(), state["v"].copy(), int(state["t"])
    progress = TrainProgress(**{k: learner.progress.get(k, 0) for k in ("updates", "seconds", "tasks_seen")})
    fitness = TrialReturnFitness(vector, tasks, batch_tasks=c["batch_tasks"], greedy=c["greedy"])

    with make_executor(c["executor"], c["workers"]) as executor:
        def update(rng: np.random.Generator, fraction: float) -> tuple[dict[str, Any], int]:
            eps, candidates = es.ask(rng)
            task_seed, agent_seed = (int(v) for v in rng.integers(2**31, size=2))
            f = np.asarray(executor.map(fitness, [(theta, task_seed, agent_seed) for theta in candidates]))
            grad = es.tell(eps, f)
            metrics = {"trial_return": float(f.mean()), "best_return": float(f.max()),
                       "grad_norm": float(np.linalg.norm(grad)), "workers": executor.workers}
            return metrics, len(candidates) * c["batch_tasks"]

        learner._live = (es, vector, progress)
        try:
            run_outer_loop(update, label="es", budget=budget, seed=seed, progress=progress, callback=callback,
                           show_progress=show_progress)
        finally:
            learner._live = None
            if progress.updates > int(learner.progress.get("updates", 0)):  # a network given and never updated stays as it is
                learner.net = vector.unflatten(es.theta)
            learner.es_state = {"theta": es.theta, "m": es.m, "v": es.v, "t": np.array(es.t)}
            learner.progress = {"updates": progress.updates, "seconds": progress.seconds,
                                "tasks_seen": progress.tasks_seen}
    return dict(learner.progress)
