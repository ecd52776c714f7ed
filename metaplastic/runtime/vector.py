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

import os
import time
from math import isfinite
from typing import Any, Callable, Generator, NamedTuple, Sequence

import numpy as np
from gymnasium.vector import AutoresetMode

from metaplastic.core import OneLaneAgent, OpCounts, PrivilegedVectorAgent, Task, Transition, VectorAgent
from metaplastic.errors import AgentContractError, InvalidObservation, InvalidReward, LimitExceeded, MetaplasticError
from metaplastic.runtime.observations import AgentInputs, ObservationCheck, boundary_message, reward_problem
from metaplastic.runtime.success import success_flags
from metaplastic.runtime.trials import MAX_STEPS_PER_EPISODE, task_label, too_long_message

__all__ = ["MAX_STEPS_PER_EPISODE", "BatchStep", "SingleLaneAgent", "available_memory", "batch_steps",
           "check_memory", "drive_trials", "lockstep", "run_vector_trials"]


class SingleLaneAgent:
    """An :class:`~metaplastic.core.Agent` backed by a one-lane :class:`VectorAgent`.

    It checks what it is handed before the vector agent sees it
    (:class:`~metaplastic.runtime.observations.AgentInputs`): ``act``'s observation against
    ``observation_space`` (Box bounds up to
    :data:`~metaplastic.runtime.observations.BOUND_TOLERANCE`), and every field of
    ``observe``'s transition: both observations, the action against ``action_space`` (when
    given), a finite real reward and boolean flags. A bad input is a one-line
    :class:`~metaplastic.errors.InvalidInput` naming the field, the value and the space.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("bandits:k=3,n=4")
        >>> agent = SingleLaneAgent(metaplastic.make("random").vector_agent(tasks, 1), tasks.observation_space,
        ...                         tasks.action_space)
        >>> agent.reset(seed=0)
        >>> agent.act([5.0])
        Traceback (most recent call last):
        ...
        metaplastic.errors.InvalidInput: act: obs=[5.0] is not in the observation space Box(0.0, 1.0, (1,), float32) (an array of shape (1,) of finite real numbers in [0, 1], bounds tolerance 1e-06): it is outside the bounds [0.] .. [1.] of the space

    A vector agent that is also a :class:`OneLaneAgent` is handed the checked values
    through ``act_one``/``observe_one`` instead.
    """

    def __init__(self, vector_agent: VectorAgent, observation_space: Any, action_space: Any = None):
        if vector_agent.num_lanes != 1:
            raise ValueError("SingleLaneAgent needs a vector agent with exactly one lane")
        self.inner = vector_agent
        self.observation_space = observation_space
        self.action_space = action_space
        self.inputs = AgentInputs(observation_space, action_space)
        one_lane = isinstance(vector_agent, OneLaneAgent)
        self._lane = vector_agent if one_lane else None
        self._act_one = vector_agent.act_one if one_lane else None  # bound once: act is a hot path
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
        x = self.inputs.observation(obs)
        if self._act_one is not None:
            return self._act_one(x)
        return _unbatch(self.inner.act(_batch(x), self._one))

    def observe(self, transition: Transition) -> None:
        t = transition
        self.inputs.transition(t)
        if self._lane is not None:
            self._lane.observe_one(t)
            return
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
                      reveal: Sequence[Task] | None = None, tasks: Sequence[Task] | None = None,
                      where: str | None = None, successes: np.ndarray | None = None) -> np.ndarray:
    """Play one trial of ``episodes`` episodes in every lane of ``venv`` with a
    :class:`VectorAgent`; return the ``(lanes, episodes)`` returns. ``reveal`` gives an
    oracle (a :class:`~metaplastic.core.PrivilegedVectorAgent`) its tasks; ``tasks`` and
    ``where`` (the family spec) name a lane's task in the boundary check's errors;
    ``successes`` (``(lanes, episodes)`` bools) is filled as :func:`batch_steps` fills it.

    Example:
        >>> import metaplastic
        >>> dist = metaplastic.make_tasks("bandits:k=3,n=5")
        >>> chunk = dist.sample(4, seed=0, split="test")
        >>> agent = metaplastic.make("thompson").vector_agent(dist, 4)
        >>> run_vector_trials(agent, dist.make_vector_env(chunk), 5, agent_seeds=np.arange(4), env_seed=0).shape
        (4, 5)
    """
    agent.reset(agent_seeds)
    if reveal is not None:
        reveal_lanes(agent, reveal)
    return drive_trials(venv, episodes, env_seed=env_seed, act=agent.act, observe=agent.observe,
                        end_episode=agent.end_episode, tasks=tasks if tasks is not None else reveal, where=where,
                        successes=successes)


