"""Evaluation: one fresh agent per task, a trial of ``episodes`` episodes, and the returns.

The adaptation curve is the mean return of each episode of the trial across tasks, with
95% intervals: an agent that adapts climbs it; one that doesn't stays flat. The trial
return (the sum over the trial's episodes) is summarized by its mean and the 95% Student-t
interval of that mean across tasks.

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("random")
    >>> res = metaplastic.evaluate(learner, "bandits:k=5,n=10", n_tasks=50, seed=0)
    >>> res.returns.shape
    (50, 10)
    >>> 3.0 < res.return_mean < 7.0
    True
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from math import isfinite
from typing import Any

import numpy as np

from metaplastic.core import (DeviceLearner, MetaLearner, OpCounts, SpikingExporter, SuccessFamily, TaskDistribution,
                              VectorLearner, Versioned)
from metaplastic.errors import ConfigError
from metaplastic.metrics.activity import activity
from metaplastic.metrics.stats import ci95, ci95_halfwidth, rate_ci95
from metaplastic.runtime.trials import spec_of, trial_returns, trial_steps


@dataclass
class Evaluation:
    """The outcome of :func:`evaluate`. ``returns[i, e]`` is task i's return in episode e."""

    backend: str
    tasks: str
    split: str
    seed: int
    returns: np.ndarray
    ops: OpCounts
    wall_time_s: float
    extra: dict[str, Any] = field(default_factory=dict)
    #: families with success (a :class:`~metaplastic.core.SuccessFamily`): ``successes[i, e]``
    #: whether task i's episode e succeeded, and the scored episodes (after adaptation)
    successes: np.ndarray | None = None
    scored_episodes: range | None = None

    @property
    def success_rates(self) -> np.ndarray | None:
        """Each task's success rate over the scored episodes, shape ``(n_tasks,)``, or
        ``None`` for a family without success."""
        if self.successes is None or self.scored_episodes is None:
            return None
        return self.successes[:, self.scored_episodes.start : self.scored_episodes.stop].mean(axis=1)

    @property
    def success_rate(self) -> float | None:
        """The headline of a family with success: the mean success rate over tasks."""
        rates = self.success_rates
        return None if rates is None else float(rates.mean())

    @property
    def success_rate_ci95(self) -> tuple[float, float] | None:
        """The 95% interval of :attr:`success_rate` (Wilson's, over tasks: within [0, 1]),
        or ``None`` for a family without success."""
        rates = self.success_rates
        return None if rates is None else rate_ci95(rates)

    @property
    def n_tasks(self) -> int:
        return int(self.returns.shape[0])

    @property
    def episodes(self) -> int:
        return int(self.returns.shape[1])

    @property
    def trial_returns(self) -> np.ndarray:
        """The return of each task's whole trial, shape ``(n_tasks,)``."""
        return self.returns.sum(axis=1)

    @property
    def return_mean(self) -> float:
        return float(self.trial_returns.mean())

    @property
    def return_ci95(self) -> tuple[float, float]:
        return ci95(self.trial_returns)

    @property
    def per_episode_mean(self) -> np.ndarray:
        """The adaptation curve: mean return of each episode of the trial."""
        return self.returns.mean(axis=0)

    @property
    def per_episode_ci95(self) -> np.ndarray:
        """Half-widths of the 95% intervals of :attr:`per_episode_mean`."""
        return np.asarray(ci95_halfwidth(self.returns, axis=0), dtype=float).reshape(self.episodes)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``metaplastic evaluate --json`` output), valid strict JSON:
        a statistic that is not a finite number (the 95% interval of a single task) is
        ``null``, with a ``<key>_reason`` saying why.

        Example:
            >>> import metaplastic
            >>> s = metaplastic.evaluate("random", "bandits:k=2,n=3", n_tasks=1, seed=0).summary()
            >>> s["return_ci95"], s["return_ci95_reason"]
            (None, 'needs at least 2 tasks')
        """
        lo, hi = self.return_ci95
        one = "needs at least 2 tasks"
        halfwidths = [_finite(x) for x in self.per_episode_ci95.tolist()]
        out = {
            "backend": self.backend,
            "tasks": self.tasks,
            "split": self.split,
            "n_tasks": self.n_tasks,
            "episodes": self.episodes,
            "seed": self.seed,
            "return_mean": self.return_mean,
            "return_ci95": [lo, hi] if isfinite(lo) and isfinite(hi) else None,
            "return_std": float(self.trial_returns.std(ddof=1)) if self.n_tasks > 1 else 0.0,
            "per_episode_mean": self.per_episode_mean.tolist(),
            "per_episode_ci95_halfwidth": halfwidths,
            "ops_total": self.ops.as_dict(),
            "ops_per_decision": self.ops.per_decision(),
            "wall_time_s": self.wall_time_s,
            **({"activity": act} if (act := activity(self.ops, self.extra.get("dt_s"))) else {}),
            **self.extra,
        }
        if self.successes is not None and self.scored_episodes is not None:
            slo, shi = self.success_rate_ci95
            out.update({
                "success_rate": self.success_rate,
                "success_rate_ci95": [slo, shi] if isfinite(slo) and isfinite(shi) else None,
                "scored_episodes": [self.scored_episodes.start, self.scored_episodes.stop],
                "success_per_episode": self.successes.mean(axis=0).tolist(),
            })
        elif self.successes is not None:
            out.update({"success_rate": None, "success_per_episode": self.successes.mean(axis=0).tolist(),
                        "success_rate_reason": "the trial ended before its scored episodes (those after adaptation)"})
        if out["return_ci95"] is None:
            out["return_ci95_reason"] = one if self.n_tasks < 2 else "not a finite number"
        if None in halfwidths:
            out["per_episode_ci95_halfwidth_reason"] = one if self.n_tasks < 2 else "not a finite number"
        return _strict_json(out)


def _strict_json(summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` with every non-finite float left (NaN, infinity) made ``null``, and a
    ``<key>_reason`` for each top-level key that held one, so ``json.dumps(...,
    allow_nan=False)`` never fails on it."""
    out: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for key, value in summary.items():
        clean, changed = _nulled(value)
        out[key] = clean
        if changed and f"{key}_reason" not in summary:
            reasons[f"{key}_reason"] = "not a finite number"
    return {**out, **reasons}


