"""The snntorch backend: conformance (with a short spiking RL² meta-training), counted
spikes and synaptic events, Lava's reset timing in snntorch's neuron."""

import numpy as np
import pytest

import metaplastic
from metaplastic.testing import LearnerConformance

torch = pytest.importorskip("torch", reason="the snntorch backend needs the 'snn' extra")
pytest.importorskip("snntorch", reason="the snntorch backend needs the 'snn' extra")


class TestSnnTorchRL2(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("snntorch", hidden=32, batch_tasks=128, seed=0)

    @pytest.fixture
    def meta_train_budget(self):
        return 600


def test_synaptic_events_are_spikes_times_fan_out():
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    learner = metaplastic.make("snntorch", hidden=16)
    agent = learner.vector_agent(tasks, 4)
    agent.reset([0, 1, 2, 3])
    active = np.array([True, True, False, True])
    agent.act(np.zeros((4, 1)), active)
    spikes = learner.model.spike_count()[torch.as_tensor(active)].sum().item()
    ops = agent.ops()
    assert ops.decisions == 3
    assert ops.synaptic_events == spikes * 16
    assert ops.neuron_updates == 3 * 16
    assert ops.macs == 3 * ((1 + 5 + 2) * 16 + 16 * 5)


def test_reset_to_zero_in_the_same_step_as_lava():
    from metaplastic.spiking.snn_policy import SpikingActorCritic
    from gymnasium import spaces

    pol = SpikingActorCritic(1, spaces.Discrete(2), neurons=1, du=0.5, dv=0.5)
    with torch.no_grad():
        pol.w_in.weight.fill_(1.0)
        pol.w_rec.weight.zero_()
    state = pol.initial_state(1)
    u = v = 0.0
    for t in range(8):  # Lava LIF: u = (1-du)u + a; v = (1-dv)v + u; spike if v > 1, then v = 0
        u = 0.5 * u + 1.0
        v = 0.5 * v + u
        fired = v > 1.0
        v = 0.0 if fired else v
        _, _, state = pol.step(torch.ones(1, 1), state)
        assert bool(state[2][0, 0]) == fired
        assert abs(state[1][0, 0].item() - v) < 1e-6
