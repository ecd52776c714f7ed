"""Agents validate what they are handed (issue 13, Must 2): every built-in backend's
per-task agent is a :class:`~metaplastic.runtime.vector.SingleLaneAgent`, whose one shared
validator (:class:`~metaplastic.runtime.observations.AgentInputs`) checks ``act``'s
observation and every field of ``observe``'s transition against the task's spaces.

Each failure of the issue has its regression test here, for the torch, snntorch and numba
agents and a classical baseline (thompson), built the public way:
``metaplastic.make(name).agent(tasks)``."""

from __future__ import annotations

import numpy as np
import pytest

import metaplastic
from metaplastic.core import Transition
from metaplastic.errors import InvalidInput

BANDITS = "bandits:k=5,n=10"
BACKENDS = ["torch", "snntorch", "numba", "thompson"]
OBS = np.zeros(1, dtype=np.float32)


def _agent(name: str, spec: str = BANDITS, seed: int = 0):
    if name in ("torch", "snntorch"):
        pytest.importorskip(name)
    tasks = metaplastic.make_tasks(spec)
    agent = metaplastic.make(name).agent(tasks)
    agent.reset(seed=seed)
    return agent


def _one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg and isinstance(err.value, ValueError)
    return msg


@pytest.mark.parametrize("name", BACKENDS)
def test_a_nan_reward_is_refused_and_leaves_the_agent_unchanged(name):
    # before: the torch agent took the NaN in and picked arm 0 for the rest of the trial
    agent, twin = _agent(name), _agent(name)
    a = agent.act(OBS)
    assert twin.act(OBS) == a
    with pytest.raises(InvalidInput) as err:
        agent.observe(Transition(OBS, a, float("nan"), OBS, True, False))
    assert _one_line(err) == "observe: transition.reward=nan is not a finite real number (an int or float, not NaN or infinity)"
    for bad in (float("inf"), np.float64(-np.inf), "1.0", None, True, 10**400):
        with pytest.raises(InvalidInput, match=r"^observe: transition\.reward="):
            agent.observe(Transition(OBS, a, bad, OBS, True, False))
    # nothing reached the inner agent: it goes on exactly like one that never saw the NaN
    rewards = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0]
    actions = []
    for x, r in zip((agent, twin), (rewards, rewards)):
        seq = [a]
        for reward in r:
            x.observe(Transition(OBS, seq[-1], reward, OBS, True, False))
            x.end_episode()
            seq.append(x.act(OBS))
        actions.append(seq)
    assert actions[0] == actions[1]


@pytest.mark.parametrize("name", BACKENDS)
def test_actions_outside_the_action_space_are_refused(name):
    # before: action=-1 was read as the last arm; action=99 raised a raw IndexError
    agent = _agent(name)
    agent.act(OBS)
    with pytest.raises(InvalidInput) as err:
        agent.observe(Transition(OBS, -1, 1.0, OBS, True, False))
    assert _one_line(err) == "observe: transition.action=-1 is not in the action space Discrete(5) (an integer 0 <= a < 5)"
    with pytest.raises(InvalidInput) as err:
        agent.observe(Transition(OBS, 99, 1.0, OBS, True, False))
    assert _one_line(err) == "observe: transition.action=99 is not in the action space Discrete(5) (an integer 0 <= a < 5)"
    for bad in (5, 1.0, True, np.array([1]), "1", None):
        with pytest.raises(InvalidInput, match=r"^observe: transition\.action=.* is not in the action space Discrete\(5\)"):
            agent.observe(Transition(OBS, bad, 1.0, OBS, True, False))
    for good in (0, 4, np.int64(3), np.array(2)):  # integers of any kind, in range
        agent.observe(Transition(OBS, good, 1.0, OBS, True, False))
        agent.end_episode()


@pytest.mark.parametrize("name", BACKENDS)
def test_observations_outside_the_box_are_refused(name):
    # before: act([5.0]) on the Box(0, 1) observations of bandits was accepted
    agent = _agent(name)
    with pytest.raises(InvalidInput) as err:
        agent.act([5.0])
    msg = _one_line(err)
    assert msg.startswith("act: obs=[5.0] is not in the observation space Box(0.0, 1.0, (1,), float32)")
    assert "bounds tolerance 1e-06" in msg and msg.endswith("it is outside the bounds [0.] .. [1.] of the space")
    for bad, why in (([np.nan], "NaN"), ([-np.inf], "infinity"), ([0.1, 0.2], "has shape (2,)"),
                     ("abc", "is not numeric"), ([-0.01], "outside the bounds")):
        with pytest.raises(InvalidInput, match=r"^act: obs=") as err:
            agent.act(bad)
        assert why in str(err.value)
    a = agent.act(np.array([1.0 + 5e-7]))  # within the stated tolerance: float rounding on a bound
    agent.act([-5e-7])
    for field, obs, nxt in (("obs", [2.0], OBS), ("next_obs", OBS, np.array([np.nan], dtype=np.float32))):
        with pytest.raises(InvalidInput, match=rf"^observe: transition\.{field}=.* is not in the observation space"):
            agent.observe(Transition(obs, a, 1.0, nxt, True, False))


@pytest.mark.parametrize("name", BACKENDS)
def test_flags_must_be_booleans(name):
    agent = _agent(name)
    a = agent.act(OBS)
    for field, term, trunc in (("terminated", 1, False), ("truncated", True, "no"), ("terminated", None, False)):
        with pytest.raises(InvalidInput, match=rf"^observe: transition\.{field}=.* is not a boolean"):
            agent.observe(Transition(OBS, a, 1.0, OBS, term, trunc))
    agent.observe(Transition(OBS, a, 1, OBS, np.bool_(True), np.False_))  # an int reward, numpy booleans


def test_box_actions_and_discrete_observations():
    pytest.importorskip("torch")
    agent = _agent("torch", "nav2d")
    obs = np.zeros(2, dtype=np.float32)
    a = agent.act(obs)
    agent.observe(Transition(obs, a, -1.0, obs, False, False))
    for bad in (np.array([0.5, 0.0]), np.zeros(3), np.array([np.nan, 0.0]), "x"):
        with pytest.raises(InvalidInput, match=r"^observe: transition\.action=.* is not in the action space Box\(-0\.1, 0\.1, \(2,\), float32\)"):
            agent.observe(Transition(obs, bad, -1.0, obs, False, False))
    agent.observe(Transition(obs, np.array([0.1 + 1e-8, -0.1]), -1.0, obs, False, False))  # within the tolerance
    mdp = _agent("psrl", "mdp:n_states=4,n_actions=3,horizon=5")
    a = mdp.act(0)
    mdp.observe(Transition(np.int64(0), a, 0.5, 3, False, False))
    for bad in (4, -1, 1.0, True, np.array([1])):
        with pytest.raises(InvalidInput, match=r"^act: obs=.* is not in the observation space Discrete\(4\) \(an integer 0 <= x < 4\)$"):
            mdp.act(bad)
    with pytest.raises(InvalidInput, match=r"^observe: transition\.action=3 is not in the action space Discrete\(3\)"):
        mdp.observe(Transition(0, 3, 0.5, 1, False, False))
