"""Neuron types as data: the registry, its lookup, and every runtime covering every type.

A neuron type registered in :data:`NEURON_TYPES` without its update in each runtime fails
here; so does a runtime update that disagrees with the reference simulator."""

import numpy as np
import pytest

from metaplastic.errors import ConfigError
from metaplastic.spiking import NEURONS, SpikingNet, simulate
from metaplastic.spiking import kernels as K
from metaplastic.spiking.event_runtime import EventDrivenLanes
from metaplastic.spiking.neurons import NEURON_TYPES, NeuronType, neuron_type
from metaplastic.spiking.reference import NEURON_STEPS as REFERENCE_STEPS

TYPES = list(NEURON_TYPES.values())
IDS = list(NEURON_TYPES)


def test_unknown_name_is_a_one_line_config_error_listing_the_known_names():
    with pytest.raises(ConfigError) as e:
        neuron_type("izhikevich")
    msg = str(e.value)
    assert "\n" not in msg and "'izhikevich'" in msg
    assert all(repr(name) in msg for name in NEURON_TYPES)
    with pytest.raises(ConfigError):
        neuron_type(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("t", TYPES, ids=IDS)
def test_each_type_round_trips_its_name(t):
    assert isinstance(t, NeuronType)
    assert neuron_type(t.name) is t and NEURON_TYPES[t.name] is t and str(t) == t.name
    assert type(t)() == t and hash(type(t)()) == hash(t)  # a fresh instance keys the same registry entry
    assert t.state[:2] == ("u", "v") and len(set(t.state)) == len(t.state)
    assert set(t.params) <= {f.name for f in SpikingNet.__dataclass_fields__.values()}
    assert t.__doc__ and "s[t]" in t.__doc__  # the equations are in the docstring


def test_public_names_are_unchanged():
    assert NEURONS == ("cuba-lif", "alif") == tuple(NEURON_TYPES)


def test_types_are_frozen():
    t = TYPES[0]
    with pytest.raises(AttributeError):
        t.name = "other"  # type: ignore[misc]


def test_every_runtime_registry_covers_every_registered_type():
    registered = set(TYPES)
    assert set(REFERENCE_STEPS) == registered
    assert set(K.NEURON_STEPS) == registered
    assert sorted(K.NEURON_CODES.values()) == list(range(len(registered))) and set(K.NEURON_CODES) == registered
    for t in TYPES:
        assert set(t.params) <= set(K.PARAM_ROWS)
    torch_neurons = pytest.importorskip("metaplastic.spiking.torch_neurons",
                                        reason="the snntorch runtime needs the 'snn' extra", exc_type=ImportError)
    assert set(torch_neurons.TORCH_NEURONS) == registered
    for t, cls in torch_neurons.TORCH_NEURONS.items():
        assert cls.type == t
        assert {p.field for p in cls.learned} <= set(t.params)


def test_kernel_rows_match_their_indices():
    names = ("du", "dv", "vth", "bias", "dtheta", "theta_step", "dr", "readout_decay")
    assert [K.PARAM_ROWS.index(n) for n in names] == [K.DU, K.DV, K.VTH, K.BIAS, K.DTHETA, K.THETA_STEP, K.DR,
                                                      K.READOUT_DECAY]


def test_a_net_gives_its_type_and_refuses_an_unknown_one():
    for t in TYPES:
        assert SpikingNet(neuron=t.name, w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1).neuron_type is t
    with pytest.raises(ConfigError, match="neuron must be one of 'cuba-lif', 'alif'"):
        SpikingNet(neuron="izhikevich", w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1)


def _net(t: NeuronType, seed: int = 3, n: int = 16, i: int = 4) -> SpikingNet:
    """A net of type ``t`` that the snntorch policy can run (one vth, no bias, no input plasticity)."""
    rng = np.random.default_rng(seed)
    extra = {name: rng.uniform(0.05, 0.5, n) for name in t.params if name not in ("du", "dv", "vth", "bias")}
    return SpikingNet(neuron=t.name, w_in=rng.normal(0, 1.5, (n, i)), w_rec=rng.normal(0, 0.5, (n, n)),
                      w_out=rng.normal(size=(3, n)), b_out=rng.normal(size=3), du=rng.uniform(0.1, 0.9, n),
                      dv=rng.uniform(0.1, 0.9, n), readout_decay=rng.uniform(0.1, 0.9, n), substeps=2, **extra)


@pytest.mark.parametrize("t", TYPES, ids=IDS)
def test_numba_kernels_step_each_type_as_the_reference(t):
    net = _net(t)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1.5, (40, net.n_inputs))
    lanes = EventDrivenLanes(net, 1)
    voltage = []
    for k in range(len(x)):
        lanes.decide(x[k:k + 1], np.zeros(1), np.ones(1, bool))
        voltage.append(lanes.voltage[0].copy())
    ref = simulate(net, np.repeat(x, net.substeps, axis=0))
    assert 0.02 < ref.spikes.mean() < 0.9
    np.testing.assert_allclose(np.array(voltage), ref.voltage[net.substeps - 1::net.substeps], atol=1e-4)
    assert lanes.ops().spikes == ref.spikes.sum()


@pytest.mark.parametrize("t", TYPES, ids=IDS)
def test_snntorch_steps_each_type_as_the_reference(t):
    torch = pytest.importorskip("torch", reason="the snntorch runtime needs the 'snn' extra")
    pytest.importorskip("snntorch", reason="the snntorch runtime needs the 'snn' extra")
    from gymnasium import spaces

    from metaplastic.spiking.snn_policy import SpikingActorCritic

    net = _net(t)
    pol = SpikingActorCritic.from_spiking_net(net, spaces.Discrete(3)).double()
    assert pol.neuron_type is t
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1.5, (30, net.n_inputs))
    state = pol.initial_state(1)
    assert state.neuron._fields == t.state and state.plastic is None
    spikes = []
    with torch.no_grad():
        for k in range(len(x)):
            _, _, state = pol.step(torch.as_tensor(x[k:k + 1]), state)
            spikes.append(state.s[0].numpy().copy())
    ref = simulate(net, np.repeat(x, net.substeps, axis=0))
    assert ref.spikes.sum() > 0
    assert np.array_equal(ref.spikes[net.substeps - 1::net.substeps], np.array(spikes).astype(bool))
