"""Continuous actions on the spiking path: a SpikingNet with ``head="gaussian"`` reads out
the mean of a diagonal Gaussian; it saves, loads (a version-1 file reads as categorical) and
crosses NIR with its head; the numba agent acts on it as the reference simulator's readout
says (greedy: the clipped mean; sampling: mean + exp(log_std)·N(0, 1) from the lanes' seeds,
as the torch heads draw); the numba backend evolves it; snntorch exports its Gaussian policy
to it exactly."""

import numpy as np
import pytest
from gymnasium import spaces

import metaplastic
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runtime.encoding import TrialInputEncoder
from metaplastic.runtime.sampling import lanes_rng
from metaplastic.spiking import SpikingNet, simulate
from metaplastic.spiking.es_fitness import NetVector, random_net
from metaplastic.spiking.net_agent import SpikingNetAgent


def _nav():
    return metaplastic.make_tasks("nav2d:max_steps=6,n=2")


def _net(tasks, seed=0, log_std=-3.0):
    net = random_net(tasks, neurons=12, seed=seed)
    rng = np.random.default_rng(seed)  # a readout about as big as nav2d's bounds (±0.1), so some actions are clipped
    return SpikingNet(**{**{k: getattr(net, k) for k in ("w_in", "w_rec", "du", "dv", "readout_decay", "substeps")},
                         "w_out": rng.normal(0, 0.05, net.w_out.shape), "b_out": [0.03, -0.02],
                         "head": "gaussian", "log_std": np.full(2, log_std)})


def test_random_net_for_a_box_has_a_gaussian_head_starting_inside_the_bounds():
    tasks = _nav()
    net = random_net(tasks, neurons=8, seed=0)
    assert net.head == "gaussian" and net.n_outputs == 2
    low, high = tasks.action_space.low, tasks.action_space.high
    assert np.allclose(np.exp(net.log_std), 0.5 * (high - low) / 2)
    assert random_net(metaplastic.make_tasks("bandits:k=3,n=4"), neurons=8, seed=0).head == "categorical"


def test_head_round_trips_through_npz_and_nir(tmp_path):
    net = _net(_nav())
    net.save(tmp_path / "net.npz")
    back = SpikingNet.load(tmp_path / "net.npz")
    assert back == net and back.head == "gaussian" and np.array_equal(back.log_std, net.log_std)
    pytest.importorskip("nir")
    assert SpikingNet.from_nir(net.to_nir()) == net


def test_a_version_1_file_reads_as_categorical_and_bad_heads_are_one_line(tmp_path):
    arrays = SpikingNet(w_in=[[1.0]], w_out=[[1.0], [2.0]], du=0.5, dv=0.5).to_arrays()
    v1 = {k: v for k, v in arrays.items() if k not in ("head", "log_std")} | {"version": np.array(1)}
    np.savez(tmp_path / "v1.npz", **v1)
    assert SpikingNet.load(tmp_path / "v1.npz").head == "categorical"
    assert int(arrays["version"]) == 1 and "head" not in arrays  # a categorical net is written as version 1
    gaussian = SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=0.5, dv=0.5, head="gaussian").to_arrays()
    assert int(gaussian["version"]) == 2
    np.savez(tmp_path / "v2-lacking.npz", **{k: v for k, v in gaussian.items() if k != "head"})
    with pytest.raises(RunDirError, match=r"missing \['head'\]"):
        SpikingNet.load(tmp_path / "v2-lacking.npz")
    with pytest.raises(ConfigError, match="head must be one of 'categorical', 'gaussian', got 'beta'"):
        SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1, head="beta")
    with pytest.raises(ConfigError, match="log_std is read by head='gaussian' only"):
        SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1, log_std=-1.0)


def test_agent_refuses_a_head_that_does_not_fit_the_action_space():
    tasks = _nav()
    enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    logits = SpikingNet(w_in=np.ones((4, enc.size)), w_out=np.ones((2, 4)), du=0.5, dv=0.5)
    with pytest.raises(ConfigError, match="categorical head with 2 readout units; the task family needs a gaussian"):
        SpikingNetAgent(logits, enc, 1)
    bandits = metaplastic.make_tasks("bandits:k=2,n=3")
    enc = TrialInputEncoder(bandits.observation_space, bandits.action_space)
    means = SpikingNet(w_in=np.ones((4, enc.size)), w_out=np.ones((2, 4)), du=0.5, dv=0.5, head="gaussian")
    with pytest.raises(ConfigError, match="gaussian head with 2 readout units; the task family needs a categorical"):
        SpikingNetAgent(means, enc, 1)


