"""Checking inference: beliefs after a given number of transitions, credible intervals,
KL divergences between beliefs over a finite support. Tests, benchmarks and plots share
these.

Example:
    >>> import numpy as np
    >>> round(kl_divergence(np.array([0.5, 0.5]), np.array([0.25, 0.75])), 4)
    0.1438
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from metaplastic.core import Task
from metaplastic.energy_models.engines.base import Belief
from metaplastic.energy_models.priors import value_index
from metaplastic.runtime.vector import drive_trials


def beliefs_after(agent: Any, tasks: Any, task_list: Sequence[Task], after: Sequence[int], *, seed: int,
                  episodes: int | None = None) -> dict[int, list[Belief | None]]:
    """Play one trial of every task with ``agent`` (an
    :class:`~metaplastic.energy_models.agent.EnergyVectorAgent` with one lane per task) and
    return, for each ``k`` in ``after``, each lane's belief right after its ``k``-th
    transition (``None`` if the trial was shorter).

    Example:
        >>> import metaplastic
        >>> from metaplastic.energy_models.agent import EnergyVectorAgent
        >>> from metaplastic.energy_models.engines.base import InferenceSettings
        >>> from metaplastic.energy_models.model import default_model
        >>> tasks = metaplastic.make_tasks("gridnavi")
        >>> chunk = tasks.sample(2, seed=0, split="test")
        >>> agent = EnergyVectorAgent(tasks, default_model(tasks.latent(), noise=0.01, relax=0.25), 2,
        ...                           engine="exact", acting="posterior-sampling", settings=InferenceSettings())
        >>> got = beliefs_after(agent, tasks, chunk, [1, 5], seed=0)
        >>> len(got[5]), got[5][0].weights.shape
        (2, (25,))
    """
    n = len(task_list)
    record: dict[int, list[Belief | None]] = {int(k): [None] * n for k in after}
    wanted = np.array(sorted(record), dtype=np.int64)

    def observe(obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        agent.observe(obs, actions, rewards, next_obs, terminated, truncated, active)
        counts = agent.history.count
        for lane in np.flatnonzero(np.asarray(active) & np.isin(counts, wanted)):
            record[int(counts[lane])][lane] = agent.posterior(int(lane))

    agent.reset(np.arange(n) + int(seed) * n)
    drive_trials(tasks.make_vector_env(list(task_list)), int(episodes or tasks.episodes_per_trial), env_seed=int(seed),
                 act=agent.act, observe=observe, end_episode=agent.end_episode)
    return record


def credible_interval(belief: Belief, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """The equal-tailed ``level`` credible interval of each coordinate."""
    tail = (1.0 - level) / 2.0
    return belief.quantile(tail), belief.quantile(1.0 - tail)


def covers(belief: Belief, truth: np.ndarray, level: float = 0.9) -> np.ndarray:
    """Whether each coordinate's ``level`` credible interval holds the true value."""
    low, high = credible_interval(belief, level)
    return (low <= truth) & (truth <= high)


def probs_on_values(belief: Belief, values: np.ndarray) -> np.ndarray:
    """A belief's mass on each of ``values`` (rows), each point counted at its nearest value."""
    return np.bincount(value_index(np.asarray(belief.points), values), weights=belief.weights, minlength=len(values))


def kl_divergence(p: np.ndarray, q: np.ndarray, floor: float = 1e-12) -> float:
    """KL(p ‖ q) in nats of two distributions over the same finite support (where ``q`` is
    0, it counts as ``floor``, so that a value ``q`` missed costs a finite, large amount;
    ``KL(p ‖ p)`` is exactly 0)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    q = np.where(q > 0, q, floor)
    keep = p > 0
    return float((p[keep] * (np.log(p[keep]) - np.log(q[keep]))).sum())
