"""The snntorch backend: conformance (with a short spiking RL² meta-training), counted
spikes and synaptic events, Lava's reset timing in snntorch's neuron."""

import numpy as np
import pytest

import metaplastic
from metaplastic.testing import LearnerConformance

torch = pytest.importorskip("torch", reason="the snntorch backend needs the 'snn' extra")
pytest.importorskip("snntorch", reason="the snntorch backend needs the 'snn' extra")


class TestSnnTorchRL2(LearnerConformance):
    @pytest.fixture(params=["rl2", "rl2-plastic"])
    def learner(self, request):
        return metaplastic.make("snntorch", algo=request.param, hidden=32, batch_tasks=128, seed=0)

    @pytest.fixture
    def meta_train_budget(self):
        return 600


def test_synaptic_events_are_spikes_times_fan_out():
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    learner = metaplastic.make("snntorch", hidden=16, substeps=2)
    agent = learner.vector_agent(tasks, 4)
    agent.reset([0, 1, 2, 3])
    active = np.array([True, True, False, True])
    agent.act(np.zeros((4, 1)), active)
    spikes = learner.model.spike_count()[torch.as_tensor(active)].sum().item()
    delivered = learner.model.delivered_count()[torch.as_tensor(active)].sum().item()
    ops = agent.ops()
    assert ops.decisions == 3
    assert ops.spikes == spikes
    assert ops.synaptic_events == delivered * 16
    assert ops.neuron_updates == 3 * 2 * 16
    assert ops.macs == 3 * ((1 + 5 + 2) * 16 + 16 * 5)  # graded input and head, once per decision


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
        assert bool(state.s[0, 0]) == fired
        assert abs(state.neuron.v[0, 0].item() - v) < 1e-6


@pytest.mark.parametrize("neuron", ["cuba-lif", "alif"])
def test_trained_policy_equals_its_spiking_net_under_the_reference_simulator(neuron):
    """The snntorch execution and the framework-neutral SpikingNet agree exactly (float64):
    spikes at every time step and the readout at every decision."""
    from metaplastic.spiking import simulate

    tasks = metaplastic.make_tasks("bandits:k=3,n=6")
    learner = metaplastic.make("snntorch", hidden=24, batch_tasks=16, substeps=3, neuron=neuron)
    learner.meta_train(tasks, budget=3, seed=0, show_progress=False)
    pol = learner.model.double()
    net = learner.spiking_net()
    rng = np.random.default_rng(0)
    x = rng.normal(0, 2.0, size=(12, net.w_in.shape[1]))
    state = pol.initial_state(1)
    spikes, logits = [], []
    with torch.no_grad():
        for t in range(len(x)):
            params, _, state = pol.step(torch.as_tensor(x[t:t + 1]), state)
            spikes.append(state.s[0].numpy().copy())
            logits.append(pol.head.linear(state.z)[0].numpy())
    traj = simulate(net, np.repeat(x, 3, axis=0))
    ours = traj.spikes.reshape(12, 3, -1)[:, -1, :]
    assert traj.spikes.sum() > 0
    assert np.array_equal(ours.astype(bool), np.array(spikes).astype(bool))
    assert np.allclose(traj.readout.reshape(12, 3, -1)[:, -1, :], np.array(logits), atol=1e-9)


