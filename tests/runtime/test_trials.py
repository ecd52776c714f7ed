"""The shared trial loops (per-agent: runtime/trials.py; batched: runtime/vector.py): one
loop for evaluation, latency and the conformance kit, and the boundary check of what an
environment hands an agent."""

import copy
import itertools
import time

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import VectorWrapper

import metaplastic
import metaplastic.evaluation
import metaplastic.runtime.vector
from metaplastic.bench.latency import decision_latency
from metaplastic.core import Capabilities, OpCounts
from metaplastic.errors import AgentContractError, InvalidObservation, InvalidReward, MetaplasticError
from metaplastic.runtime import trials
from metaplastic.runtime.observations import ObservationCheck
from metaplastic.runtime.trials import play, trial_returns
from metaplastic.runtime.vector import batch_steps, drive_trials, run_vector_trials
from metaplastic.testing.conformance import _CorruptTasks


class Recorder:
    """A contract-only agent that acts 0 and records everything it is handed."""

    def __init__(self, action=0):
        self.action, self.acted, self.observed, self.n = action, [], [], 0

    def reset(self, *, seed=None):
        self.n = 0

    def act(self, obs):
        self.acted.append(copy.deepcopy(obs))
        self.n += 1
        return self.action

    def observe(self, t):
        self.observed.append(copy.deepcopy(t.next_obs))

    def end_episode(self):
        pass

    def ops(self):
        return OpCounts(decisions=self.n)


class RewardTasks(_CorruptTasks):
    """A family whose env's reward at ``at_step`` is ``bad``."""

    def make_env(self, task):
        inner, bad, at = self.inner.make_env(task), self.bad, self.at_step

        class Env(gymnasium.Wrapper):
            def step(self, action):
                obs, r, te, tr, info = self.env.step(action)
                return obs, bad, te, tr, info

        return Env(inner)


BANDITS = metaplastic.make_tasks("bandits:k=3,n=4")


@pytest.mark.parametrize("bad, fragment", [
    (np.array([np.nan], dtype=np.float32), "contains NaN or infinity"),
    (np.array([np.inf], dtype=np.float32), "contains NaN or infinity"),
    (np.array([0.5, 0.5], dtype=np.float32), "has shape (2,), expected (1,)"),
    (np.array(["a"]), "is not an array of real numbers"),
    (np.array([1.5], dtype=np.float32), "outside the bounds"),
])
@pytest.mark.parametrize("at_step", [0, 1])
def test_a_bad_observation_stops_the_trial_before_the_agent_sees_it(bad, fragment, at_step):
    task = BANDITS.sample(1, seed=0, split="test")[0]
    agent = Recorder()
    with pytest.raises(InvalidObservation) as err:
        list(play(agent, _CorruptTasks(BANDITS, bad, at_step), task, episodes=4, agent_seed=0, env_seed=0))
    msg = str(err.value)
    assert "\n" not in msg and fragment in msg
    assert msg.startswith(f"corrupted bandits, task seed {task.seed}, episode 0, step {at_step}: the environment's observation")
    assert len(agent.acted) == at_step and agent.observed == []
    assert isinstance(err.value, ValueError) and isinstance(err.value, MetaplasticError)


def test_a_discrete_state_outside_the_space_is_refused():
    tasks = metaplastic.make_tasks("mdp")
    task = tasks.sample(1, seed=0)[0]
    with pytest.raises(InvalidObservation, match=r"episode 0, step 1: .* is outside \[0, 10\): 10"):
        list(play(Recorder(), _CorruptTasks(tasks, 10, 1), task, episodes=1, agent_seed=0, env_seed=0))
    with pytest.raises(InvalidObservation, match="is not an integer"):
        list(play(Recorder(), _CorruptTasks(tasks, 1.0, 0), task, episodes=1, agent_seed=0, env_seed=0))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "x"])
