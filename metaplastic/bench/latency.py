"""Decision latency, measured per decision after warm-up — not per batch of thousands.

At batch 1 a decision is one ``agent.act`` plus the ``observe`` (and, at an episode's
end, ``end_episode``) that follow it: the adaptation work an agent does between two
decisions counts. At a larger batch, one step of a vector agent serves ``batch`` lanes;
the latency is per step and the throughput is lanes × steps per second.

Both run the library's own trial loops — :func:`metaplastic.runtime.trials.play` at batch
1, :func:`metaplastic.runtime.vector.batch_steps` above — with their timing switched on:
the environment's step and the harness's boundary checks fall outside the timed calls.
Trials are the family's own length (``episodes_per_trial``); a new one starts, with a
fresh seed, until enough decisions are timed.

Example:
    >>> import metaplastic
    >>> lat = decision_latency(metaplastic.make("random"), metaplastic.make_tasks("bandits"), decisions=200)
    >>> lat.p50_s > 0 and lat.batch == 1
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from metaplastic.core import VectorLearner
from metaplastic.errors import ConfigError
from metaplastic.runtime.trials import play, spec_of
from metaplastic.runtime.vector import batch_steps, reveal_lanes


@dataclass(frozen=True)
class Latency:
    """Percentiles of the time per decision step (seconds) and the throughput."""

    batch: int
    samples: int
    p50_s: float
    p95_s: float
    p99_s: float
    mean_s: float
    decisions_per_s: float
    act_p50_s: float = 0.0   # agent.act alone (the rest of a decision is observe/end_episode)
    act_p99_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _summary(times: np.ndarray, act_times: np.ndarray, batch: int) -> Latency:
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    a50, a99 = np.percentile(act_times, [50, 99])
    return Latency(batch=batch, samples=int(times.size), p50_s=float(p50), p95_s=float(p95), p99_s=float(p99),
                   mean_s=float(times.mean()), decisions_per_s=float(batch / times.mean()), act_p50_s=float(a50),
                   act_p99_s=float(a99))


def decision_latency(learner: Any, tasks: Any, *, batch: int = 1, decisions: int = 2000, warmup: int = 200,
                     seed: int = 0) -> Latency:
    """Time ``decisions`` decision steps (after ``warmup``) of ``learner``'s agents on test
    tasks; batch 1 goes through the :class:`~metaplastic.core.Agent` contract, larger
    batches through ``vector_agent`` (a :class:`~metaplastic.core.VectorLearner`).

    Example:
        >>> import metaplastic
        >>> lat = decision_latency(metaplastic.make("thompson"), metaplastic.make_tasks("bandits:k=3,n=8"),
        ...                        batch=16, decisions=50, warmup=5)
        >>> lat.batch, lat.samples, lat.act_p50_s <= lat.p50_s
        (16, 50, True)
    """
    if batch == 1:
        return _latency_single(learner, tasks, decisions, warmup, seed)
    if not isinstance(learner, VectorLearner):
        raise ConfigError(f"latency at batch {batch} needs a learner with vector_agent(); {learner.name} has none (use batch=1)")
    return _latency_batched(learner, tasks, batch, decisions, warmup, seed)


def _latency_single(learner: Any, tasks: Any, decisions: int, warmup: int, seed: int) -> Latency:
    privileged = learner.capabilities.privileged
    n = decisions + warmup
    times = np.empty(n)
    act_times = np.empty(n)
    where = spec_of(tasks)
    task_iter = iter(tasks.sample(n, seed=seed, split="test"))
    i = 0
    while i < n:
        trial = play(learner.agent(tasks), tasks, next(task_iter), episodes=tasks.episodes_per_trial,
                     agent_seed=seed + i, env_seed=seed + i, privileged=privileged, timed=True, where=where)
        for d in trial:
            times[i] = d.agent_ns * 1e-9  # agent.act + observe/end_episode: the agent's time, not the env's
            act_times[i] = d.act_ns * 1e-9
            i += 1
            if i >= n:
                trial.close()
                break
    return _summary(times[warmup:], act_times[warmup:], 1)


def _latency_batched(learner: Any, tasks: Any, batch: int, decisions: int, warmup: int, seed: int) -> Latency:
    privileged = learner.capabilities.privileged
    task_list = tasks.sample(batch, seed=seed, split="test")
    agent, venv = learner.vector_agent(tasks, batch), tasks.make_vector_env(task_list)
    n = decisions + warmup
    times = np.empty(n)
    act_times = np.empty(n)
    where = spec_of(tasks)
    i = 0
    try:
        while i < n:
            agent.reset(np.arange(batch) + seed + i)
            if privileged:
                reveal_lanes(agent, task_list)
            steps = batch_steps(venv, tasks.episodes_per_trial, env_seed=seed + i, act=agent.act, observe=agent.observe,
                                end_episode=agent.end_episode, tasks=task_list, where=where, timed=True)
            for st in steps:
                times[i] = st.agent_ns * 1e-9
                act_times[i] = st.act_ns * 1e-9
                i += 1
                if i >= n:
                    steps.close()
                    break
    finally:
        venv.close()
    return _summary(times[warmup:], act_times[warmup:], batch)
