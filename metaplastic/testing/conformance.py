"""``LearnerConformance``: the checks every backend passes, decided from its capabilities.

Subclass it in a test file and provide a ``learner`` fixture; optionally override
``tasks`` (default: a small ``bandits`` family) and ``meta_train_budget``.

* A backend that cannot be used here (missing extra) is skipped, unless its name is in
  ``METAPLASTIC_REQUIRE_BACKENDS=a,b``, which turns that into a failure (done by the
  pytest plugin :mod:`metaplastic.testing.plugin`, loaded automatically).
* ``NotImplementedError`` raised by the backend becomes an xfail carrying its reason.
* Which checks apply is decided from ``learner.capabilities``, never from names.
* Trials run through the library's own trial loop (:func:`metaplastic.runtime.trials.play`),
  the one ``metaplastic.evaluate`` and the latency benchmark use; what an environment
  produces is validated there, by the harness, so an agent written only to the contract
  in :mod:`metaplastic.core` need not check its observations.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
from typing import Any, Callable

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

import metaplastic
from metaplastic.core import Agent, Capabilities, MetaLearner, OpCounts, Task, Transition
from metaplastic.errors import AgentContractError, InvalidObservation
from metaplastic.metrics.stats import sem
from metaplastic.runtime.trials import play, reveal

def _xfail_not_implemented(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as exc:
            pytest.xfail(f"not implemented: {exc}")
        except AgentContractError as exc:  # the loop's own check (check_inputs, reveal_task)
            pytest.fail(str(exc), pytrace=False)

    return wrapper


def play_trial(agent: Agent, tasks: Any, task: Any, *, episodes: int, agent_seed: int, env_seed: int,
               check_inputs: bool = False, privileged: bool = False) -> tuple[list[Any], list[float]]:
    """Reset ``agent`` and play one trial through the library's trial loop
    (:func:`metaplastic.runtime.trials.play`); return the actions taken and the per-step
    rewards.

    With ``check_inputs``, an agent that mutates an observation or a transition is an
    :class:`~metaplastic.errors.AgentContractError`. A ``privileged`` agent (an oracle) is
    given the task with ``reveal_task`` after reset.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("bandits:k=3,n=4")
        >>> task = tasks.sample(1, seed=0, split="test")[0]
        >>> actions, rewards = play_trial(metaplastic.make("random").agent(tasks), tasks, task, episodes=4,
        ...                               agent_seed=0, env_seed=0, check_inputs=True)
        >>> len(actions), len(rewards)
        (4, 4)
    """
    actions: list[Any] = []
    rewards: list[float] = []
    for d in play(agent, tasks, task, episodes=episodes, agent_seed=agent_seed, env_seed=env_seed,
                  privileged=privileged, check_inputs=check_inputs):
        actions.append(copy.deepcopy(d.action))
        rewards.append(d.reward)
    return actions, rewards


def _privileged(learner: Any) -> bool:
    caps = getattr(learner, "capabilities", None)  # test_contract reports a missing one
    return isinstance(caps, Capabilities) and caps.privileged


def _same_actions(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))


def _bad_observation(space: Any) -> Any:
    """An observation the boundary check must refuse, or ``None`` for a space without one."""
    if isinstance(space, spaces.Box):
        return np.full(space.shape, np.nan, dtype=space.dtype if np.issubdtype(space.dtype, np.floating) else np.float64)
    if isinstance(space, spaces.Discrete):
        return int(space.start + space.n)  # one past the last state
    return None


class _CorruptEnv(gymnasium.Wrapper):
    """The family's env, but its observation after ``at_step`` steps is ``bad``."""

    def __init__(self, env: gymnasium.Env, bad: Any, at_step: int):
        super().__init__(env)
        self.bad, self.at_step, self.t = bad, at_step, 0

    def reset(self, **kwargs: Any) -> Any:
        obs, info = self.env.reset(**kwargs)
        self.t = 0
        return (self.bad if self.at_step == 0 else obs), info

    def step(self, action: Any) -> Any:
        obs, reward, term, trunc, info = self.env.step(action)
        self.t += 1
        return (self.bad if self.t == self.at_step else obs), reward, term, trunc, info


class _CorruptTasks:
    """A task family whose envs emit a bad observation after ``at_step`` steps (0: on reset)."""

    def __init__(self, inner: Any, bad: Any, at_step: int):
        self.inner, self.bad, self.at_step = inner, bad, at_step
        self.name, self.spec = inner.name, f"corrupted {inner.name}"
        self.observation_space, self.action_space = inner.observation_space, inner.action_space
        self.episodes_per_trial = inner.episodes_per_trial

    def __getattr__(self, name: str) -> Any:  # the family's own attributes (a backend may read them)
        if name == "make_vector_env":  # only the per-agent env is corrupted
            raise AttributeError(name)
        return getattr(self.inner, name)

    def sample(self, n: int, *, seed: int, split: str = "train") -> list[Task]:
        return self.inner.sample(n, seed=seed, split=split)

    def make_env(self, task: Task) -> gymnasium.Env:
        return _CorruptEnv(self.inner.make_env(task), self.bad, self.at_step)