def test_a_reward_that_is_not_finite_is_refused(bad):
    task = BANDITS.sample(1, seed=0)[0]
    agent = Recorder()
    with pytest.raises(InvalidReward, match=r"task seed \d+, episode 0, step 1: the environment's reward is not a"):
        list(play(agent, RewardTasks(BANDITS, bad, 1), task, episodes=2, agent_seed=0, env_seed=0))
    assert agent.observed == []


class CorruptLanes(VectorWrapper):
    """A batched env whose observation of ``lane`` after ``at_call`` step calls is ``bad``
    (``reward=True``: its reward instead)."""

    def __init__(self, env, lane, at_call, bad, reward=False):
        super().__init__(env)
        self.lane, self.at_call, self.bad, self.reward, self.calls = lane, at_call, bad, reward, 0

    def step(self, actions):
        obs, rew, term, trunc, info = self.env.step(actions)
        self.calls += 1
        if self.calls == self.at_call:
            obs, rew = np.array(obs, copy=True), np.array(rew, dtype=np.float64, copy=True)
            if self.reward:
                rew[self.lane] = self.bad
            else:
                obs[self.lane] = self.bad
        return obs, rew, term, trunc, info


def _recording_act(store, n_actions=2):
    def act(obs, decide):
        store.append(np.array(obs, copy=True))
        return np.arange(len(obs)) % n_actions
    return act


def test_the_batched_loop_names_the_lane_task_episode_and_step():
    tasks = metaplastic.make_tasks("cartpole-dyn")  # next-step autoreset, episodes of many steps
    chunk = tasks.sample(4, seed=0, split="test")
    venv = CorruptLanes(tasks.make_vector_env(chunk), lane=2, at_call=5, bad=np.nan)
    seen = []
    with pytest.raises(InvalidObservation) as err:
        drive_trials(venv, 2, env_seed=0, act=_recording_act(seen), tasks=chunk, where=tasks.spec)
    msg = str(err.value)
    assert msg.startswith(f"{tasks.spec}, task seed {chunk[2].seed}, episode 0, step 5: the environment's observation "
                          "contains NaN or infinity") and "\n" not in msg
    assert len(seen) == 5 and all(np.isfinite(o).all() for o in seen)


def test_the_batched_loop_locates_a_bad_reset_observation_after_same_step_autoreset():
    chunk = BANDITS.sample(3, seed=0, split="test")
    venv = CorruptLanes(BANDITS.make_vector_env(chunk), lane=1, at_call=3, bad=-1.0)  # bandit episodes are one pull
    with pytest.raises(InvalidObservation, match=rf"task seed {chunk[1].seed}, episode 3, step 0: .*outside the bounds"):
        drive_trials(venv, 4, env_seed=0, act=_recording_act([], 3), tasks=chunk, where="bandits")


def test_the_batched_loop_refuses_a_non_finite_reward_and_names_a_lane_without_tasks():
    venv = CorruptLanes(BANDITS.make_vector_env(BANDITS.sample(3, seed=0)), lane=0, at_call=2, bad=np.inf, reward=True)
    observed = []
    with pytest.raises(InvalidReward, match=r"^batched env, lane 0, episode 1, step 1: the environment's reward is not a finite"):
        drive_trials(venv, 4, env_seed=0, act=_recording_act([], 3), observe=lambda *a: observed.append(a))
    assert len(observed) == 1


def test_evaluate_checks_on_the_batched_path_too():
    class NaNVectorTasks(_CorruptTasks):
        def make_vector_env(self, chunk):
            return CorruptLanes(self.inner.make_vector_env(chunk), lane=len(chunk) - 1, at_call=2, bad=np.nan)

    bad = NaNVectorTasks(BANDITS, None, 99)
    assert metaplastic.evaluate("thompson", BANDITS, n_tasks=5, seed=0).extra["vectorized"]
    tasks = BANDITS.sample(5, seed=0, split="test")
    with pytest.raises(InvalidObservation, match=rf"^corrupted bandits, task seed {tasks[-1].seed}, episode \d, step \d"):
        metaplastic.evaluate("thompson", bad, n_tasks=5, seed=0)


