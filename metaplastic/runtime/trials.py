"""The per-agent trial loop: one :class:`~metaplastic.core.Agent` plays one task for a trial
of a few episodes. Evaluation, the latency benchmark and the conformance kit all run it
(the batched loop, for vector agents, is :func:`metaplastic.runtime.vector.drive_trials`).

:func:`play` is a generator: it resets the agent, shows a privileged agent its task, builds
the env, and yields a :class:`Decision` after each decision (after the agent's ``observe``
and, when the episode ended, ``end_episode``). What differs between its users is done by
the consumer or switched on by a keyword:

* returns per episode: :func:`trial_returns` sums the rewards;
* stopping after N decisions: stop iterating (the env is closed);
* two agents side by side: step two generators alternately;
* recording actions and rewards: read them off the decisions;
* ``timed=True``: each decision carries the nanoseconds of ``agent.act`` alone and of
  ``act`` plus the ``observe``/``end_episode`` that follow (the environment's time and the
  harness's checks excluded);
* ``check_inputs=True``: an agent that mutates an observation or a transition is an
  :class:`~metaplastic.errors.AgentContractError`.

Whatever the consumer, the loop checks what the environment produces before the agent sees
it (:class:`~metaplastic.runtime.observations.ObservationCheck`): an observation with NaN,
the wrong shape or dtype, or outside the space, or a reward that is not finite, is a
one-line :class:`~metaplastic.errors.InvalidObservation` (or
:class:`~metaplastic.errors.InvalidReward`) naming the task, the episode and the step.

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("bandits:k=3,n=4")
    >>> task = tasks.sample(1, seed=0, split="test")[0]
    >>> agent = metaplastic.make("random").agent(tasks)
    >>> trial_returns(agent, tasks, task, episodes=4, agent_seed=0, env_seed=0).shape
    (4,)
    >>> [d.step for d in play(agent, tasks, task, episodes=2, agent_seed=0, env_seed=0)]
    [0, 0]
"""

from __future__ import annotations

import copy
import time
from math import isfinite
from typing import Any, Iterator, NamedTuple

import numpy as np

from metaplastic.core import Agent, PrivilegedAgent, Task, TaskDistribution, Transition
from metaplastic.errors import AgentContractError, InvalidObservation, InvalidReward, MetaplasticError
from metaplastic.runtime.observations import ObservationCheck, boundary_message, reward_problem
from metaplastic.runtime.success import success_flag

#: An episode that has not ended after this many steps is an error in the task family.
MAX_STEPS_PER_EPISODE = 1_000_000


class Decision(NamedTuple):
    """One decision of a trial, as :func:`play` yields it."""

    episode: int        # index of the episode in the trial
    step: int           # index of the decision in its episode
    obs: Any            # what the agent acted on
    action: Any         # what it returned (the object handed to the env)
    reward: float
    next_obs: Any
    done: bool          # the episode ended with this decision (end_episode was called)
    act_ns: int = 0     # timed=True: agent.act alone
    agent_ns: int = 0   # timed=True: agent.act + the observe/end_episode that followed
    success: bool = False  # the env's info["success"] after this step (families with success)


def spec_of(tasks: TaskDistribution) -> str:
    """The spec string of a distribution (``bandits:k=3,n=8``), or its name when it has none.

    Example:
        >>> import metaplastic
        >>> spec_of(metaplastic.make_tasks("bandits:k=3,n=8")).startswith("bandits:k=3,n=8")
        True
    """
    spec = getattr(tasks, "spec", None)  # not in the TaskDistribution contract: optional
    return spec if isinstance(spec, str) and spec else str(tasks.name)


def task_label(where: str, task: Task | None = None) -> str:
    """How an error names a task: the family spec and the task's seed.

    Example:
        >>> from metaplastic.core import Task
        >>> task_label("bandits:k=3,n=8", Task("bandits", {}, 13))
        'bandits:k=3,n=8, task seed 13'
    """
    return where if task is None else f"{where}, task seed {task.seed}"


def too_long_message(where: str, episode: int) -> str:
    """The error of an episode that never ends (the family must truncate)."""
    return (f"{where}, episode {episode}: an episode ran {MAX_STEPS_PER_EPISODE} steps without ending; "
            "the task family must truncate")


def reveal(agent: Any, task: Task) -> None:
    """Show a privileged (oracle) agent the task it plays; its learner declared
    ``capabilities.privileged``, so its agents must be :class:`~metaplastic.core.PrivilegedAgent`.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("bandits:k=2,n=3")
        >>> agent = metaplastic.make("oracle").agent(tasks)
        >>> agent.reset(seed=0)
        >>> reveal(agent, tasks.sample(1, seed=0)[0])
    """
    if not isinstance(agent, PrivilegedAgent):
        raise AgentContractError(
            f"the learner declares capabilities.privileged, but its agent {type(agent).__name__} has no "
            "reveal_task(task); implement metaplastic.core.PrivilegedAgent")
    agent.reveal_task(task)