class _Spy:
    """An agent wrapper that records which calls reach the agent."""

    def __init__(self, inner: Any):
        self.inner, self.seen = inner, []

    def reset(self, *, seed: int | None = None) -> None:
        self.inner.reset(seed=seed)

    def reveal_task(self, task: Task) -> None:
        reveal(self.inner, task)

    def act(self, obs: Any) -> Any:
        self.seen.append("act")
        return self.inner.act(obs)

    def observe(self, transition: Transition) -> None:
        self.seen.append("observe")
        self.inner.observe(transition)

    def end_episode(self) -> None:
        self.inner.end_episode()

    def ops(self) -> OpCounts:
        return self.inner.ops()


class LearnerConformance:
    """The conformance checks. Subclass with a ``learner`` fixture (see module doc)."""

    #: Episodes per trial used by the checks (kept short; the family's own length if None).
    episodes: int | None = None

    @pytest.fixture
    def learner(self) -> MetaLearner:
        pytest.fail("a LearnerConformance subclass must define a `learner` fixture returning a MetaLearner")

    @pytest.fixture
    def tasks(self) -> Any:
        """The task distribution the checks run on (default: 3-armed bandits, 8 pulls)."""
        return metaplastic.make_tasks("bandits:k=3,n=8")

    @pytest.fixture
    def meta_train_budget(self) -> Any:
        """The budget of the short meta-training that must beat random."""
        return "20s"

    @pytest.fixture
    def subject(self, learner: MetaLearner, tasks: Any) -> MetaLearner:
        caps = getattr(learner, "capabilities", None)
        if isinstance(caps, Capabilities) and not caps.applies_to(tasks.name):
            pytest.skip(f"{learner.name} does not apply to {tasks.name}; override the `tasks` fixture")
        return learner

    def _episodes(self, tasks: Any) -> int:
        return self.episodes or tasks.episodes_per_trial

    # -- the contract ---------------------------------------------------------------------
    @_xfail_not_implemented
    def test_contract(self, subject: MetaLearner, tasks: Any) -> None:
        assert isinstance(subject, MetaLearner), "the learner lacks part of the MetaLearner protocol"
        assert isinstance(subject.name, str) and subject.name, "learner.name must be a non-empty string"
        caps = subject.capabilities
        assert isinstance(caps, Capabilities), "learner.capabilities must be a metaplastic.core.Capabilities"
        for field_name in ("algorithms", "devices", "exports", "families"):
            value = getattr(caps, field_name)
            assert isinstance(value, tuple) and all(isinstance(v, str) for v in value), f"capabilities.{field_name} must be a tuple of str"
        assert isinstance(subject.agent(tasks), Agent), "learner.agent(tasks) must return an Agent"

    @_xfail_not_implemented
    def test_actions_in_action_space(self, subject: MetaLearner, tasks: Any) -> None:
        for i, task in enumerate(tasks.sample(3, seed=11, split="test")):
            actions, _ = play_trial(subject.agent(tasks), tasks, task, privileged=_privileged(subject), episodes=self._episodes(tasks), agent_seed=i, env_seed=i)
            bad = [a for a in actions if not tasks.action_space.contains(a)]
            assert not bad, f"actions outside the action space {tasks.action_space}: {bad[:3]}"

    @_xfail_not_implemented
    def test_deterministic_under_seed(self, subject: MetaLearner, tasks: Any) -> None:
        task = tasks.sample(1, seed=12, split="test")[0]
        runs = [play_trial(subject.agent(tasks), tasks, task, privileged=_privileged(subject), episodes=self._episodes(tasks), agent_seed=5, env_seed=6)
                for _ in range(2)]
        assert _same_actions(runs[0][0], runs[1][0]), "two agents with the same seeds took different actions"
        assert runs[0][1] == runs[1][1]

    @_xfail_not_implemented
    def test_reset_starts_a_new_trial(self, subject: MetaLearner, tasks: Any) -> None:
        t1, t2 = tasks.sample(2, seed=13, split="test")
        ep = self._episodes(tasks)
        agent = subject.agent(tasks)
        play_trial(agent, tasks, t1, privileged=_privileged(subject), episodes=ep, agent_seed=1, env_seed=1)
        reused, _ = play_trial(agent, tasks, t2, privileged=_privileged(subject), episodes=ep, agent_seed=2, env_seed=2)
        fresh, _ = play_trial(subject.agent(tasks), tasks, t2, privileged=_privileged(subject), episodes=ep, agent_seed=2, env_seed=2)
        assert _same_actions(reused, fresh), "reset() did not clear what the agent learned in the previous trial"

    @_xfail_not_implemented
    def test_agents_are_independent(self, subject: MetaLearner, tasks: Any) -> None:
        t1, t2 = tasks.sample(2, seed=14, split="test")
        ep = self._episodes(tasks)
        alone, _ = play_trial(subject.agent(tasks), tasks, t1, privileged=_privileged(subject), episodes=ep, agent_seed=3, env_seed=3)
        # two trials stepped alternately, one decision each, through the same loop
        both = [play(subject.agent(tasks), tasks, t, privileged=_privileged(subject), episodes=ep, agent_seed=s, env_seed=s)
                for t, s in ((t1, 3), (t2, 4))]
        actions = [copy.deepcopy(da.action) for da, _ in itertools.zip_longest(*both) if da is not None]
        assert _same_actions(alone, actions), "an agent's decisions changed when another agent ran beside it (shared state)"

    @_xfail_not_implemented
    def test_inputs_not_mutated(self, subject: MetaLearner, tasks: Any) -> None:
        task = tasks.sample(1, seed=15, split="test")[0]
        play_trial(subject.agent(tasks), tasks, task, privileged=_privileged(subject), episodes=self._episodes(tasks), agent_seed=0, env_seed=0, check_inputs=True)

    @_xfail_not_implemented
    def test_harness_checks_observations(self, subject: MetaLearner, tasks: Any) -> None:
        """A task family whose env emits a bad observation (NaN, or a state outside the
        space) gets a one-line boundary error from the trial loop before the agent sees it:
        nothing is demanded of the agent."""
        bad = _bad_observation(tasks.observation_space)
        if bad is None:
            pytest.skip(f"no bad observation is defined for {tasks.observation_space}")
        task = tasks.sample(1, seed=18, split="test")[0]
        for at_step in (0, 1):
            corrupt = _CorruptTasks(tasks, bad, at_step)
            spy = _Spy(subject.agent(tasks))
            with pytest.raises(InvalidObservation) as err:
                play_trial(spy, corrupt, task, privileged=_privileged(subject), episodes=self._episodes(tasks),
                           agent_seed=0, env_seed=0)
            msg = str(err.value)
            assert "\n" not in msg, f"the boundary error must be one line: {msg!r}"
            for part in (corrupt.spec, f"task seed {task.seed}", "episode 0", f"step {at_step}"):
                assert part in msg, f"the boundary error does not name {part!r}: {msg}"
            # at step 0 the agent sees nothing; at step 1, only the reset observation it acted on
            expected = ["act"] if at_step else []
            assert spy.seen == expected, f"the agent was handed the bad observation (calls: {spy.seen})"
        with pytest.raises(InvalidObservation, match="task seed"):  # evaluate runs the same loop
            metaplastic.evaluate(subject, _CorruptTasks(tasks, bad, 1), n_tasks=1, episodes=1, seed=0)

    @_xfail_not_implemented
    def test_op_counts(self, subject: MetaLearner, tasks: Any) -> None:
        task = tasks.sample(1, seed=16, split="test")[0]
        agent = subject.agent(tasks)
        actions, _ = play_trial(agent, tasks, task, privileged=_privileged(subject), episodes=self._episodes(tasks), agent_seed=0, env_seed=0)
        ops = agent.ops()
        assert isinstance(ops, OpCounts)
        for k, v in ops.as_dict().items():
            assert isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0, f"ops().{k} must be an int >= 0, got {v!r}"
        assert ops.decisions == len(actions), f"ops().decisions is {ops.decisions} after {len(actions)} calls to act()"
        agent.reset(seed=0)
        assert agent.ops() == OpCounts(), "ops() must count from the last reset()"

    @_xfail_not_implemented
    def test_save_load_reproduces_decisions(self, subject: MetaLearner, tasks: Any, tmp_path: Any) -> None:
        run = tmp_path / "run"
        subject.save(run)
        doc = json.loads((run / "config.json").read_text())
        assert doc.get("backend") == subject.name, "config.json must name the backend that saved the run"
        loaded = metaplastic.load(run)
        assert loaded.name == subject.name
        task = tasks.sample(1, seed=17, split="test")[0]
        ep = self._episodes(tasks)
        before, _ = play_trial(subject.agent(tasks), tasks, task, privileged=_privileged(subject), episodes=ep, agent_seed=9, env_seed=9)
        after, _ = play_trial(loaded.agent(tasks), tasks, task, privileged=_privileged(subject), episodes=ep, agent_seed=9, env_seed=9)
        assert _same_actions(before, after), "the loaded learner decides differently from the saved one"

    @_xfail_not_implemented
    def test_short_meta_training_beats_random(self, subject: MetaLearner, tasks: Any, meta_train_budget: Any) -> None:
        if not subject.capabilities.meta_train:
            pytest.skip("capabilities.meta_train is False")
        subject.meta_train(tasks, budget=meta_train_budget, seed=0)
        n = 300
        trained = metaplastic.evaluate(subject, tasks, n_tasks=n, seed=21).trial_returns
        rand = metaplastic.evaluate(metaplastic.make("random"), tasks, n_tasks=n, seed=21).trial_returns
        diff = trained - rand  # paired: same tasks, same env seeds
        margin = float(diff.mean()) - 2.0 * float(sem(diff))
        assert margin > 0, (
            f"after meta-training, trial return {trained.mean():.3f} does not beat random {rand.mean():.3f} "
            f"by two standard errors of the paired difference"
        )