def _nulled(value: Any) -> tuple[Any, bool]:
    if isinstance(value, float) and not isfinite(value):
        return None, True
    if isinstance(value, dict):
        pairs = {k: _nulled(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(c for _, c in pairs.values())
    if isinstance(value, (list, tuple)):
        items = [_nulled(v) for v in value]
        return type(value)(v for v, _ in items), any(c for _, c in items)
    return value, False


def _time_step(learner: Any) -> float | None:
    """The time step of a spiking learner's network (seconds), if it has one."""
    if not isinstance(learner, SpikingExporter):
        return None
    try:
        return float(learner.spiking_net().dt)
    except Exception:  # noqa: BLE001 - no network yet, or a plugin's own failure: just no Hz figure
        return None


def _finite(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def evaluate(
    learner: MetaLearner | str,
    tasks: TaskDistribution | str,
    *,
    n_tasks: int,
    episodes: int | None = None,
    split: str = "test",
    seed: int,
    progress: bool = False,
    vectorized: bool | None = None,
    batch_size: int = 1000,
) -> Evaluation:
    """Run one fresh agent per task of ``split`` for a trial of ``episodes`` episodes.

    ``learner`` and ``tasks`` may be names/specs (built with :func:`metaplastic.make` and
    :func:`metaplastic.make_tasks`). ``episodes`` defaults to the family's
    ``episodes_per_trial``. Everything random derives from ``seed``: the tasks, each
    agent's seed and each environment's seed, so a call is reproducible.

    When the learner offers ``vector_agent`` and the family ``make_vector_env`` (the
    batched fast path), ``batch_size`` tasks are stepped together; ``vectorized=False``
    forces one agent at a time. Both paths draw the same tasks and agent seeds; their
    random streams differ, so results agree in distribution, not bit for bit.

    Both paths are the shared trial loops (:mod:`metaplastic.runtime.trials`,
    :func:`metaplastic.runtime.vector.drive_trials`), which check what each environment
    produces before the agent sees it: a NaN, a wrong shape or an out-of-space observation,
    or a reward that is not finite, is a one-line
    :class:`~metaplastic.errors.InvalidObservation` / :class:`~metaplastic.errors.InvalidReward`
    naming the task, the episode and the step.

    Example:
        >>> import metaplastic
        >>> r = metaplastic.evaluate("random", "bandits:k=2,n=4", n_tasks=10, seed=1)
        >>> len(r.summary()["per_episode_mean"])
        4
    """
    from metaplastic.api import make, make_tasks
    from metaplastic.training.progress import progress_bar

    if isinstance(learner, str):
        learner = make(learner)
    dist = make_tasks(tasks) if isinstance(tasks, str) else tasks
    n_tasks = _check_count("n_tasks", n_tasks, 1)
    episodes = _check_count("episodes", dist.episodes_per_trial if episodes is None else episodes, 1)
    seed = _check_count("seed", seed, 0)
    batch_size = _check_count("batch_size", batch_size, 1)
    caps = learner.capabilities
    family = dist.name
    if not caps.applies_to(family):
        raise ConfigError(
            f"backend {learner.name!r} does not apply to task family {family!r}; it applies to {', '.join(caps.families)}"
        )
    privileged = bool(caps.privileged)
    use_vector = _wants_vector(learner, dist, vectorized)
    _check_size(dist, n_tasks, episodes, min(batch_size, n_tasks) if use_vector else 1)
    task_list = dist.sample(n_tasks, seed=seed, split=split)
    seeds = np.array([np.random.SeedSequence([seed, t.seed]).generate_state(2, dtype=np.uint32) for t in task_list])
    spec = spec_of(dist)
    returns = np.zeros((n_tasks, episodes), dtype=np.float64)
    successes = np.zeros((n_tasks, episodes), dtype=bool) if isinstance(dist, SuccessFamily) else None
    total = OpCounts()
    start = time.perf_counter()
    with progress_bar(f"evaluate {learner.name}", n_tasks, enabled=progress) as advance:
        if use_vector:
            from metaplastic.runtime.vector import run_vector_trials

            for lo in range(0, n_tasks, batch_size):
                chunk = task_list[lo : lo + batch_size]
                agent = learner.vector_agent(dist, len(chunk))
                venv = dist.make_vector_env(chunk)
                env_seed = int(np.random.SeedSequence([seed, 0xB47C4, lo]).generate_state(1)[0])
                try:
                    returns[lo : lo + len(chunk)] = run_vector_trials(
                        agent, venv, episodes, agent_seeds=seeds[lo : lo + len(chunk), 0], env_seed=env_seed,
                        reveal=chunk if privileged else None, tasks=chunk, where=spec,
                        successes=None if successes is None else successes[lo : lo + len(chunk)],
                    )
                finally:
                    venv.close()
                total = total + agent.ops()
                advance(len(chunk), mean=f"{returns[: lo + len(chunk)].sum(axis=1).mean():.3f}")
        else:
            for i, task in enumerate(task_list):
                agent = learner.agent(dist)
                returns[i] = trial_returns(agent, dist, task, episodes=episodes, agent_seed=int(seeds[i, 0]),
                                           env_seed=int(seeds[i, 1]), privileged=privileged, where=spec,
                                           successes=None if successes is None else successes[i])
                total = total + agent.ops()
                advance(1, mean=f"{returns[: i + 1].sum(axis=1).mean():.3f}")
    wall = time.perf_counter() - start
    return Evaluation(
        backend=learner.name,
        tasks=spec,
        split=split,
        seed=seed,
        returns=returns,
        ops=total,
        wall_time_s=wall,
        extra={"vectorized": use_vector, "device": str(learner.device) if isinstance(learner, DeviceLearner) else "cpu",
               **({"dt_s": dt} if (dt := _time_step(learner)) else {}),
               **({"versions": dist.versions()} if isinstance(dist, Versioned) else {})},
        successes=successes,
        scored_episodes=_scored(dist, episodes) if successes is not None else None,
    )


def success_definition(scored: Any) -> str:
    """What a success rate over the episodes ``scored`` (``[start, stop)``) means, in the
    words every report uses.

    Example:
        >>> success_definition((10, 13))
        'an episode succeeds if the env flags success at any of its steps; the rate is over episodes 11-13 of each trial (after adaptation)'
    """
    start, stop = scored
    return (f"an episode succeeds if the env flags success at any of its steps; the rate is over episodes "
            f"{start + 1}-{stop} of each trial (after adaptation)")


def _scored(dist: Any, episodes: int) -> range | None:
    """The family's scored episodes that a trial of ``episodes`` episodes reaches, or
    ``None`` when it ends before any (no success rate then: adaptation episodes never count)."""
    scored = dist.scored_episodes()
    kept = range(scored.start, min(scored.stop, episodes))
    return kept if len(kept) else None


def _check_size(dist: Any, n_tasks: int, episodes: int, lanes: int) -> None:
    """Refuse an evaluation over the documented limits before anything is allocated: a
    trial longer than the family allows (:meth:`~metaplastic.tasks.base.TaskFamily.check_trial`),
    or more memory than is available for the tasks, their returns and one batch of lanes."""
    from metaplastic.runtime.vector import check_memory
    from metaplastic.tasks.base import TaskFamily

    task_bytes = 0
    if isinstance(dist, TaskFamily):
        dist.check_trial(episodes)
        task_bytes = dist.task_bytes()
    need = n_tasks * (8.0 * episodes + 64 + task_bytes) + lanes * (task_bytes + 8.0 * episodes)
    check_memory(f"evaluate: {n_tasks} tasks x {episodes} episodes", need,
                 "use fewer tasks (--n-tasks), fewer episodes or a smaller task family")


def _wants_vector(learner: Any, dist: Any, vectorized: bool | None) -> bool:
    """Whether to take the batched path: both sides must offer it (and it must be wanted)."""
    if vectorized is False:
        return False
    able = isinstance(learner, VectorLearner) and _has_vector_env(dist)
    if vectorized and not able:
        raise ConfigError(
            f"vectorized evaluation needs a learner with vector_agent() and a task family with make_vector_env(); "
            f"{learner.name} on {dist.name} has no batched path"
        )
    return able


def _has_vector_env(dist: Any) -> bool:
    from metaplastic.tasks.base import TaskFamily

    make_vec = getattr(type(dist), "make_vector_env", None)
    if make_vec is None or make_vec is TaskFamily.make_vector_env:
        return False
    return True


def run_trial(agent: Any, env: Any, episodes: int, *, seed: int, where: str = "env") -> np.ndarray:
    """Play one trial of ``episodes`` episodes of ``env`` with an already-reset ``agent``;
    return the return of each episode. The env is seeded once, on its first reset. (The
    loop is :func:`metaplastic.runtime.trials.trial_steps`; :func:`evaluate` goes through
    :func:`metaplastic.runtime.trials.trial_returns`, which also resets the agent.)

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("bandits:k=3,n=4")
        >>> agent = metaplastic.make("random").agent(tasks)
        >>> agent.reset(seed=0)
        >>> run_trial(agent, tasks.make_env(tasks.sample(1, seed=0)[0]), 4, seed=0).shape
        (4,)
    """
    out = np.zeros(episodes, dtype=np.float64)
    ret = 0.0
    for d in trial_steps(agent, env, episodes, seed=seed, where=where):
        ret += d.reward
        if d.done:
            out[d.episode] = ret
            ret = 0.0
    return out
