"""Batched execution: trials of many tasks stepped together, and the adapter that turns a
:class:`~metaplastic.core.VectorAgent` into a one-task :class:`~metaplastic.core.Agent`.

A policy written once in vectorized numpy serves both paths: ``evaluate`` runs it over
a batched env, and ``SingleLaneAgent`` runs the same code with one lane for the
per-agent contract (so the two can't drift apart).

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("bandits:k=3,n=5")
    >>> res = metaplastic.evaluate("thompson", tasks, n_tasks=8, seed=0)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from gymnasium.vector import AutoresetMode

from metaplastic.core import OpCounts, Transition, VectorAgent
from metaplastic.errors import MetaplasticError
from metaplastic.runtime.observations import check_observation

MAX_STEPS_PER_EPISODE = 1_000_000


class SingleLaneAgent:
    """An :class:`~metaplastic.core.Agent` backed by a one-lane :class:`VectorAgent`."""

    def __init__(self, vector_agent: VectorAgent, observation_space: Any):
        if vector_agent.num_lanes != 1:
            raise ValueError("SingleLaneAgent needs a vector agent with exactly one lane")
        self.inner = vector_agent
        self.observation_space = observation_space
        self._one = np.ones(1, dtype=bool)
        self._started = False

    def reset(self, *, seed: int | None = None) -> None:
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.inner.reset(np.array([seed], dtype=np.uint64))
        self._started = True

    def act(self, obs: Any) -> Any:
        if not self._started:
            raise MetaplasticError("call agent.reset(seed=...) before agent.act(); a trial starts with reset")
        x = check_observation(self.observation_space, obs)
        return _unbatch(self.inner.act(_batch(x), self._one))

    def observe(self, transition: Transition) -> None:
        t = transition
        self.inner.observe(
            _batch(t.obs), _batch(t.action), np.array([t.reward], dtype=np.float64), _batch(t.next_obs),
            np.array([t.terminated]), np.array([t.truncated]), self._one,
        )

    def end_episode(self) -> None:
        self.inner.end_episode(self._one)

    def reveal_task(self, task: Any) -> None:
        """Give a privileged (oracle) policy the task it plays."""
        self.inner.reveal_tasks([task])

    def ops(self) -> OpCounts:
        return self.inner.ops()


def _batch(x: Any) -> np.ndarray:
    return np.asarray(x)[None, ...]


def _unbatch(a: Any) -> Any:
    v = a[0] if isinstance(a, np.ndarray) else np.asarray(a)[0]
    return int(v) if isinstance(v, np.integer) else v


def run_vector_trials(agent: VectorAgent, venv: Any, episodes: int, *, agent_seeds: np.ndarray, env_seed: int,
                      reveal: list[Any] | None = None) -> np.ndarray:
    """Play one trial of ``episodes`` episodes in every lane of ``venv`` with a
    :class:`VectorAgent`; return the ``(lanes, episodes)`` returns. ``reveal`` gives an
    oracle its tasks."""
    agent.reset(agent_seeds)
    if reveal is not None:
        agent.reveal_tasks(reveal)
    return drive_trials(venv, episodes, env_seed=env_seed, act=agent.act, observe=agent.observe,
                        end_episode=agent.end_episode)


def drive_trials(venv: Any, episodes: int, *, env_seed: int, act: Callable[[np.ndarray, np.ndarray], Any],
                 observe: Callable[..., None] | None = None,
                 end_episode: Callable[[np.ndarray], None] | None = None) -> np.ndarray:
    """The batched trial loop shared by evaluation and training.

    Steps every lane of ``venv`` until each has played ``episodes`` episodes; returns the
    ``(lanes, episodes)`` returns. Handles same-step and next-step autoreset, and lanes
    whose episodes end at different times: ``act(obs, decide)`` gets the mask of lanes
    whose step is a real decision (others are finished, or being reset by a next-step
    autoreset, and their actions are ignored); ``observe(obs, actions, rewards, next_obs,
    terminated, truncated, decide)`` follows each step (``next_obs`` is the final
    observation of an episode that just ended); ``end_episode(mask)`` marks the lanes
    whose episode ended.
    """
    n = venv.num_envs
    mode = venv.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if mode == AutoresetMode.DISABLED:
        raise MetaplasticError("a batched env for trials must autoreset (same-step or next-step)")
    obs, _ = venv.reset(seed=int(env_seed))
    returns = np.zeros((n, episodes), dtype=np.float64)
    ep_return = np.zeros(n, dtype=np.float64)
    ep_count = np.zeros(n, dtype=np.int64)
    ep_steps = np.zeros(n, dtype=np.int64)
    pending_reset = np.zeros(n, dtype=bool)
    rows = np.arange(n)
    while (ep_count < episodes).any():
        decide = (ep_count < episodes) & ~pending_reset
        actions = act(obs, decide)
        next_obs, rewards, term, trunc, infos = venv.step(actions)
        rewards = np.asarray(rewards, dtype=np.float64)
        term, trunc = np.asarray(term, dtype=bool), np.asarray(trunc, dtype=bool)
        done = (term | trunc) & decide
        final_obs = next_obs
        if mode == AutoresetMode.SAME_STEP and done.any() and "final_obs" in infos:
            final_obs = np.array(next_obs, copy=True)
            final_obs[done] = np.stack(list(np.asarray(infos["final_obs"])[done]))
        if observe is not None:
            observe(obs, actions, rewards, final_obs, term, trunc, decide)
        ep_return[decide] += rewards[decide]
        ep_steps[decide] += 1
        if done.any():
            idx = rows[done]
            returns[idx, ep_count[idx]] = ep_return[idx]
            ep_return[idx] = 0.0
            ep_steps[idx] = 0
            ep_count[idx] += 1
            if end_episode is not None:
                end_episode(done)
        if ep_steps.max(initial=0) > MAX_STEPS_PER_EPISODE:
            raise MetaplasticError(f"an episode ran {MAX_STEPS_PER_EPISODE} steps without ending; the task family must truncate")
        if mode == AutoresetMode.NEXT_STEP:
            pending_reset = done  # the next step call resets these lanes; its result is a first obs
        obs = next_obs
    return returns
