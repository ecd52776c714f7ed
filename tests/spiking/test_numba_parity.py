"""The numba kernels and snntorch execute one SpikingNet identically: same decisions on
10,000 decisions of a closed loop (teacher-forced: both agents see the same observations
and rewards), membrane voltages within float32 rounding."""

from dataclasses import replace

import numpy as np
import pytest

import metaplastic
from metaplastic.runtime.vector import drive_trials

torch = pytest.importorskip("torch", reason="comparing with snntorch needs the 'snn' extra")
pytest.importorskip("snntorch", reason="comparing with snntorch needs the 'snn' extra")

VOLTAGE_ATOL = 1e-3  # float32 sums in a different order; a.u. of a threshold of 1


def _parity(net, tasks, n_tasks=1000):
    snn = metaplastic.make("snntorch", net=net).vector_agent(tasks, n_tasks)
    nb = metaplastic.make("numba", net=net).vector_agent(tasks, n_tasks)
    seeds = np.arange(n_tasks)
    snn.reset(seeds)
    nb.reset(seeds)
    venv = tasks.make_vector_env(tasks.sample(n_tasks, seed=0, split="test"))
    same, close = [], []

    def act(obs, active):
        a, b = snn.act(obs, active), nb.act(obs, active)
        same.append((a == b)[active])
        dv = np.abs(snn.lanes.state.neuron.v.numpy() - nb.lanes.voltage).max(axis=1)
        close.append((dv <= VOLTAGE_ATOL)[active])
        return a

    def observe(*args):
        snn.observe(*args)
        nb.observe(*args)

    drive_trials(venv, tasks.episodes_per_trial, env_seed=1, act=act, observe=observe)
    venv.close()
    return np.concatenate(same), np.concatenate(close), snn.ops(), nb.ops()


@pytest.mark.parametrize("neuron, plastic", [("cuba-lif", False), ("cuba-lif", True), ("alif", False)])
def test_numba_decides_as_snntorch_on_10000_decisions(neuron, plastic):
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    learner = metaplastic.make("snntorch", hidden=128, seed=0, neuron=neuron)
    learner.ensure_model(tasks)
    net = learner.spiking_net()
    if plastic:
        rng = np.random.default_rng(0)
        net = replace(net, plasticity=replace(net.plasticity, lr_rec=rng.normal(0, 0.05, (128, 128)), trace_decay=0.5))
    same, close, ops_snn, ops_nb = _parity(net, tasks)
    assert same.size == 10_000
    assert same.mean() >= 0.99, f"decisions agree on {same.mean():.4f}"
    assert close.mean() >= 0.99, f"voltages within {VOLTAGE_ATOL} on {close.mean():.4f} of decisions"
    rate = ops_nb.spikes / ops_nb.neuron_updates
    assert 0.01 < rate < 0.9, f"the comparison should exercise spiking (rate {rate:.3f})"
    # the same activity counted by both runtimes
    assert abs(ops_nb.spikes - ops_snn.spikes) <= 0.01 * ops_snn.spikes
    assert abs(ops_nb.synaptic_events - ops_snn.synaptic_events) <= 0.01 * ops_snn.synaptic_events
    assert abs(ops_nb.acs - ops_snn.acs) <= 0.01 * ops_snn.acs
    assert ops_nb.neuron_updates == ops_snn.neuron_updates


def test_snntorch_runs_a_given_net_and_round_trips_it():
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    learner = metaplastic.make("snntorch", hidden=16, seed=0)
    learner.ensure_model(tasks)
    net = learner.spiking_net()
    again = metaplastic.make("snntorch", net=net)
    again.ensure_model(tasks)
    back = again.spiking_net()
    for field in ("w_in", "w_rec", "w_out", "b_out", "du", "dv", "readout_decay"):
        np.testing.assert_allclose(getattr(back, field), getattr(net, field), rtol=1e-6, atol=1e-7)
    biased = replace(net, bias=0.1)
    with pytest.raises(metaplastic.errors.ConfigError, match="cannot run this SpikingNet.*bias"):
        metaplastic.make("snntorch", net=biased).ensure_model(tasks)


def test_snntorch_evaluates_through_the_numba_kernels_when_asked():
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    a = metaplastic.make("snntorch", hidden=64, seed=1)
    b = metaplastic.make("snntorch", hidden=64, seed=1, execution="numba")
    ra = metaplastic.evaluate(a, tasks, n_tasks=200, seed=0)
    rb = metaplastic.evaluate(b, tasks, n_tasks=200, seed=0)
    assert np.mean(ra.trial_returns == rb.trial_returns) >= 0.99
    assert rb.ops.spikes > 0


def test_numba_runs_a_nir_file_as_the_network_itself(tmp_path):
    pytest.importorskip("nir")
    from metaplastic.spiking.nir_io import write_nir

    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    learner = metaplastic.make("snntorch", hidden=32, seed=3)
    learner.ensure_model(tasks)
    net = learner.spiking_net()
    write_nir(net, tmp_path / "policy.nir")
    a = metaplastic.evaluate(metaplastic.make("numba", net=net), tasks, n_tasks=100, seed=0)
    b = metaplastic.evaluate(metaplastic.make("numba", net=str(tmp_path / "policy.nir")), tasks, n_tasks=100, seed=0)
    np.testing.assert_array_equal(a.returns, b.returns)
    (tmp_path / "junk.nir").write_bytes(b"junk")
    with pytest.raises(metaplastic.errors.RunDirError, match="not a readable NIR file"):
        metaplastic.make("numba", net=str(tmp_path / "junk.nir"))


def test_snntorch_run_with_a_given_net_is_self_contained(tmp_path):
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    src = metaplastic.make("snntorch", hidden=12, seed=0)
    src.ensure_model(tasks)
    src.spiking_net().save(tmp_path / "given.npz")
    learner = metaplastic.make("snntorch", net=str(tmp_path / "given.npz"))
    learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    learner.save(tmp_path / "run")
    (tmp_path / "given.npz").unlink()
    again = metaplastic.load(tmp_path / "run")
    for a, b in zip(again.model.parameters(), learner.model.parameters()):
        assert torch.equal(a, b)
