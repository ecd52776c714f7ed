"""SpikingNet: validation, read-only copies, npz files; the reference simulator against
steps of the equations computed by hand."""

import dataclasses

import numpy as np
import pytest

from metaplastic.errors import ConfigError, RunDirError
from metaplastic.spiking import Plasticity, SpikingNet, simulate


def small(**kw) -> SpikingNet:
    """Two neurons, two inputs, one readout unit."""
    return SpikingNet(**{"w_in": [[1.0, 0.5], [0.0, 2.0]], "w_out": [[1.0, -1.0]], "du": 0.5, "dv": 0.25, **kw})


def one(**kw) -> SpikingNet:
    """One neuron fed by one input with weight 1."""
    return SpikingNet(**{"w_in": [[1.0]], "w_out": [[1.0]], **kw})


# --- the spec


def test_scalars_broadcast_and_defaults():
    net = small(vth=2.0, bias=0.1)
    assert net.vth.tolist() == [2.0, 2.0] and net.bias.shape == (2,)
    assert net.w_rec.shape == (2, 2) and not net.w_rec.any()
    assert net.b_out.tolist() == [0.0] and net.readout_decay.tolist() == [1.0, 1.0]
    assert (net.n_inputs, net.n_neurons, net.n_outputs) == (2, 2, 1)
    assert net.plasticity.lr_in.shape == (2, 2) and not net.plasticity.enabled
    assert net.w_in.dtype == np.float64


@pytest.mark.parametrize("kw, match", [
    ({"neuron": "izhikevich"}, "neuron must be one of 'cuba-lif', 'alif'"),
    ({"w_in": [1.0, 2.0]}, r"w_in must be a non-empty 2-D array \(neurons, inputs\)"),
    ({"w_in": [["a"]]}, "w_in must hold real numbers"),
    ({"w_in": [[True]]}, "w_in must hold real numbers"),
    ({"w_out": [[1.0, 2.0, 3.0]]}, r"w_out must have shape \(A, 2\)"),
    ({"w_rec": np.ones((3, 3))}, r"w_rec must have shape \(2, 2\)"),
    ({"du": 1.5}, r"du must be in \[0, 1\] \(a decay per time step\), got 1.5"),
    ({"dv": [0.5, -0.1]}, r"dv must be in \[0, 1\].*at index \(1,\)"),
    ({"dv": [0.5, 0.5, 0.5]}, r"dv must have shape \(2,\)"),
    ({"vth": 0.0}, "vth must be > 0"),
    ({"bias": [np.nan, 0.0]}, r"bias must be finite, got nan at index \(0,\)"),
    ({"dtheta": 0.1}, "dtheta is used by neuron='alif' only"),
    ({"neuron": "alif", "theta_step": -1.0}, "theta_step must be >= 0"),
    ({"neuron": "alif", "dr": 2.0}, r"dr must be in \[0, 1\]"),
    ({"readout_decay": 2.0}, r"readout_decay must be in \[0, 1\]"),
    ({"readout_decay": [0.5]}, r"readout_decay must have shape \(2,\) \(one value per neuron\)"),
    ({"b_out": [1.0, 2.0]}, r"b_out must have shape \(1,\)"),
    ({"dt": 0.0}, "dt must be > 0 seconds"),
    ({"dt": True}, "dt must be a number"),
    ({"dt": float("inf")}, "dt must be finite"),
    ({"substeps": 0}, "substeps must be >= 1"),
    ({"substeps": 1.5}, "substeps must be an integer"),
    ({"encoding": "rate"}, "encoding must be one of 'current'"),
    ({"plasticity": {"lr_in": 1.0}}, "plasticity must be a Plasticity or None"),
    ({"plasticity": Plasticity(lr_in=np.ones((3, 3)))}, r"lr_in must have shape \(2, 2\)"),
])
def test_invalid_fields_raise_one_line_config_errors(kw, match):
    with pytest.raises(ConfigError, match=match) as e:
        small(**kw)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("kw, match", [
    ({"trace_decay": 2.0}, r"trace_decay must be in \[0, 1\]"),
    ({"baseline_decay": "0.1"}, "baseline_decay must be a number"),
    ({"modulator": "dopamine"}, "modulator must be one of 'reward', 'rpe'"),
    ({"lr_rec": [1.0, 2.0]}, "lr_rec must be a scalar or a 2-D array"),
])
def test_invalid_plasticity(kw, match):
    with pytest.raises(ConfigError, match=match):
        Plasticity(**kw)