def play(agent: Agent, tasks: TaskDistribution, task: Task, *, episodes: int, agent_seed: int, env_seed: int,
         privileged: bool = False, timed: bool = False, check_inputs: bool = False,
         where: str | None = None) -> Iterator[Decision]:
    """Reset ``agent`` with ``agent_seed``, show it ``task`` when ``privileged``, and play one
    trial of ``episodes`` episodes of ``tasks.make_env(task)`` (seeded once with
    ``env_seed``, on its first reset); yield each :class:`Decision`. The env is closed when
    the trial ends or the consumer stops early. ``where`` names the family in errors
    (default: its spec, see :func:`spec_of`).

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("bandits:k=3,n=5")
        >>> task = tasks.sample(1, seed=0, split="test")[0]
        >>> steps = list(play(metaplastic.make("random").agent(tasks), tasks, task, episodes=5, agent_seed=1, env_seed=2))
        >>> len(steps), all(tasks.action_space.contains(d.action) for d in steps)
        (5, True)
    """
    agent.reset(seed=agent_seed)
    if privileged:
        reveal(agent, task)
    env = tasks.make_env(task)
    try:
        yield from trial_steps(agent, env, episodes, seed=env_seed, space=tasks.observation_space,
                               where=task_label(spec_of(tasks) if where is None else where, task), timed=timed, check_inputs=check_inputs)
    finally:
        env.close()


def trial_returns(agent: Agent, tasks: TaskDistribution, task: Task, *, episodes: int, agent_seed: int,
                  env_seed: int, privileged: bool = False, where: str | None = None,
                  successes: np.ndarray | None = None) -> np.ndarray:
    """The return of each episode of one trial played by :func:`play`, shape ``(episodes,)``;
    ``successes`` (``(episodes,)`` bools), when given, is filled with whether each episode's
    env set ``info["success"]`` at any step.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("bandits:k=3,n=6")
        >>> task = tasks.sample(1, seed=0, split="test")[0]
        >>> r = trial_returns(metaplastic.make("random").agent(tasks), tasks, task, episodes=6, agent_seed=0, env_seed=0)
        >>> r.shape, set(r.tolist()) <= {0.0, 1.0}
        ((6,), True)
    """
    out = np.zeros(episodes, dtype=np.float64)
    ret = 0.0
    for d in play(agent, tasks, task, episodes=episodes, agent_seed=agent_seed, env_seed=env_seed,
                  privileged=privileged, where=where):
        ret += d.reward
        if successes is not None and d.success:
            successes[d.episode] = True
        if d.done:
            out[d.episode] = ret
            ret = 0.0
    return out


def trial_steps(agent: Agent, env: Any, episodes: int, *, seed: int, space: Any = None, where: str = "env",
                timed: bool = False, check_inputs: bool = False) -> Iterator[Decision]:
    """The loop itself, for an already-reset ``agent`` and an ``env`` the caller owns (see
    :func:`play`, which most callers want). ``space`` is the observation space the
    environment's outputs are checked against (default: the env's own); ``where`` names
    the task in error messages.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("bandits:k=3,n=4")
        >>> env = tasks.make_env(tasks.sample(1, seed=0)[0])
        >>> agent = metaplastic.make("random").agent(tasks)
        >>> agent.reset(seed=0)
        >>> sum(d.done for d in trial_steps(agent, env, 4, seed=0))
        4
    """
    check = ObservationCheck(env.observation_space if space is None else space)
    clock = time.perf_counter_ns
    act_ns = agent_ns = 0
    for e in range(episodes):
        obs, _ = env.reset(seed=seed if e == 0 else None)
        if (why := check.problem(obs)) is not None:
            raise InvalidObservation(boundary_message(where, e, 0, why))
        for s in range(MAX_STEPS_PER_EPISODE):
            before = copy.deepcopy(obs) if check_inputs else None
            if timed:
                t0 = clock()
                action = agent.act(obs)
                act_ns = clock() - t0
            else:
                action = agent.act(obs)
            if check_inputs and not _same(before, obs):
                raise AgentContractError(f"{where}, episode {e}, step {s}: agent.act mutated its observation")
            next_obs, reward, terminated, truncated, info = env.step(action)
            if (why := check.problem(next_obs)) is not None:
                raise InvalidObservation(boundary_message(where, e, s + 1, why))
            try:
                reward = float(reward)
            except (TypeError, ValueError):
                raise InvalidReward(boundary_message(where, e, s + 1, reward_problem(reward) or "reward is not a number")) from None
            if not isfinite(reward):
                raise InvalidReward(boundary_message(where, e, s + 1, f"reward is not a finite number: {reward!r}"))
            done = bool(terminated or truncated)
            snap = copy.deepcopy((obs, next_obs)) if check_inputs else None
            if timed:
                t2 = clock()
                agent.observe(Transition(obs, action, reward, next_obs, bool(terminated), bool(truncated)))
                if done:
                    agent.end_episode()
                agent_ns = act_ns + clock() - t2
            else:
                agent.observe(Transition(obs, action, reward, next_obs, bool(terminated), bool(truncated)))
                if done:
                    agent.end_episode()
            if check_inputs and not _same(snap, (obs, next_obs)):
                raise AgentContractError(f"{where}, episode {e}, step {s}: agent.observe mutated a transition")
            yield Decision(e, s, obs, action, reward, next_obs, done, act_ns, agent_ns,
                           success_flag(info))
            if done:
                break
            obs = next_obs
        else:
            raise MetaplasticError(too_long_message(where, e))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))