def test_export_cli_writes_nir_that_round_trips(tmp_path):
    import subprocess
    import sys

    pytest.importorskip("nir")
    from metaplastic.spiking import SpikingNet
    from metaplastic.spiking.nir_io import read_nir

    learner = metaplastic.make("snntorch", hidden=8, batch_tasks=8)
    learner.meta_train(metaplastic.make_tasks("bandits:k=3,n=4"), budget=1, seed=0, show_progress=False)
    learner.save(tmp_path / "run")
    for fmt, name in (("nir", "net.nir"), ("npz", "net.npz")):
        proc = subprocess.run([sys.executable, "-m", "metaplastic", "export", "--run", str(tmp_path / "run"),
                               "--format", fmt, "--out", str(tmp_path / name)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    net = learner.spiking_net()
    assert read_nir(tmp_path / "net.nir") == net
    assert SpikingNet.load(tmp_path / "net.npz") == net
    torch_run = tmp_path / "dense"
    metaplastic.make("torch", hidden=4).save(torch_run)
    proc = subprocess.run([sys.executable, "-m", "metaplastic", "export", "--run", str(torch_run), "--out",
                           str(tmp_path / "x.nir")], capture_output=True, text=True)
    assert proc.returncode == 2 and "exports nothing" in proc.stderr and not (tmp_path / "x.nir").exists()


@pytest.mark.parametrize("rank", [0, 3])
def test_plastic_policy_equals_its_spiking_net_with_modulation(rank):
    """rl2-plastic: the recurrent weights change within the trial, and the reference
    simulator with the reward as third factor (on each decision's first step) reproduces
    the snntorch execution spike for spike, with one rate per synapse or low-rank rates."""
    from metaplastic.spiking import simulate
    from metaplastic.spiking.plastic_state import DenseTrace, SpikeHistory

    tasks = metaplastic.make_tasks("bandits:k=3,n=6")
    learner = metaplastic.make("snntorch", algo="rl2-plastic", hidden=20, batch_tasks=16, substeps=2, plastic_rank=rank)
    learner.meta_train(tasks, budget=2, seed=0, show_progress=False)
    pol = learner.model.double()
    with torch.no_grad():  # make the plasticity visible
        for p in ([pol.lr_post, pol.lr_pre] if rank else [pol.lr_rec]):
            p.normal_(0.0, 0.3 if not rank else 0.6)
    net = learner.spiking_net()
    assert net.plasticity is not None and net.plasticity.enabled
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2.0, size=(10, net.w_in.shape[1]))
    reward_col = pol.reward_index
    x[:, reward_col] = rng.integers(0, 2, size=10)
    inputs = np.repeat(x, 2, axis=0)
    modulation = np.zeros(len(inputs))
    modulation[::2] = x[:, reward_col]
    traj = simulate(net, inputs, modulation=modulation)
    for grad in (False, True):  # the dense form (agents) and the spike-history form (training)
        with torch.set_grad_enabled(grad):
            state = pol.initial_state(1)
            spikes = []
            for t in range(len(x)):
                _, _, state = pol.step(torch.as_tensor(x[t:t + 1]), state)
                spikes.append(state.s[0].detach().numpy().copy())
            dw = pol.weight_change(state)[0].detach().numpy()
        assert isinstance(state.plastic, SpikeHistory if grad else DenseTrace)  # the form initial_state picks
        assert np.abs(dw).sum() > 0  # the weights did change
        assert np.array_equal(traj.spikes.reshape(10, 2, -1)[:, -1, :], np.array(spikes).astype(bool))
        assert np.allclose(traj.w_rec - net.w_rec, dw, atol=1e-9)


@pytest.mark.parametrize("neuron,rank", [("cuba-lif", 0), ("alif", 0), ("cuba-lif", 2)])
def test_plastic_forms_agree_in_outputs_and_gradients(neuron, rank):
    """The spike-history form of the plasticity state (used with gradients) computes the same
    logits, values and parameter gradients as the dense per-synapse form, also when some
    lanes skip decisions (select_state)."""
    from gymnasium import spaces

    from metaplastic.spiking.snn_policy import SpikingActorCritic

    torch.manual_seed(0)
    pol = SpikingActorCritic(6, spaces.Discrete(3), neurons=12, substeps=2, plastic=True, reward_index=4,
                             neuron=neuron, slope=5.0, plastic_rank=rank).double()
    with torch.no_grad():
        for p in ([pol.lr_post, pol.lr_pre] if rank else [pol.lr_rec]):
            p.normal_(0.0, 0.5 if not rank else 0.8)
        pol.w_rec.weight.mul_(4.0)
    x = torch.randn(8, 5, 6, dtype=torch.float64) * 2.0
    decide = torch.rand(8, 5) > 0.3

    def run(history: bool):
        pol.zero_grad()
        with torch.set_grad_enabled(history):  # the form initial_state picks
            state = pol.initial_state(5)
        out = 0.0
        for t in range(8):
            logits, value, new = pol.step(x[t], state)
            state = pol.select_state(decide[t], new, state)
            out = out + (logits.sin() * decide[t, :, None]).sum() + value.cos().sum()
        out.backward()
        return out.item(), {k: p.grad.clone() for k, p in pol.named_parameters() if p.grad is not None}, \
            pol.weight_change(state).detach()

    dense, history = run(False), run(True)
    assert dense[0] == pytest.approx(history[0], rel=1e-10)
    assert torch.allclose(dense[2], history[2], atol=1e-10) and dense[2].abs().sum() > 0
    assert set(dense[1]) == set(history[1]) and dense[1]["lr_post" if rank else "lr_rec"].abs().sum() > 0
    for k in dense[1]:
        assert torch.allclose(dense[1][k], history[1][k], rtol=1e-8, atol=1e-10), k


def test_plasticity_updates_are_counted():
    tasks = metaplastic.make_tasks("bandits:k=3,n=4")
    plain = metaplastic.evaluate(metaplastic.make("snntorch", hidden=8), tasks, n_tasks=2, seed=0).ops
    plastic = metaplastic.evaluate(metaplastic.make("snntorch", algo="rl2-plastic", hidden=8), tasks, n_tasks=2, seed=0).ops
    assert plain.synaptic_updates == 0
    assert plastic.synaptic_updates == plastic.decisions * 8 * 8


@pytest.mark.parametrize("algo", ["rl2", "rl2-plastic"])
def test_meta_training_twice_in_one_process_continues(algo):
    """The warm-up of a timed budget copies the policy; the copy must not trip over the last
    rollout's graph (a second meta_train call used to fail with 'Only Tensors created
    explicitly by the user ... support the deepcopy protocol')."""
    tasks = metaplastic.make_tasks("bandits:k=2,n=3")
    learner = metaplastic.make("snntorch", algo=algo, hidden=8, batch_tasks=4, plastic_rank=2)
    first = learner.meta_train(tasks, budget="1s", seed=0, show_progress=False)
    assert first.progress.updates >= 1
    second = learner.meta_train(tasks, budget="1s", seed=1, show_progress=False)
    assert second.progress.updates >= 1
