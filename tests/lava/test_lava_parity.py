"""Lava runs a SpikingNet as the numba kernels do: in floating_pt the same decisions on
2,000 teacher-forced decisions of a closed loop and the same operation counts (counted
from the spikes Lava emitted); in fixed_pt, Loihi's quantized arithmetic agrees with its
numpy re-implementation bit for bit, and its agreement with float is reported."""

import numpy as np
import pytest

import metaplastic
from metaplastic.runtime.encoding import TrialInputEncoder
from metaplastic.spiking.net_agent import SpikingNetAgent

from metaplastic.runtime.vector import lockstep

from .conftest import random_net, trained_net

pytestmark = pytest.mark.slow


def _agents(net, tasks, n, mode):
    lava = metaplastic.make("lava", net=net, mode=mode).vector_agent(tasks, n)
    numba = metaplastic.make("numba", net=net).vector_agent(tasks, n)
    return lava, numba


@pytest.mark.parametrize("which", ["trained", "random-lif", "random-alif", "random-gaussian"])
def test_floating_pt_decides_as_numba_on_2000_decisions(lava_runtime, which):
    if which == "trained":
        tasks, net = metaplastic.make_tasks("bandits:k=3,n=6"), trained_net()
    elif which == "random-gaussian":  # continuous actions: the readout is a Gaussian's mean, every number equal
        tasks = metaplastic.make_tasks("nav2d:max_steps=10,n=1")
        net = random_net(tasks)
        assert net.head == "gaussian"
    else:
        tasks = metaplastic.make_tasks("bandits:k=5,n=10")
        net = random_net(tasks, neuron="alif" if which == "random-alif" else "cuba-lif")
    n = -(-2000 // tasks.episodes_per_trial)
    lava, numba = _agents(net, tasks, n, "floating_pt")
    same = lockstep([numba, lava], tasks, n)[1]
    assert same.size >= 2000
    assert same.mean() >= 0.99, f"decisions agree on {same.mean():.4f}"
    ops_l, ops_n = lava.ops(), numba.ops()
    assert ops_l.spikes > 0.01 * ops_l.neuron_updates, "the comparison should exercise spiking"
    for field in ("spikes", "synaptic_events", "neuron_updates", "macs", "acs"):
        a, b = getattr(ops_l, field), getattr(ops_n, field)
        assert abs(a - b) <= 0.01 * b, f"{field}: lava {a}, numba {b}"
    lava.lanes.close()


def test_fixed_pt_agrees_with_float_on_most_decisions(lava_runtime):
    """Quantization changes a few decisions of a trained policy, not the policy (the figures
    for a policy trained on bandits:k=5,n=10 are in benchmarks/lava_bandits.py)."""
    tasks, net = metaplastic.make_tasks("bandits:k=3,n=6"), trained_net()
    n = -(-2000 // tasks.episodes_per_trial)
    lava, numba = _agents(net, tasks, n, "fixed_pt")
    same = lockstep([numba, lava], tasks, n)[1]
    assert same.mean() >= 0.95, f"fixed_pt agrees with float on {same.mean():.4f}"
    lava.lanes.close()


@pytest.mark.parametrize("neuron, lanes", [("cuba-lif", 1), ("alif", 1), ("cuba-lif", 3)])
def test_fixed_pt_spikes_are_loihi_integer_arithmetic_bit_for_bit(lava_runtime, neuron, lanes):
    """Lava's bit-accurate models emit exactly the spikes of the numpy re-implementation of
    Loihi's arithmetic (metaplastic.spiking.loihi_fixed.simulate_fixed), closed loop; several
    lanes (Lava's Sparse, block-diagonal) too."""
    from metaplastic.spiking.lava_lanes import LavaLanes
    from metaplastic.spiking.loihi_fixed import simulate_fixed

    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    net = random_net(tasks, neuron=neuron, seed=5)
    rng = np.random.default_rng(2)
    x = (rng.uniform(size=(60, lanes, net.n_inputs)) < 0.4) * rng.normal(size=(60, lanes, net.n_inputs))
    x = np.clip(x, -4, 4)
    lava = LavaLanes(net, lanes, mode="fixed_pt")
    lava.reset()
    got = np.concatenate([lava.spikes(x[k], np.ones(lanes, bool)) for k in range(len(x))])
    lava.close()
    assert got.sum() > 0.02 * got.size, "the comparison should exercise spiking"
    for lane in range(lanes):
        sent = np.repeat(lava.program.encode(x[:, lane]), net.substeps, axis=0)
        want = simulate_fixed(lava.program.fixed, sent)
        np.testing.assert_array_equal(got[:, lane].astype(bool), want, err_msg=f"lane {lane}")


def test_fixed_pt_refuses_inputs_beyond_its_range():
    from metaplastic.errors import ConfigError
    from metaplastic.spiking.lava_lanes import LavaLanes

    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    lava = LavaLanes(random_net(tasks), 1, mode="fixed_pt", x_max=2.0)
    with pytest.raises(ConfigError, match="magnitude 3 exceeds x_max=2"):
        lava.program.encode(np.full((1, 8), 3.0))


def test_lanes_are_independent_copies(lava_runtime):
    """Lane 0 of three packed copies decides as a lone copy (Sparse block-diagonal = Dense)."""
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    net = random_net(tasks, seed=3)
    enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    from metaplastic.spiking.lava_lanes import LavaLanes

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3, enc.size)).astype(np.float32)
    one = LavaLanes(net, 1, mode="floating_pt")
    three = LavaLanes(net, 3, mode="floating_pt")
    one.reset()
    three.reset()
    for k in range(20):
        y1 = one.decide(x[k, :1], np.zeros(1), np.ones(1, bool)).copy()
        y3 = three.decide(x[k], np.zeros(3), np.ones(3, bool)).copy()
        np.testing.assert_allclose(y3[0], y1[0], rtol=1e-6)
    one.close()
    three.close()


def test_inactive_lanes_keep_their_state(lava_runtime):
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    net = random_net(tasks, seed=4)
    enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    from metaplastic.spiking.event_runtime import EventDrivenLanes
    from metaplastic.spiking.lava_lanes import LavaLanes

    rng = np.random.default_rng(1)
    lava, ref = LavaLanes(net, 2, mode="floating_pt"), EventDrivenLanes(net, 2)
    lava.reset()
    ref.reset()
    for k in range(12):
        active = np.array([True, k % 3 != 0])  # lane 1 sits out the very first decision too
        x = rng.normal(size=(2, enc.size)).astype(np.float32)
        np.testing.assert_allclose(lava.decide(x, np.zeros(2), active), ref.decide(x, np.zeros(2, np.float32), active),
                                   rtol=1e-5, atol=1e-5)
    lava.close()