def reveal_lanes(agent: Any, tasks: Sequence[Task]) -> None:
    """Show a privileged vector agent (an oracle) the task of each lane.

    Example:
        >>> import metaplastic
        >>> dist = metaplastic.make_tasks("bandits:k=3,n=5")
        >>> agent = metaplastic.make("oracle").vector_agent(dist, 2)
        >>> agent.reset(np.arange(2))
        >>> reveal_lanes(agent, dist.sample(2, seed=0))
    """
    if not isinstance(agent, PrivilegedVectorAgent):
        raise AgentContractError(
            f"the learner declares capabilities.privileged, but its vector agent {type(agent).__name__} has no "
            "reveal_tasks(tasks); implement metaplastic.core.PrivilegedVectorAgent")
    agent.reveal_tasks(tasks)


class BatchStep(NamedTuple):
    """One step of every lane, as :func:`batch_steps` yields it."""

    step: int              # index of the batch step in the trial
    decide: np.ndarray     # the lanes whose step was a real decision
    act_ns: int = 0        # timed=True: the act call alone
    agent_ns: int = 0      # timed=True: act + the observe/end_episode calls that followed


def drive_trials(venv: Any, episodes: int, *, env_seed: int, act: Callable[[np.ndarray, np.ndarray], Any],
                 observe: Callable[..., None] | None = None,
                 end_episode: Callable[[np.ndarray], None] | None = None,
                 tasks: Sequence[Task] | None = None, where: str | None = None, space: Any = None,
                 successes: np.ndarray | None = None) -> np.ndarray:
    """The batched trial loop shared by evaluation and training: :func:`batch_steps` run
    to the end; returns the ``(lanes, episodes)`` returns.

    Example:
        >>> import metaplastic
        >>> dist = metaplastic.make_tasks("bandits:k=3,n=4")
        >>> venv = dist.make_vector_env(dist.sample(2, seed=0))
        >>> drive_trials(venv, 4, env_seed=0, act=lambda obs, decide: np.zeros(2, dtype=np.int64)).shape
        (2, 4)
    """
    steps = batch_steps(venv, episodes, env_seed=env_seed, act=act, observe=observe, end_episode=end_episode,
                        tasks=tasks, where=where, space=space, successes=successes)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def lockstep(agents: Sequence[Any], dist: Any, n_tasks: int, *, seed: int = 0,
             split: str = "test") -> list[np.ndarray]:
    """Teacher forcing: ``agents`` (vector agents of ``n_tasks`` lanes each) decide on the
    same observations and rewards, one trial on ``n_tasks`` tasks of ``dist``; the first
    agent's actions drive the environment. Returns, per agent, the boolean array of its
    decisions (active lanes, in order) equal to the first agent's (a continuous action: every
    number of it) — how the parity of two runtimes of one network is measured.

    Example:
        >>> import metaplastic
        >>> dist = metaplastic.make_tasks("bandits:k=3,n=4")
        >>> a, b = (metaplastic.make("thompson").vector_agent(dist, 5) for _ in range(2))
        >>> same = lockstep([a, b], dist, 5)
        >>> bool(same[0].all()), same[1].size
        (True, 20)
    """
    for a in agents:
        a.reset(np.arange(n_tasks) + seed)
    venv = dist.make_vector_env(dist.sample(n_tasks, seed=seed, split=split))
    same: list[list[np.ndarray]] = [[] for _ in agents]

    def act(obs: np.ndarray, active: np.ndarray) -> Any:
        acts = [np.asarray(a.act(obs, active)) for a in agents]
        for k, x in enumerate(acts):
            eq = (x == acts[0])[active]
            same[k].append(eq.all(axis=tuple(range(1, eq.ndim))))  # a continuous action: all of its numbers
        return acts[0]

    def observe(*args: Any) -> None:
        for a in agents:
            a.observe(*args)

    def end_episode(mask: np.ndarray) -> None:
        for a in agents:
            a.end_episode(mask)

    try:
        drive_trials(venv, dist.episodes_per_trial, env_seed=seed + 1, act=act, observe=observe,
                     end_episode=end_episode)
    finally:
        venv.close()
    return [np.concatenate(s) for s in same]


