"""The numba agent's fused decision (one jitted call per ``act``, one per ``observe``) decides
exactly as the step-by-step path it replaced: RL²'s inputs from ``TrialInputs``, the lanes'
``decide``, one ``rng.random(num_lanes)`` per decision, ``sample_actions``, the modulation
computed in numpy. Same actions, readouts, inputs, third factors and operation counts, step
by step, on Box and Discrete observations, plastic or not, greedy or not, with lanes that sit
decisions out; and refusals of malformed inputs that change nothing."""

from dataclasses import replace

import numpy as np
import pytest

import metaplastic
from metaplastic.runtime.encoding import TrialInputEncoder, TrialInputs
from metaplastic.runtime.vector import drive_trials
from metaplastic.spiking import kernels as K
from metaplastic.spiking import net_agent
from metaplastic.spiking.es_fitness import random_net
from metaplastic.spiking.event_runtime import EventDrivenLanes
from metaplastic.spiking.net_agent import SpikingNetAgent


class StepwiseAgent:
    """The agent as it was before its decision was fused: numpy encoding, ``lanes.decide``,
    a generator call per decision, ``sample_actions``, numpy modulation."""

    def __init__(self, net, encoder, num_lanes, greedy=False):
        self.net, self.n, self.greedy = net, num_lanes, greedy
        self.lanes = EventDrivenLanes(net, num_lanes)
        self.inputs = TrialInputs(encoder, num_lanes)
        self.mod = np.zeros(num_lanes, np.float32)
        self.baseline = np.zeros(num_lanes)
        self.actions = np.zeros(num_lanes, np.int64)
        self.decisions = 0

    def reset(self, seeds):
        self.rng = np.random.default_rng(np.random.SeedSequence([int(s) for s in seeds]))
        self.lanes.reset()
        self.inputs.reset()
        self.mod[:] = 0.0
        self.baseline[:] = 0.0
        self.decisions = 0

    def act(self, obs, active):
        active = np.asarray(active, dtype=bool)
        y = self.lanes.decide(self.inputs.assemble(obs), self.mod, active)
        if self.lanes.plastic:
            self.mod[active] = 0.0
        self.decisions += int(active.sum())
        u = np.zeros(self.n) if self.greedy else self.rng.random(self.n)
        K.sample_actions(y, u, self.greedy, active, self.actions)
        return self.actions.copy()

    def observe(self, obs, actions, rewards, next_obs, terminated, truncated, active):
        active = np.asarray(active, dtype=bool)
        done = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
        self.inputs.record(np.asarray(actions), np.asarray(rewards), done, active)
        if self.lanes.plastic:
            r = np.asarray(rewards, dtype=np.float64)
            p = self.net.plasticity
            m = r if p.modulator == "reward" else r - self.baseline
            if p.modulator != "reward":
                self.baseline = np.where(active, (1 - p.baseline_decay) * self.baseline + p.baseline_decay * r,
                                         self.baseline)
            self.mod[active] = m[active]


def _plastic(net, modulator):
    rng = np.random.default_rng(0)
    n, i = net.n_neurons, net.n_inputs
    p = replace(net.plasticity, lr_rec=rng.normal(0, 0.05, (n, n)), lr_in=rng.normal(0, 0.05, (n, i)),
                trace_decay=0.4, modulator=modulator, baseline_decay=0.3)
    return replace(net, plasticity=p)