def _play(net, tasks, greedy, lanes=3):
    """Actions of the numba agent on a short trial, and the inputs it was given."""
    enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    agent = SpikingNetAgent(net, enc, lanes, greedy=greedy)
    agent.reset(np.arange(lanes))
    rng, xs, actions = np.random.default_rng(1), [], []
    obs = np.full((lanes, 2), 0.5)
    for _ in range(5):
        xs.append(agent.inputs.assemble(obs).copy())
        a = agent.act(obs, np.ones(lanes, bool)).copy()
        actions.append(a)
        reward = -np.abs(a).sum(axis=1)
        agent.observe(obs, a, reward, obs, np.zeros(lanes, bool), np.zeros(lanes, bool), np.ones(lanes, bool))
        obs = np.clip(obs + a, 0.0, 1.0) + rng.normal(0, 0.01, obs.shape)
    return np.array(actions), np.array(xs)


def test_numba_agent_acts_on_the_reference_readout():
    tasks = _nav()
    net = _net(tasks)
    low, high = tasks.action_space.low, tasks.action_space.high
    greedy, xs = _play(net, tasks, greedy=True)
    sampled, xs_s = _play(net, tasks, greedy=False)
    assert greedy.dtype == np.float32 and greedy.shape == (5, 3, 2)
    for lane in range(3):  # greedy: the clipped mean the reference simulator reads out at each decision's last step
        traj = simulate(net, np.repeat(xs[:, lane], net.substeps, axis=0))
        mean = traj.readout.reshape(5, net.substeps, -1)[:, -1, :]
        assert np.allclose(greedy[:, lane], np.clip(mean, low, high), atol=1e-6)
    assert np.any(greedy == high) or np.any(greedy == low), "the test should exercise the clipping"
    assert not np.array_equal(sampled, greedy)
    # the first decision: same inputs, so sampled = clip(mean + exp(log_std) * the lanes' first normal numbers)
    noise = lanes_rng(np.arange(3), 3).standard_normal((3, 2))
    raw = simulate(net, np.repeat(xs_s[:1, 0], net.substeps, axis=0)).readout[-1]
    expect = np.clip(raw + np.exp(net.log_std) * noise[0], low, high)
    assert np.allclose(sampled[0, 0], expect, atol=1e-6)
    # the previous action enters the next decision's inputs as the clipped numbers the env got
    assert np.allclose(xs_s[1, :, 2:4], sampled[0], atol=1e-7)


def test_inactive_lanes_keep_their_actions_and_bad_inputs_are_one_line():
    tasks = _nav()
    enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    agent = SpikingNetAgent(_net(tasks), enc, 3)
    agent.reset([0, 1, 2])
    obs = np.full((3, 2), 0.5)
    first = agent.act(obs, np.ones(3, bool)).copy()
    second = agent.act(obs, np.array([True, False, True]))
    assert np.array_equal(second[1], first[1]) and not np.array_equal(second[0], first[0])
    ok = dict(obs=obs, rewards=np.zeros(3), next_obs=obs, terminated=np.zeros(3, bool), truncated=np.zeros(3, bool),
              active=np.ones(3, bool))
    with pytest.raises(ValueError, match="observe got inputs of the wrong shape"):
        agent.observe(ok["obs"], second, np.zeros(1), obs, ok["terminated"], ok["truncated"], ok["active"])
    with pytest.raises(ValueError, match="observe got an action outside"):
        agent.observe(ok["obs"], np.full((3, 2), np.nan), *(ok[k] for k in ("rewards", "next_obs", "terminated",
                                                                              "truncated", "active")))
    with pytest.raises(ValueError, match="act got inputs of the wrong shape"):
        agent.act(np.zeros((2, 2)), np.ones(3, bool))


def test_actions_take_the_box_dtype_and_stay_inside_its_bounds():
    from metaplastic.runtime.sampling import clip_to_box

    space = spaces.Box(-0.1, 0.1, (2,), dtype=np.float64)
    a = clip_to_box(np.array([[5.0, -5.0]]), space)
    assert a.dtype == np.float64 and space.contains(a[0])


def test_one_lane_agent_decides_as_the_vector_agent():
    tasks = _nav()
    net = _net(tasks)
    learner = metaplastic.make("numba", net=net)
    single = learner.agent(tasks)
    vector = learner.vector_agent(tasks, 1)
    task = tasks.sample(1, seed=3, split="test")[0]
    single.reset(seed=7)
    vector.reset([7])
    env = tasks.make_env(task)
    obs, _ = env.reset(seed=0)
    for _ in range(4):
        a1 = single.act(obs)
        a2 = vector.act(obs[None], np.ones(1, bool))[0]
        assert np.array_equal(a1, a2) and a1.shape == (2,)
        nxt, r, term, trunc, _ = env.step(a1)
        single.observe(metaplastic.core.Transition(obs, a1, float(r), nxt, bool(term), bool(trunc)))
        vector.observe(obs[None], a1[None], np.array([r]), nxt[None], np.array([term]), np.array([trunc]),
                       np.ones(1, bool))
        obs = nxt