def batch_steps(venv: Any, episodes: int, *, env_seed: int, act: Callable[[np.ndarray, np.ndarray], Any],
                observe: Callable[..., None] | None = None,
                end_episode: Callable[[np.ndarray], None] | None = None,
                tasks: Sequence[Task] | None = None, where: str | None = None, space: Any = None,
                timed: bool = False, successes: np.ndarray | None = None) -> Generator[BatchStep, None, np.ndarray]:
    """The batched trial loop, one :class:`BatchStep` yielded per step of every lane; its
    return value (``StopIteration.value``) is the ``(lanes, episodes)`` returns.

    Steps every lane of ``venv`` until each has played ``episodes`` episodes. Handles
    same-step and next-step autoreset, and lanes whose episodes end at different times:
    ``act(obs, decide)`` gets the mask of lanes whose step is a real decision (others are
    finished, or being reset by a next-step autoreset, and their actions are ignored);
    ``observe(obs, actions, rewards, next_obs, terminated, truncated, decide)`` follows
    each step (``next_obs`` is the final observation of an episode that just ended);
    ``end_episode(mask)`` marks the lanes whose episode ended.

    What the env produces is checked before ``act``/``observe`` see it (observations
    against ``space``, by default ``venv.single_observation_space``; rewards finite), in
    one vectorized pass per step; a bad lane is a one-line
    :class:`~metaplastic.errors.InvalidObservation` or
    :class:`~metaplastic.errors.InvalidReward` naming ``where`` (the family spec), the
    lane's task in ``tasks`` (its seed), the episode and the step. ``timed=True`` fills
    each step's nanoseconds of the agent's calls (the env's time and the checks excluded).
    A consumer may stop early (the latency benchmark stops after N steps). ``successes``
    (``(lanes, episodes)`` bools, all False), when given, is set where an episode's env said
    success at any of its steps (:mod:`metaplastic.runtime.success`; a
    :class:`~metaplastic.core.SuccessFamily`).

    Example:
        >>> import metaplastic
        >>> dist = metaplastic.make_tasks("bandits:k=3,n=4")
        >>> venv = dist.make_vector_env(dist.sample(2, seed=0))
        >>> [s.step for s in batch_steps(venv, 4, env_seed=0, act=lambda o, d: np.zeros(2, dtype=np.int64))]
        [0, 1, 2, 3]
    """
    n = venv.num_envs
    mode = venv.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if mode == AutoresetMode.DISABLED:
        raise MetaplasticError("a batched env for trials must autoreset (same-step or next-step)")
    check = ObservationCheck(venv.single_observation_space if space is None else space)
    obs, _ = venv.reset(seed=int(env_seed))
    returns = np.zeros((n, episodes), dtype=np.float64)
    ep_return = np.zeros(n, dtype=np.float64)
    ep_count = np.zeros(n, dtype=np.int64)
    ep_steps = np.zeros(n, dtype=np.int64)
    pending_reset = np.zeros(n, dtype=bool)
    decide = np.ones(n, dtype=bool)
    if (bad := check.batch_problem(obs)) is not None:
        _raise_bad(InvalidObservation, bad, tasks, where, ep_count, ep_steps, decide, pending_reset, after_step=False)
    rows = np.arange(n)
    clock = time.perf_counter_ns
    act_ns = agent_ns = 0
    step = 0
    while (ep_count < episodes).any():
        decide = (ep_count < episodes) & ~pending_reset
        if timed:
            t0 = clock()
            actions = act(obs, decide)
            act_ns = clock() - t0
        else:
            actions = act(obs, decide)
        next_obs, rewards, term, trunc, infos = venv.step(actions)
        rewards = np.asarray(rewards, dtype=np.float64)
        term, trunc = np.asarray(term, dtype=bool), np.asarray(trunc, dtype=bool)
        done = (term | trunc) & decide
        final_obs = next_obs
        if mode == AutoresetMode.SAME_STEP and done.any() and "final_obs" in infos:
            final_obs = np.array(next_obs, copy=True)
            final_obs[done] = np.stack(list(np.asarray(infos["final_obs"])[done]))
            if (bad := check.batch_problem(final_obs)) is not None:
                _raise_bad(InvalidObservation, bad, tasks, where, ep_count, ep_steps, decide, pending_reset)
        if (bad := check.batch_problem(next_obs)) is not None:
            _raise_bad(InvalidObservation, bad, tasks, where, ep_count, ep_steps, decide, pending_reset,
                       reset_lanes=done if mode == AutoresetMode.SAME_STEP else None)
        if not isfinite(rewards.sum()) and not np.isfinite(rewards).all():  # NaN/inf make the sum non-finite
            lane = int(np.argmin(np.isfinite(rewards)))
            _raise_bad(InvalidReward, (lane, reward_problem(rewards[lane]) or "reward is not finite"), tasks, where,
                       ep_count, ep_steps, decide, pending_reset)
        if timed:
            t2 = clock()
            if observe is not None:
                observe(obs, actions, rewards, final_obs, term, trunc, decide)
            if end_episode is not None and done.any():
                end_episode(done)
            agent_ns = act_ns + clock() - t2
        else:
            if observe is not None:
                observe(obs, actions, rewards, final_obs, term, trunc, decide)
            if end_episode is not None and done.any():
                end_episode(done)
        ep_return[decide] += rewards[decide]
        ep_steps[decide] += 1
        if successes is not None:  # each deciding lane's current episode: success at any step
            successes[rows[decide], ep_count[decide]] |= _step_success(infos, done, n, mode)[decide]
        if done.any():
            idx = rows[done]
            returns[idx, ep_count[idx]] = ep_return[idx]
            ep_return[idx] = 0.0
            ep_steps[idx] = 0
            ep_count[idx] += 1
        if ep_steps.max(initial=0) >= MAX_STEPS_PER_EPISODE:
            lane = int(np.argmax(ep_steps))
            raise MetaplasticError(too_long_message(_lane_label(where, tasks, lane), int(ep_count[lane])))
        if mode == AutoresetMode.NEXT_STEP:
            pending_reset = done  # the next step call resets these lanes; its result is a first obs
        obs = next_obs
        yield BatchStep(step, decide, act_ns, agent_ns)
        step += 1
    return returns