def test_the_observation_check_is_vectorized_and_exact():
    box = ObservationCheck(spaces.Box(-1.0, 1.0, (2,), dtype=np.float32))
    good = np.zeros((5, 2), dtype=np.float32)
    assert box.batch_problem(good) is None
    for value, fragment in ((np.nan, "NaN"), (np.inf, "NaN or infinity"), (1.5, "outside")):
        x = good.copy()
        x[3, 1] = value
        lane, why = box.batch_problem(x)
        assert lane == 3 and fragment in why
    assert box.batch_problem(np.zeros((5, 3)))[0] == -1
    unbounded = ObservationCheck(spaces.Box(-np.inf, np.inf, (1,)))
    assert unbounded.problem(np.array([1e30])) is None and "NaN" in unbounded.problem(np.array([-np.inf]))
    mixed = ObservationCheck(metaplastic.make_tasks("cartpole-dyn").observation_space)  # per-coordinate bounds
    assert mixed.batch_problem(np.array([[0.0, 50.0, 0.0, -50.0]], dtype=np.float32)) is None
    assert mixed.batch_problem(np.array([[5.0, 0.0, 0.0, 0.0]], dtype=np.float32))[0] == 0
    ints = ObservationCheck(spaces.Box(0, 4, (2,), dtype=np.int64))
    assert ints.problem(np.array([1, 2])) is None and "integers" in ints.problem(np.array([1.0, 2.0]))
    disc = ObservationCheck(spaces.Discrete(3, start=1))
    assert disc.batch_problem(np.array([1, 2, 3])) is None and disc.batch_problem(np.array([1, 0, 3]))[0] == 1
    other = ObservationCheck(spaces.MultiBinary(2))
    assert other.problem(np.array([0, 1], dtype=np.int8)) is None and other.problem(np.array([2, 1])) is not None
    assert other.batch_problem(np.array([[0, 1], [1, 3]], dtype=np.int8))[0] == 1


class SlowEnv(gymnasium.Wrapper):
    def step(self, action):
        time.sleep(0.002)
        return self.env.step(action)


class SlowTasks(_CorruptTasks):
    def make_env(self, task):
        return SlowEnv(self.inner.make_env(task))


def test_timing_covers_the_agent_and_not_the_environment():
    slow = SlowTasks(BANDITS, None, 0)
    task = BANDITS.sample(1, seed=0)[0]
    steps = list(play(metaplastic.make("random").agent(BANDITS), slow, task, episodes=4, agent_seed=0, env_seed=0,
                      timed=True))
    assert all(0 < d.act_ns <= d.agent_ns < 1_000_000 for d in steps)  # each env step sleeps 2 ms
    untimed = list(play(metaplastic.make("random").agent(BANDITS), slow, task, episodes=4, agent_seed=0, env_seed=0))
    assert [d.action for d in untimed] == [d.action for d in steps] and all(d.agent_ns == 0 for d in untimed)


def test_batched_timing_and_early_stop():
    chunk = BANDITS.sample(8, seed=0)
    agent = metaplastic.make("thompson").vector_agent(BANDITS, 8)
    agent.reset(np.arange(8))
    gen = batch_steps(BANDITS.make_vector_env(chunk), 4, env_seed=0, act=agent.act, observe=agent.observe,
                      end_episode=agent.end_episode, timed=True)
    first = [s for _, s in zip(range(2), gen)]
    gen.close()
    assert [s.step for s in first] == [0, 1] and all(0 < s.act_ns <= s.agent_ns for s in first)
    assert agent.ops().decisions == 16


def test_latency_is_measured_through_the_shared_loops():
    for batch in (1, 4):
        lat = decision_latency(metaplastic.make("thompson"), BANDITS, batch=batch, decisions=30, warmup=3)
        assert lat.samples == 30 and lat.batch == batch and 0 < lat.act_p50_s <= lat.p99_s
    with pytest.raises(metaplastic.errors.ConfigError, match="vector_agent"):
        decision_latency(_Plain(), BANDITS, batch=4, decisions=5)