def test_plastic_gaussian_net_modulates_by_reward():
    tasks = _nav()
    net = random_net(tasks, neurons=12, seed=0, plastic=True)
    from dataclasses import replace

    net = replace(net, plasticity=replace(net.plasticity, lr_rec=np.full((12, 12), 0.05), modulator="rpe",
                                          baseline_decay=0.5))
    enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    agent = SpikingNetAgent(net, enc, 2, greedy=True)
    agent.reset([0, 1])
    obs = np.full((2, 2), 0.5)
    a = agent.act(obs, np.ones(2, bool))
    agent.observe(obs, a, np.array([1.0, -2.0]), obs, np.zeros(2, bool), np.zeros(2, bool), np.array([True, False]))
    assert agent._mod.tolist() == [1.0, 0.0]  # rpe against a zero baseline; the idle lane keeps its factor
    assert agent._baseline.tolist() == [0.5, 0.0]


def test_net_vector_evolves_log_std():
    net = _net(_nav())
    vec = NetVector(net)
    assert "log_std" in vec.names
    theta = vec.flatten(net)
    back = vec.unflatten(theta)
    assert back.head == "gaussian" and np.array_equal(back.log_std, net.log_std)
    assert np.array_equal(back.w_out, net.w_out) and np.allclose(back.du, net.du)
    moved = vec.unflatten(theta + 0.1)
    assert np.allclose(moved.log_std, net.log_std + 0.1)


def test_numba_backend_meta_trains_and_evaluates_on_continuous_actions(tmp_path):
    tasks = _nav()
    learner = metaplastic.make("numba", hidden=8, population=4, batch_tasks=2, seed=0)
    start = random_net(tasks, neurons=8, seed=0)
    state = learner.meta_train(tasks, budget=2, seed=0, show_progress=False)
    assert state.progress.updates == 2
    net = learner.spiking_net()
    assert net.head == "gaussian" and not np.array_equal(net.log_std, start.log_std)  # evolved with the weights
    learner.save_checkpoint(tmp_path / "run", state)
    assert metaplastic.load(tmp_path / "run").spiking_net() == net
    result = metaplastic.evaluate(learner, tasks, n_tasks=4, seed=0)
    assert result.returns.shape == (4, 2) and np.all(np.isfinite(result.returns))


torch = pytest.importorskip("torch", reason="the snntorch export needs the 'snn' extra")
pytest.importorskip("snntorch", reason="the snntorch export needs the 'snn' extra")


def test_snntorch_gaussian_policy_exports_exactly():
    """The Gaussian mean snntorch computes is the SpikingNet's readout (float64), its
    log_std the net's; from_spiking_net inverts the export."""
    from metaplastic.spiking.snn_policy import SpikingActorCritic

    tasks = _nav()
    learner = metaplastic.make("snntorch", hidden=16, batch_tasks=4, substeps=3)
    learner.meta_train(tasks, budget=2, seed=0, show_progress=False)
    pol = learner.model.double()
    net = learner.spiking_net()
    assert net.head == "gaussian"
    assert np.allclose(net.log_std, pol.head.log_std.detach().numpy())
    x = np.random.default_rng(0).normal(0, 2.0, size=(10, net.n_inputs))
    state, means = pol.initial_state(1), []
    with torch.no_grad():
        for t in range(len(x)):
            params, _, state = pol.step(torch.as_tensor(x[t:t + 1]), state)
            means.append(params[0, :2].numpy())
    traj = simulate(net, np.repeat(x, 3, axis=0))
    assert traj.spikes.sum() > 0
    assert np.allclose(traj.readout.reshape(10, 3, -1)[:, -1, :], np.array(means), atol=1e-9)
    back = SpikingActorCritic.from_spiking_net(net, tasks.action_space).to_spiking_net()  # float32, as trained
    assert back.head == "gaussian"
    for field in ("w_out", "b_out", "log_std", "w_in", "du"):
        assert np.allclose(getattr(back, field), getattr(net, field), atol=1e-6), field


def test_snntorch_numba_execution_acts_on_box_actions():
    tasks = _nav()
    learner = metaplastic.make("snntorch", hidden=16, batch_tasks=4, execution="numba")
    learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    agent = learner.vector_agent(tasks, 2)
    assert isinstance(agent, SpikingNetAgent)
    result = metaplastic.evaluate(learner, tasks, n_tasks=2, seed=0)
    assert result.returns.shape == (2, 2) and np.all(np.isfinite(result.returns))
