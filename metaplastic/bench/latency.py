"""Decision latency, measured per decision after warm-up — not per batch of thousands.

At batch 1 a decision is one ``agent.act`` plus the ``observe`` (and, at an episode's
end, ``end_episode``) that follow it: the adaptation work an agent does between two
decisions counts. At a larger batch, one step of a vector agent serves ``batch`` lanes;
the latency is per step and the throughput is lanes × steps per second.

Example:
    >>> import metaplastic
    >>> lat = decision_latency(metaplastic.make("random"), metaplastic.make_tasks("bandits"), decisions=200)
    >>> lat.p50_s > 0 and lat.batch == 1
    True
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from metaplastic.core import Transition


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
    batches through ``vector_agent``."""
    if batch == 1:
        return _latency_single(learner, tasks, decisions, warmup, seed)
    return _latency_batched(learner, tasks, batch, decisions, warmup, seed)


def _latency_single(learner: Any, tasks: Any, decisions: int, warmup: int, seed: int) -> Latency:
    privileged = getattr(getattr(learner, "capabilities", None), "privileged", False)
    times = np.empty(decisions + warmup)
    act_times = np.empty(decisions + warmup)
    task_iter = iter(tasks.sample(decisions + warmup, seed=seed, split="test"))
    i = 0
    clock = time.perf_counter_ns
    while i < len(times):
        task = next(task_iter)
        agent, env = learner.agent(tasks), tasks.make_env(task)
        agent.reset(seed=seed + i)
        if privileged:
            agent.reveal_task(task)
        for e in range(tasks.episodes_per_trial):
            obs, _ = env.reset(seed=seed + i if e == 0 else None)
            done = False
            while not done and i < len(times):
                t0 = clock()
                action = agent.act(obs)
                t1 = clock()
                nxt, r, term, trunc, _ = env.step(action)
                t2 = clock()
                agent.observe(Transition(obs, action, float(r), nxt, bool(term), bool(trunc)))
                done = bool(term or trunc)
                if done:
                    agent.end_episode()
                t3 = clock()
                times[i] = ((t1 - t0) + (t3 - t2)) * 1e-9  # the agent's time, not the env's
                act_times[i] = (t1 - t0) * 1e-9
                obs = nxt
                i += 1
            if i >= len(times):
                break
    return _summary(times[warmup:], act_times[warmup:], 1)


def _latency_batched(learner: Any, tasks: Any, batch: int, decisions: int, warmup: int, seed: int) -> Latency:
    privileged = getattr(getattr(learner, "capabilities", None), "privileged", False)
    task_list = tasks.sample(batch, seed=seed, split="test")
    agent, venv = learner.vector_agent(tasks, batch), tasks.make_vector_env(task_list)
    agent.reset(np.arange(batch) + seed)
    if privileged:
        agent.reveal_tasks(task_list)
    obs, _ = venv.reset(seed=seed)
    active = np.ones(batch, dtype=bool)
    times = np.empty(decisions + warmup)
    act_times = np.empty(decisions + warmup)
    clock = time.perf_counter_ns
    steps = 0
    for i in range(len(times)):
        t0 = clock()
        actions = agent.act(obs, active)
        t1 = clock()
        nxt, r, term, trunc, _ = venv.step(actions)
        t2 = clock()
        agent.observe(obs, actions, r, nxt, term, trunc, active)
        done = np.asarray(term) | np.asarray(trunc)
        if done.any():
            agent.end_episode(done)
        t3 = clock()
        times[i] = ((t1 - t0) + (t3 - t2)) * 1e-9
        act_times[i] = (t1 - t0) * 1e-9
        obs = nxt
        steps += 1
        if steps >= tasks.episodes_per_trial * 1000:  # a very long trial: start a new one
            agent.reset(np.arange(batch) + seed + i)
            steps = 0
    return _summary(times[warmup:], act_times[warmup:], batch)