class _Plain:
    name = "plain"
    capabilities = Capabilities()

    def agent(self, tasks):
        return Recorder()


def test_stopping_early_closes_the_env_and_two_trials_interleave():
    closed = []

    class Closing(_CorruptTasks):
        def make_env(self, task):
            env = self.inner.make_env(task)
            env.close = lambda: closed.append(task.seed)
            return env

    tasks = Closing(BANDITS, None, 0)
    t1, t2 = BANDITS.sample(2, seed=3)
    gen = play(Recorder(), tasks, t1, episodes=4, agent_seed=0, env_seed=0)
    next(gen)
    gen.close()
    assert closed == [t1.seed]
    alone = [d.action for d in play(metaplastic.make("random").agent(BANDITS), BANDITS, t1, episodes=4, agent_seed=1, env_seed=1)]
    pair = [play(metaplastic.make("random").agent(BANDITS), BANDITS, t, episodes=4, agent_seed=s, env_seed=s)
            for t, s in ((t1, 1), (t2, 2))]
    together = [a.action for a, _ in itertools.zip_longest(*pair) if a is not None]
    assert together == alone


def test_an_agent_that_mutates_its_inputs_is_caught():
    class Mutating(Recorder):
        def act(self, obs):
            obs[0] = 0.0
            return 0

    task = BANDITS.sample(1, seed=0)[0]
    with pytest.raises(AgentContractError, match="agent.act mutated its observation"):
        list(play(Mutating(), _CorruptTasks(BANDITS, np.array([0.5], dtype=np.float32), 0), task, episodes=1,
                  agent_seed=0, env_seed=0, check_inputs=True))


def test_a_privileged_learner_needs_privileged_agents():
    class Oracle(_Plain):
        capabilities = Capabilities(privileged=True)

    with pytest.raises(AgentContractError, match="reveal_task"):
        metaplastic.evaluate(Oracle(), BANDITS, n_tasks=1, seed=0)


def test_one_step_limit_and_one_loop():
    assert metaplastic.runtime.vector.MAX_STEPS_PER_EPISODE is trials.MAX_STEPS_PER_EPISODE
    assert not hasattr(metaplastic.evaluation, "MAX_STEPS_PER_EPISODE")
    task = BANDITS.sample(1, seed=0, split="test")[0]
    env = BANDITS.make_env(task)
    agent = metaplastic.make("random").agent(BANDITS)
    agent.reset(seed=4)
    legacy = metaplastic.evaluation.run_trial(agent, env, 4, seed=5)
    again = trial_returns(metaplastic.make("random").agent(BANDITS), BANDITS, task, episodes=4, agent_seed=4, env_seed=5)
    assert legacy.tolist() == again.tolist()


def test_the_vector_path_keeps_its_old_signatures():
    chunk = BANDITS.sample(3, seed=0)
    agent = metaplastic.make("oracle").vector_agent(BANDITS, 3)
    out = run_vector_trials(agent, BANDITS.make_vector_env(chunk), 4, agent_seeds=np.arange(3), env_seed=0, reveal=chunk)
    assert out.shape == (3, 4)
    assert drive_trials(BANDITS.make_vector_env(chunk), 2, env_seed=0, act=lambda o, d: np.zeros(3, dtype=np.int64)).shape == (3, 2)


def test_lockstep_counts_decisions_when_no_lane_decides_and_on_continuous_actions():
    """lockstep compares decisions of active lanes only, and on a family that resets on the
    next step (cartpole-dyn) a step can have none; a continuous action is equal when all of
    its numbers are."""
    import metaplastic
    from metaplastic.runtime.vector import lockstep

    for spec in ("cartpole-dyn", "nav2d:max_steps=5,n=1"):
        dist = metaplastic.make_tasks(spec)
        a, b = (metaplastic.make("random").vector_agent(dist, 3) for _ in range(2))
        same = lockstep([a, b], dist, 3)
        assert same[0].ndim == 1 and same[0].size > 0  # one flag per active decision
        assert same[1].all()  # the random policy draws from the lane seeds: the same actions