def _step_success(infos: Any, done: np.ndarray, n: int, mode: Any) -> np.ndarray:
    """``(lanes,)`` whether the env set ``info["success"]`` on this step; for a lane that a
    same-step autoreset just reset, from its episode's final info."""
    flags = success_flags(infos, n)
    if mode == AutoresetMode.SAME_STEP and done.any() and isinstance(infos, dict):
        flags = np.where(done, success_flags(infos.get("final_info"), n), flags)
    return flags


def _lane_label(where: str | None, tasks: Sequence[Task] | None, lane: int) -> str:
    if tasks is not None and 0 <= lane < len(tasks):
        return task_label(where or tasks[lane].family, tasks[lane])
    return f"{where or 'batched env'}, lane {lane}" if lane >= 0 else (where or "batched env")


def _raise_bad(kind: type[Exception], bad: tuple[int, str], tasks: Sequence[Task] | None, where: str | None,
               ep_count: np.ndarray, ep_steps: np.ndarray, decide: np.ndarray, pending_reset: np.ndarray, *,
               after_step: bool = True, reset_lanes: np.ndarray | None = None) -> None:
    """Raise the boundary error for lane ``bad[0]``, locating its episode and step: a lane
    that decided is one step further in its episode, unless its episode just ended and the
    env already reset it (``reset_lanes``); a lane being reset starts its next episode."""
    lane, what = bad
    episode, step = 0, 0
    if lane >= 0:
        episode, step = int(ep_count[lane]), int(ep_steps[lane])
        if after_step and decide[lane]:
            step += 1
            if reset_lanes is not None and reset_lanes[lane]:
                episode, step = episode + 1, 0
        elif after_step and pending_reset[lane]:
            step = 0
    raise kind(boundary_message(_lane_label(where, tasks, lane), episode, step, what))


# -- memory: lanes x per-lane state, checked before allocating ---------------------------------


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``, else the free
    physical pages), or ``None`` where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def check_memory(what: str, nbytes: float, fix: str, *, available: int | None = None) -> None:
    """Refuse, with a one-line :class:`~metaplastic.errors.LimitExceeded`, work whose
    estimated memory ``nbytes`` (typically lanes x per-lane state) is more than the memory
    available (``available``, default :func:`available_memory`); ``fix`` says what to lower.

    Example:
        >>> check_memory("evaluate: 10 tasks", 1e3, "use fewer tasks", available=10**9)
        >>> check_memory("evaluate: 10**9 tasks x 10 episodes", 8e10, "use fewer tasks (--n-tasks)", available=2**34)
        Traceback (most recent call last):
        ...
        metaplastic.errors.LimitExceeded: evaluate: 10**9 tasks x 10 episodes needs about 74.5 GiB of memory, more than the 16.0 GiB available; use fewer tasks (--n-tasks)
    """
    avail = available_memory() if available is None else available
    if avail is not None and nbytes > avail:
        raise LimitExceeded(f"{what} needs about {_size(nbytes)} of memory, more than the {_size(avail)} available; {fix}")


def _size(nbytes: float) -> str:
    return f"{nbytes / 2**30:.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.1f} MiB"