CASES = {
    "bandits cuba-lif": ("bandits:k=5,n=10", dict(neurons=64, neuron="cuba-lif"), None, False),
    "bandits alif": ("bandits:k=5,n=10", dict(neurons=32, neuron="alif", substeps=3), None, False),
    "bandits plastic rpe": ("bandits:k=3,n=8", dict(neurons=24), "rpe", False),
    "bandits plastic reward": ("bandits:k=3,n=8", dict(neurons=24), "reward", False),
    "bandits greedy": ("bandits:k=5,n=10", dict(neurons=32), None, True),
    "mdp (Discrete observations)": ("mdp", dict(neurons=32), None, False),
    "gridnavi plastic": ("gridnavi", dict(neurons=32, substeps=3), "rpe", False),
    "cartpole-dyn (lanes sit decisions out)": ("cartpole-dyn", dict(neurons=32), None, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fused_agent_decides_as_the_stepwise_path(case, monkeypatch):
    spec, shape, modulator, greedy = CASES[case]
    monkeypatch.setattr(net_agent, "UNIFORM_BLOCK", 50)  # blocks of uniform numbers run out within a trial
    tasks = metaplastic.make_tasks(spec)
    net = random_net(tasks, seed=1, **{"substeps": 2, **shape})
    net = _plastic(net, modulator) if modulator else net
    enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    lanes = 7
    fused, ref = SpikingNetAgent(net, enc, lanes, greedy=greedy), StepwiseAgent(net, enc, lanes, greedy=greedy)
    for trial in range(2):  # a second trial: reset restores everything, the generator too
        seeds = np.arange(lanes) + 10 * trial
        fused.reset(seeds)
        ref.reset(seeds)
        steps = []

        def act(obs, active):
            a, b = fused.act(obs, active), ref.act(obs, active)
            np.testing.assert_array_equal(a[active], b[active])
            np.testing.assert_array_equal(fused.lanes.y, ref.lanes.y)
            np.testing.assert_array_equal(fused.inputs.x, ref.inputs.x)
            np.testing.assert_array_equal(fused._mod, ref.mod)
            steps.append(active.copy())
            return a

        def observe(*args):
            fused.observe(*args)
            ref.observe(*args)
            np.testing.assert_array_equal(fused.inputs.x, ref.inputs.x)
            np.testing.assert_array_equal(fused._mod, ref.mod)
            np.testing.assert_array_equal(fused._baseline, ref.baseline)

        venv = tasks.make_vector_env(tasks.sample(lanes, seed=trial, split="test"))
        drive_trials(venv, tasks.episodes_per_trial, env_seed=trial, act=act, observe=observe)
        venv.close()
        assert fused.ops() == replace(ref.lanes.ops(), decisions=ref.decisions)
        assert fused.decisions == int(np.sum(steps))
    if "sit decisions out" in case:
        assert not np.all(steps), "the comparison should include lanes that sit decisions out"
    if modulator:
        assert fused.ops().synaptic_updates > 0


def test_one_jitted_call_per_decision_and_per_observation(monkeypatch):
    """At batch 1 (through the Agent contract) ``act`` is one call of the compiled ``act``
    kernel and ``observe`` one of ``observe_one``, nothing else jitted."""
    from metaplastic.core import Transition

    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    agent = metaplastic.make("numba", net=random_net(tasks, neurons=16, seed=0)).agent(tasks)
    agent.reset(seed=0)
    calls = []

    def counted(name, fn):
        return lambda *a: calls.append(name) or fn(*a)

    for name in ("act", "observe", "observe_one", "decide", "read_spikes", "sample_actions"):
        monkeypatch.setattr(K, name, counted(name, getattr(K, name)))
    inner = agent.inner
    monkeypatch.setattr(inner, "_act_lane", counted("compiled act", inner._act_lane))
    monkeypatch.setattr(inner, "_observe_lane", counted("compiled observe_one", inner._observe_lane))
    obs = np.zeros(1, np.float32)
    for _ in range(3):
        action = agent.act(obs)
        agent.observe(Transition(obs, action, 1.0, obs, True, False))
        agent.end_episode()
    assert calls == ["compiled act", "compiled observe_one"] * 3


@pytest.mark.parametrize("spec, modulator", [("bandits:k=3,n=8", "rpe"), ("mdp", None), ("gridnavi", "reward")])
def test_the_one_lane_path_decides_as_a_batch_of_one(spec, modulator):
    """``SingleLaneAgent`` hands the numba agent its values through ``act_one``/``observe_one``;
    the same trial played through arrays of one lane decides the same."""
    from metaplastic.core import Transition
    from metaplastic.core import OneLaneAgent
    from metaplastic.runtime.vector import SingleLaneAgent

    tasks = metaplastic.make_tasks(spec)
    net = random_net(tasks, neurons=24, seed=2)
    net = _plastic(net, modulator) if modulator else net
    learner = metaplastic.make("numba", net=net)
    one = learner.agent(tasks)
    assert isinstance(one, SingleLaneAgent) and isinstance(one.inner, OneLaneAgent)
    batch = learner.vector_agent(tasks, 1)
    env = tasks.make_env(tasks.sample(1, seed=3, split="test")[0])
    one.reset(seed=5)
    batch.reset([5])
    on = np.ones(1, bool)
    for e in range(tasks.episodes_per_trial):
        obs, _ = env.reset(seed=7 if e == 0 else None)
        done = False
        while not done:
            a = one.act(obs)
            b = batch.act(np.asarray(obs)[None], on)
            assert type(a) is int and a == b[0]
            nxt, r, term, trunc, _ = env.step(a)
            one.observe(Transition(obs, a, float(r), nxt, bool(term), bool(trunc)))
            batch.observe(np.asarray(obs)[None], b, np.array([r]), np.asarray(nxt)[None], np.array([term]),
                          np.array([trunc]), on)
            np.testing.assert_array_equal(one.inner.inputs.x, batch.inputs.x)
            np.testing.assert_array_equal(one.inner._mod, batch._mod)
            done, obs = term or trunc, nxt
    env.close()
    assert one.ops() == batch.ops()


def test_uniform_blocks_are_the_numbers_of_one_draw_per_decision(monkeypatch):
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    net = random_net(tasks, neurons=8, seed=0)
    for block in (1, 7, 4096):
        monkeypatch.setattr(net_agent, "UNIFORM_BLOCK", block)
        agent = SpikingNetAgent(net, enc, 3)
        agent.reset([4, 5, 6])
        drawn = []
        for _ in range(20):
            cursor = int(agent._cursor[0])
            if cursor + 3 > agent._u.size:
                agent._draw()
                cursor = 0
            drawn.append(agent._u[cursor: cursor + 3].copy())
            agent._cursor[0] = cursor + 3
        rng = np.random.default_rng(np.random.SeedSequence([4, 5, 6]))
        np.testing.assert_array_equal(np.stack(drawn), np.stack([rng.random(3) for _ in range(20)]))


def test_refused_inputs_change_nothing():
    tasks = metaplastic.make_tasks("mdp")
    learner = metaplastic.make("numba", net=random_net(tasks, neurons=16, seed=0))
    agent, twin = learner.vector_agent(tasks, 2), learner.vector_agent(tasks, 2)
    for a in (agent, twin):
        a.reset([0, 1])
    both = np.ones(2, bool)
    with pytest.raises(ValueError, match="observation outside Discrete"):
        agent.act(np.array([0, 10]), both)
    with pytest.raises(ValueError, match="wrong shape"):
        agent.act(np.array([0, 1, 2]), both)
    with pytest.raises(ValueError, match="wrong shape"):
        agent.act(np.array([0, 1]), np.ones(3, bool))
    x = agent.inputs.x.copy()
    with pytest.raises(ValueError, match="action outside Discrete"):
        agent.observe(None, np.array([0, 5]), np.ones(2), None, np.zeros(2, bool), np.zeros(2, bool), both)
    np.testing.assert_array_equal(agent.inputs.x, x)
    for _ in range(3):  # the refusals drew nothing and moved nothing: the agents stay twins
        obs = np.array([3, 4])
        a = agent.act(obs, both)
        np.testing.assert_array_equal(a, twin.act(obs, both))
        for g in (agent, twin):
            g.observe(obs, a, np.ones(2), obs, np.zeros(2, bool), np.zeros(2, bool), both)
    assert agent.ops() == twin.ops() and agent.decisions == 6


def test_inputs_of_any_array_type_decide_alike():
    """Lists, other dtypes and shapes are converted as the numpy encoder converted them."""
    tasks = metaplastic.make_tasks("gridnavi")
    learner = metaplastic.make("numba", net=random_net(tasks, neurons=16, seed=0))
    a, b = learner.vector_agent(tasks, 2), learner.vector_agent(tasks, 2)
    for g in (a, b):
        g.reset([0, 1])
    rng = np.random.default_rng(0)
    for _ in range(5):
        obs = rng.integers(0, 5, (2, 2))
        x = a.act(obs.tolist(), [True, True])
        np.testing.assert_array_equal(x, b.act(obs.astype(np.float32), np.ones(2, bool)))
        a.observe(None, x.tolist(), [1, 0], None, [False, True], [0, 0], [True, True])
        b.observe(None, x.astype(np.int32), np.array([1.0, 0.0]), None, np.array([False, True]),
                  np.zeros(2, bool), np.ones(2, bool))
        np.testing.assert_array_equal(a.inputs.x, b.inputs.x)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_copied_agent_continues_as_the_original_and_apart_from_it(how):
    import copy
    import pickle

    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    net = _plastic(random_net(tasks, neurons=16, seed=0), "rpe")
    agent = metaplastic.make("numba", net=net).vector_agent(tasks, 3)
    agent.reset([0, 1, 2])
    obs, on = np.zeros((3, 1), np.float32), np.ones(3, bool)

    def step(g):
        a = g.act(obs, on)
        g.observe(obs, a, np.ones(3), obs, np.zeros(3, bool), np.zeros(3, bool), on)
        return a

    step(agent)
    before = pickle.dumps(agent)
    twin = pickle.loads(before) if how == "pickle" else copy.deepcopy(agent)
    for _ in range(2):  # the copy's steps do not move the original
        step(twin)
    assert pickle.dumps(agent) == before
    again = pickle.loads(pickle.dumps(agent)) if how == "pickle" else copy.deepcopy(agent)
    for _ in range(2):
        np.testing.assert_array_equal(step(again), step(agent))
    assert again.ops() == agent.ops()
    np.testing.assert_array_equal(again.lanes.recurrent_weights(1), agent.lanes.recurrent_weights(1))


def test_the_one_lane_calls_take_any_values_the_batch_path_takes():
    """``act_one`` with an observation that is not the usual float64 row (float32, a list, a
    strided view) and ``observe_one`` with numpy scalars decide as the batch path does."""
    from metaplastic.core import Transition

    tasks = metaplastic.make_tasks("gridnavi")
    learner = metaplastic.make("numba", net=_plastic(random_net(tasks, neurons=16, seed=1), "rpe"))
    one, batch = learner.vector_agent(tasks, 1), learner.vector_agent(tasks, 1)
    for g in (one, batch):
        g.reset([3])
    rng = np.random.default_rng(0)
    on = np.ones(1, bool)
    for step in range(12):
        cells = rng.integers(0, 5, 4).astype(np.float64)
        obs = [cells[:2].astype(np.float32), cells[:2].tolist(), cells[::2], cells[:2]][step % 4]
        a = one.act_one(obs)
        b = batch.act(np.asarray(obs, dtype=np.float64)[None], on)
        assert a == b[0]
        r, done = rng.random(), bool(step % 3 == 2)
        one.observe_one(Transition(obs, np.int64(a), np.float32(r), obs, np.bool_(done), False))
        batch.observe(None, b, np.array([np.float32(r)], dtype=np.float64), None, np.array([done]),
                      np.zeros(1, bool), on)
        np.testing.assert_array_equal(one.inputs.x, batch.inputs.x)
        np.testing.assert_array_equal(one._mod, batch._mod)
    assert one.ops() == batch.ops()