def test_arrays_are_read_only_copies():
    w_in = np.array([[1.0, 0.5], [0.0, 2.0]])
    net = small(w_in=w_in)
    w_in[0, 0] = 99.0
    assert net.w_in[0, 0] == 1.0
    for a in (net.w_in, net.w_rec, net.du, net.readout_decay, net.plasticity.lr_rec):
        with pytest.raises(ValueError, match="read-only"):
            a[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.dt = 1.0


def test_equality_compares_arrays_exactly():
    assert small() == small()
    assert small() != small(bias=[0.0, 1e-300])
    assert small() != small(plasticity=Plasticity(trace_decay=0.5))
    assert small() != "a net"
    with pytest.raises(TypeError):
        hash(small())


def test_modulation():
    assert Plasticity().modulation([1.0, -2.0]).tolist() == [1.0, -2.0]
    rpe = Plasticity(modulator="rpe", baseline_decay=0.5)
    assert rpe.modulation([2.0, 2.0, 2.0]).tolist() == [2.0, 1.0, 0.5]


# --- npz files


@pytest.mark.parametrize("neuron", ["cuba-lif", "alif"])
def test_npz_round_trip_is_exact(tmp_path, make_net, neuron):
    net = make_net(neuron, seed=3)
    net.save(tmp_path / "net")                      # no suffix added
    back = SpikingNet.load(tmp_path / "net")
    assert back == net
    assert back.dt == net.dt and back.substeps == net.substeps and back.plasticity.modulator == "rpe"
    assert not back.w_in.flags.writeable


def _expect_load_error(path, match):
    with pytest.raises(RunDirError, match=match) as e:
        SpikingNet.load(path)
    assert "\n" not in str(e.value)


def test_load_errors_are_one_line(tmp_path):
    _expect_load_error(tmp_path / "missing.npz", "no such file")
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 not really a zip")
    _expect_load_error(tmp_path / "corrupt.npz", "not a readable SpikingNet npz")
    (tmp_path / "text.npz").write_text("hello")
    _expect_load_error(tmp_path / "text.npz", "not a readable SpikingNet npz")
    np.save(tmp_path / "array.npy", np.ones(3))
    _expect_load_error(tmp_path / "array.npy", "not an .npz archive")
    np.savez(tmp_path / "foreign.npz", weights=np.ones(3))
    _expect_load_error(tmp_path / "foreign.npz", r"not a SpikingNet: missing \['b_out'")
    np.savez(tmp_path / "pickled.npz", **{**small().to_arrays(), "w_in": np.array([object()])})
    _expect_load_error(tmp_path / "pickled.npz", "not a readable SpikingNet npz")


def test_load_rejects_foreign_format_newer_version_and_bad_values(tmp_path):
    arrays = small().to_arrays()
    np.savez(tmp_path / "other.npz", **{**arrays, "format": np.array("someone.Else")})
    _expect_load_error(tmp_path / "other.npz", "format is 'someone.Else'")
    np.savez(tmp_path / "newer.npz", **{**arrays, "version": np.array(99)})
    _expect_load_error(tmp_path / "newer.npz", "newer than this metaplastic reads")
    np.savez(tmp_path / "bad.npz", **{**arrays, "du": np.array([0.5, 7.0])})
    _expect_load_error(tmp_path / "bad.npz", r"bad.npz: SpikingNet: du must be in \[0, 1\]")


@pytest.mark.parametrize("field, match", [
    ("encoding", r"encoding must be one of 'current', got an array of shape \(2, 1\) and dtype float64"),
    ("dt", r"dt must be a number, got an array of shape \(2, 1\) and dtype float64"),
    ("substeps", r"substeps must be an integer, got an array of shape \(2, 1\) and dtype float64"),
    ("neuron", r"neuron must be one of .*, got an array of shape \(2, 1\)"),
    ("version", r"version must be an integer, got an array of shape \(2, 1\)"),
])
def test_array_where_a_scalar_belongs_is_one_line(tmp_path, field, match):
    np.savez(tmp_path / "net.npz", **{**small().to_arrays(), field: np.zeros((2, 1))})
    _expect_load_error(tmp_path / "net.npz", match)


@pytest.mark.parametrize("offset, value, why", [(6, 64, "NotImplementedError: zip file version 6.4"),
                                               (8, 1, "RuntimeError: File .* is encrypted")])
def test_zip_entries_python_cannot_extract_are_one_line(tmp_path, offset, value, why):
    path = tmp_path / "net.npz"
    small().save(path)
    data = bytearray(path.read_bytes())
    data[data.find(b"PK\x01\x02") + offset] = value  # the central directory's first entry
    path.write_bytes(bytes(data))
    _expect_load_error(path, f"not a readable SpikingNet npz \\({why}")


def test_odd_names_and_keys_stay_on_one_line(tmp_path):
    _expect_load_error(tmp_path / "two\nlines.npz", r"'.*two\\nlines.npz': no such file")
    arrays = {**small().to_arrays(), 1: np.zeros(1), "x": np.zeros(1)}  # keys of mixed types
    with pytest.raises(ConfigError, match=r"unexpected \['x', 1\]"):
        SpikingNet.from_arrays(arrays)
    with pytest.raises(ConfigError, match=r"encoding must be one of 'current', got 'a\\nb'") as e:
        dataclasses.replace(small(), encoding="a\nb")
    assert "\n" not in str(e.value)


# --- the reference simulator, step by step


def test_cuba_lif_delay_strict_threshold_and_reset_to_zero():
    # x[0] = 2 arrives at t=1 (Dense delay): u=2, v=2 > 1 spikes and resets to 0;
    # t=2: u=1, v=0*0.5+1 = 1 is not > 1; t=3: u=0.5, v=0.5+0.5 = 1; t=4: u=.25, v=.75
    tr = simulate(one(du=0.5, dv=0.5, vth=1.0), [[2.0], [0.0], [0.0], [0.0], [0.0]])
    assert tr.spikes[:, 0].tolist() == [False, True, False, False, False]
    assert tr.current[:, 0].tolist() == [0.0, 2.0, 1.0, 0.5, 0.25]
    assert tr.voltage[:, 0].tolist() == [0.0, 0.0, 1.0, 1.0, 0.75]
    assert tr.threshold[:, 0].tolist() == [1.0] * 5 and not tr.refractory.any()


def test_bias_and_recurrent_delay():
    # neuron 0 is driven by the bias only: v = 0.5*v + 0.6 -> 0.6, 0.9, 1.05 (spike at t=2);
    # its spike reaches neuron 1 through w_rec one step later, at t=3
    net = SpikingNet(w_in=[[0.0], [0.0]], w_rec=[[0.0, 0.0], [3.0, 0.0]], w_out=[[1.0, 1.0]],
                     du=1.0, dv=[0.5, 1.0], bias=[0.6, 0.0])
    tr = simulate(net, np.zeros((5, 1)))
    assert tr.voltage[:3, 0] == pytest.approx([0.6, 0.9, 0.0])
    assert tr.spikes[:, 0].tolist() == [False, False, True, False, False]
    assert tr.spikes[:, 1].tolist() == [False, False, False, True, False]


def test_alif_threshold_adaptation_and_refractoriness():
    # constant drive v = 2 from t=1; θ relaxes to θ0 = 1 at rate 0.5, r decays at 0.5.
    # t=1: θ=1, r=0: 2 >= 1 spikes -> r = 0 + 2*1 = 2, θ = 1 + 1 = 2
    # t=2: θ = 0.5*(2-1)+1 = 1.5, r = 1: 2-1 = 1 < 1.5
    # t=3: θ = 1.25, r = 0.5: 1.5 >= 1.25 spikes -> r = 0.5 + 2.5 = 3, θ = 2.25
    # t=4: θ = 1.625, r = 1.5: 0.5 < 1.625
    net = one(neuron="alif", du=1.0, dv=1.0, vth=1.0, dtheta=0.5, theta_step=1.0, dr=0.5)
    tr = simulate(net, [[2.0]] * 5)
    assert tr.spikes[:, 0].tolist() == [False, True, False, True, False]
    assert tr.threshold[:, 0].tolist() == [1.0, 2.0, 1.5, 2.25, 1.625]
    assert tr.refractory[:, 0].tolist() == [0.0, 2.0, 1.0, 3.0, 1.5]
    assert tr.voltage[:, 0].tolist() == [0.0, 2.0, 2.0, 2.0, 2.0]     # alif never resets v
    lif = simulate(one(du=1.0, dv=1.0, vth=1.0), [[2.0]] * 5)
    assert lif.spikes[1:, 0].all()                                     # no adaptation


def test_alif_fires_at_equality_cuba_lif_does_not():
    x = [[1.0]] * 3      # v = 1 = threshold from t=1
    assert simulate(one(neuron="alif", du=1.0, dv=1.0), x).spikes[1, 0]
    assert not simulate(one(du=1.0, dv=1.0), x).spikes[1, 0]


def test_leaky_readout():
    # z = 0.5*z + s with s = [0, 1, 0, 0]; y = [2, -1] * z + [0.5, 0]
    net = one(du=1.0, dv=1.0, w_out=[[2.0], [-1.0]], b_out=[0.5, 0.0], readout_decay=0.5)
    tr = simulate(net, [[2.0], [0.0], [0.0], [0.0]])
    assert tr.trace[:, 0].tolist() == [0.0, 1.0, 0.5, 0.25]
    assert tr.readout.tolist() == [[0.5, 0.0], [2.5, -1.0], [1.5, -0.5], [1.0, -0.25]]


def test_three_factor_plasticity():
    # the spike at t=1 coincides with x[0] = 2 arriving: E_in[1] = 2; m[1] = 1 -> w_in += 0.1*2
    net = one(du=1.0, dv=1.0, plasticity=Plasticity(lr_in=0.1, trace_decay=1.0))
    x = np.array([[2.0], [0.0], [0.0]])
    tr = simulate(net, x, modulation=[0.0, 1.0, 0.0])
    assert tr.w_in[0, 0] == pytest.approx(1.2) and not tr.w_rec.any()
    assert simulate(net, x).w_in[0, 0] == 1.0      # no third factor, no change
    assert x[:, 0].tolist() == [2.0, 0.0, 0.0] and net.w_in[0, 0] == 1.0


@pytest.mark.parametrize("inputs, modulation, match", [
    ([[1.0, 2.0]], None, r"inputs must have shape \(T, 1\)"),
    ([[np.inf]], None, "inputs must be finite"),
    ([["x"]], None, "inputs must be an array of numbers"),
    ([[1.0]], [1.0, 2.0], r"modulation must have shape \(1,\)"),
])
def test_simulate_rejects_bad_inputs(inputs, modulation, match):
    with pytest.raises(ConfigError, match=match):
        simulate(one(du=1.0, dv=1.0), inputs, modulation=modulation)
