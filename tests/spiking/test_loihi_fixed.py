"""Loihi 2 fixed-point quantization and the bit-exact numpy simulator of Lava's fixed_pt
models: bit widths and error bounds of quantize, the integer arithmetic by hand, and
agreement with the float reference. (The bit-for-bit comparison with Lava itself needs the
Lava runtime and lives with the Lava backend's tests.)"""

import dataclasses

import numpy as np
import pytest

from metaplastic.errors import ConfigError
from metaplastic.spiking import Plasticity, SpikingNet, simulate
from metaplastic.spiking.loihi_fixed import (
    ATRLIF_KWARGS,
    LIF_KWARGS,
    LoihiFixedNet,
    encode_inputs,
    quantize,
    simulate_fixed,
)

NEURONS = ("cuba-lif", "alif")


def moderate(neuron: str, seed: int, n: int = 32, i: int = 6, **kw) -> SpikingNet:
    """A random net of moderate size: mixed-sign weights, recurrent ones ~ 1/sqrt(N),
    per-neuron decays, thresholds, biases (and adaptation)."""
    rng = np.random.default_rng(seed)
    alif = neuron == "alif"
    fields = dict(neuron=neuron, w_in=rng.normal(0, 1, (n, i)), w_rec=rng.normal(0, 1 / np.sqrt(n), (n, n)),
                  w_out=np.ones((1, n)), du=rng.uniform(0.05, 1, n), dv=rng.uniform(0.05, 1, n),
                  vth=rng.uniform(0.5, 1.5, n), bias=rng.normal(0, 0.1, n),
                  dtheta=rng.uniform(0.05, 1, n) if alif else 0.0,
                  theta_step=rng.uniform(0, 0.5, n) if alif else 0.0, dr=rng.uniform(0.05, 1, n) if alif else 0.0)
    return SpikingNet(**{**fields, **kw})


def lava_dense_weights(w: np.ndarray) -> np.ndarray:
    """What Lava's PyDenseModelBitAcc makes of integer weights: clip to 8 bits, then (mixed
    signs) truncate the lowest bit, in the sign mode it determines from the weights."""
    w = w.astype(np.int64)
    if w.min() >= 0:
        return np.clip(w, 0, 255)
    if w.max() <= 0:
        return -np.clip(-w, 0, 255)
    return (np.clip(w, -256, 255) >> 1) << 1


def one_line_error(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text and text
    return text


# --- quantize: bit widths and error bounds


@pytest.mark.parametrize("neuron", NEURONS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weights_round_trip_within_one_step(neuron, seed):
    net = moderate(neuron, seed)
    q = quantize(net)
    eff = q.effective()
    assert q.w_in.dtype == np.int32 and q.w_rec.dtype == np.int32
    tops = []
    for name, w, gain_exp in (("w_in", net.w_in, q.w_in_exp + q.x_shift), ("w_rec", net.w_rec, q.w_rec_exp)):
        m = getattr(q, name)
        np.testing.assert_array_equal(lava_dense_weights(m), m)  # Lava's Dense keeps them as they are
        mixed = w.min() < 0 < w.max()
        step = (2 if mixed else 1) * 2.0 ** gain_exp * 64 / q.scale  # a.u. per mantissa step
        assert np.abs(eff[name] - w).max() <= step / 2 * (1 + 1e-9)
        assert np.abs(m).max() > 128  # the largest weight uses the top bit of the 8-bit mantissa
        assert q.errors[name] <= 1 / 128
        tops.append(m.max() == 254 or m.min() == -256)
    assert any(tops)  # the scale puts one matrix's largest weight exactly at the top
    assert q.errors["clipped"] == 0


def test_single_sign_matrices_use_the_excitatory_and_inhibitory_ranges():
    rng = np.random.default_rng(3)
    net = SpikingNet(w_in=rng.uniform(0, 1, (8, 3)), w_rec=-rng.uniform(0, 1, (8, 8)), w_out=np.ones((1, 8)),
                     du=0.5, dv=0.5)
    q = quantize(net)
    assert q.w_in.min() >= 0 and q.w_in.max() <= 255 and np.any(q.w_in % 2)
    assert q.w_rec.max() <= 0 and q.w_rec.min() >= -255
    np.testing.assert_array_equal(lava_dense_weights(q.w_in), q.w_in)
    np.testing.assert_array_equal(lava_dense_weights(q.w_rec), q.w_rec)


@pytest.mark.parametrize("neuron", NEURONS)
def test_decays_within_one_4096th(neuron):
    n = 64
    d = np.linspace(0, 1, n)
    kw = {"dtheta": d[::-1], "dr": d, "theta_step": 0.25} if neuron == "alif" else {}
    q = quantize(moderate(neuron, 4, n=n, du=d, dv=d[::-1], **kw))
    eff = q.effective()
    for name in ("du", "dv", *(("dtheta", "dr") if neuron == "alif" else ())):
        target = getattr(moderate(neuron, 4, n=n, du=d, dv=d[::-1], **kw), name)
        assert np.abs(eff[name] - target).max() <= 1 / 4096 + 1e-15
        assert q.errors[name] <= 1 / 4096 + 1e-15
    if neuron == "cuba-lif":
        for name in ("du", "dv"):
            assert q.process[name].min() >= 0 and q.process[name].max() <= 4095
        assert q.process["du"][0] == 0 and q.process["du"][-1] == 4095   # du 0 -> 0 (+1 offset), 1 -> 4095
        assert q.process["dv"][0] == 4095 and q.process["dv"][-1] == 0   # dv 1 -> 4095, 0 -> 0
    else:  # ATRLIF takes fractions: exact multiples of 1/4096 within 12 bits
        for name in ("delta_i", "delta_v", "delta_theta", "delta_r"):
            k = q.process[name] * 4096
            np.testing.assert_array_equal(k, np.rint(k))
            assert k.min() >= 0 and k.max() <= 4095


@pytest.mark.parametrize("neuron", NEURONS)
def test_threshold_and_bias_bounds(neuron):
    q = quantize(moderate(neuron, 5, bias=np.linspace(-0.6, 0.6, 32)))
    net = moderate(neuron, 5)
    vth_int = q.process["vth" if neuron == "cuba-lif" else "theta_0"]
    assert vth_int.min() >= 16 and vth_int.max() <= 4095 < 2**17
    assert q.errors["vth"] <= 0.5 / vth_int.min()
    np.testing.assert_allclose(q.effective()["vth"], net.vth, rtol=0.5 / vth_int.min(), atol=0)
    mant, exp = q.process["bias_mant"], q.process["bias_exp"]
    assert np.abs(mant).max() <= 4095 and exp.min() >= 0 and exp.max() <= 7
    bias_err = np.abs(q.effective()["bias"] - np.linspace(-0.6, 0.6, 32))
    assert np.all(bias_err <= 2.0 ** (exp - 1) / q.scale * (1 + 1e-9))
    # the state stays within 24 bits: thresholds sit at most at 2**18 state units
    assert (vth_int.max() << 6) <= 2**18
    if neuron == "alif":
        assert q.errors["theta_step"] <= 0.5 * 64 / q.scale / net.vth.min()


def test_a_large_bias_uses_the_exponent():
    q = quantize(SpikingNet(w_in=[[0.01]], w_out=[[1.0]], du=0.5, dv=0.5, vth=1.0, bias=[0.5]))
    assert q.process["bias_exp"][0] > 0 and abs(q.process["bias_mant"][0]) <= 4095
    assert abs(q.effective()["bias"][0] - 0.5) <= 2.0 ** (q.process["bias_exp"][0] - 1) / q.scale * (1 + 1e-9)


def test_input_encoding_and_gain():
    q = quantize(moderate("cuba-lif", 6))
    assert q.x_shift == 12 and isinstance(q.w_in_exp, int) and isinstance(q.w_rec_exp, int)
    x = np.array([[1.0, -0.5, 0.25, 2.0**-12, 3.0, 0.0]])
    np.testing.assert_array_equal(encode_inputs(q, x), [[4096, -2048, 1024, 1, 12288, 0]])
    assert encode_inputs(q, x).dtype == np.int32
    # a_in in integer units is w_in @ x * scale / 64, up to the weights' rounding and the floor
    xi = encode_inputs(q, x)[0]
    a = (q.w_in.astype(np.int64) @ xi) >> -q.w_in_exp
    np.testing.assert_allclose(a, q.effective()["w_in"] @ x[0] * q.scale / 64, atol=1.0)
    assert quantize(moderate("cuba-lif", 6), x_shift=8).x_shift == 8
    small = SpikingNet(w_in=[[1e-3]], w_out=[[1.0]], du=0.5, dv=0.5)
    assert quantize(small, x_max=2.0**14).x_shift == 8  # 2**14 * 2**9 would just miss 24-bit messages


# --- quantize: what cannot be represented


@pytest.mark.parametrize("make, match", [
    (lambda: quantize(SpikingNet(w_in=[[1.0, 1.0]], w_out=[[1.0]], du=1, dv=1, vth=[1e-4]), x_max=1e3),
     r"vth 0.0001 of neuron 0 would get 0 integer steps \(needs >= 16\).*every neuron spiking.*shrink the weights"),
    (lambda: quantize(SpikingNet(w_in=[[1.0], [1.0]], w_out=[[1.0, 1.0]], du=1, dv=1, vth=[1e3, 1e-3])),
     r"vth 0.001 of neuron 1 would get .* the largest vth .*more uniform"),
    (lambda: quantize(SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1, vth=1e-3, bias=1e3)),
     r"the largest \|bias\| .*shrink the largest \|bias\|"),
    (lambda: quantize(SpikingNet(neuron="alif", w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1, vth=1e-3, theta_step=1e3)),
     r"the largest theta_step .*shrink the largest theta_step"),
    (lambda: quantize(moderate("cuba-lif", 0, plasticity=Plasticity(lr_rec=0.1))),
     r"plastic SpikingNet .*plasticity=None"),
    (lambda: quantize(moderate("cuba-lif", 0), x_shift=30), r"x_shift must be in \[0, \d+\]"),
    (lambda: quantize(moderate("cuba-lif", 0), x_max=-1.0), r"x_max must be a positive finite number"),
    (lambda: quantize("net"), r"expected a SpikingNet, got str"),
    (lambda: encode_inputs(quantize(moderate("cuba-lif", 0)), [[1e4] * 6]), r"does not fit a 24-bit message"),
    (lambda: encode_inputs(quantize(moderate("cuba-lif", 0)), [[np.nan] * 6]), r"x must be finite"),
])
def test_unrepresentable_is_a_one_line_config_error(make, match):
    with pytest.raises(ConfigError, match=match) as e:
        make()
    one_line_error(e)


def test_malformed_fixed_net_and_inputs_are_config_errors():
    q = quantize(moderate("cuba-lif", 0, n=4))
    good = {f.name: getattr(q, f.name) for f in dataclasses.fields(q)}
    for bad, match in [({"neuron": "izhikevich"}, "neuron must be"),
                       ({"w_in": q.w_in.astype(float)}, "w_in must be a 2-D array of integer"),
                       ({"w_rec": q.w_rec[:2]}, r"w_rec must have shape \(4, 4\)"),
                       ({"process": {**q.process, "vth": q.process["vth"][:2]}}, r"process\['vth'\] must be a \(4,\)"),
                       ({"process": {"du": q.process["du"]}}, "process must hold exactly du, dv, vth"),
                       ({"w_in_exp": 1.5}, "w_in_exp must be an integer")]:
        with pytest.raises(ConfigError, match=match) as e:
            LoihiFixedNet(**{**good, **bad})
        one_line_error(e)
    for xs, match in [(np.zeros((3, 5), int), r"shape \(T, 6\)"), (np.full((3, 6), 0.5), "must hold integers"),
                      (np.full((3, 6), 2**23), "24-bit")]:
        with pytest.raises(ConfigError, match=match) as e:
            simulate_fixed(q, xs)
        one_line_error(e)


# --- the integer arithmetic, by hand


def fixed_net(neuron="cuba-lif", **process) -> LoihiFixedNet:
    """One neuron, one input with mantissa 1 and exponent 0, x_shift 0, scale 1."""
    base = ({"du": [4095], "dv": [4095], "vth": [1000], "bias_mant": [0], "bias_exp": [0]} if neuron == "cuba-lif"
            else {"delta_i": [4095 / 4096], "delta_v": [4095 / 4096], "delta_theta": [0.0], "delta_r": [0.0],
                  "theta_0": [1000], "theta_step": [0], "bias_mant": [0], "bias_exp": [0]})
    p = {k: np.array(v) for k, v in {**base, **process}.items()}
    return LoihiFixedNet(neuron=neuron, w_in=[[1]], w_rec=[[0]], w_in_exp=0, w_rec_exp=0, x_shift=0, process=p,
                         scale=1.0, errors={})


def test_lif_decays_round_toward_zero_and_inputs_shift_by_6():
    q = fixed_net(du=[1000], dv=[0], vth=[2**16])
    s, st = simulate_fixed(q, [[-3], [0], [0]], states=True)
    u1 = -3 * 64                                  # delivered one step late, << 6
    u2 = -((-u1 * (4096 - 1001)) >> 12)           # toward zero: -145.1 -> -145 (floor would give -146)
    assert st["u"][:, 0].tolist() == [0, u1, u2] and u2 == -145
    assert st["v"][:, 0].tolist() == [0, u1, u1 + u2]  # dv = 0: no leak
    assert not s.any()


def test_lif_threshold_bias_reset_wrap_and_clip():
    q = fixed_net(vth=[10], bias_mant=[3], bias_exp=[2])        # bias 3 << 2 = 12; vth 10 << 6 = 640
    s, st = simulate_fixed(q, [[10]] + [[0]] * 3, states=True)
    assert s[:, 0].tolist() == [False, True, False, False]      # v = 640 + 12 > 640 at step 1, reset to 0
    assert st["v"][:, 0].tolist() == [12, 0, 12, 12]            # dv = 4095 keeps 1/4096 of v: trunc -> 0
    q = fixed_net(vth=[2**17 - 1])
    s, st = simulate_fixed(q, [[2**17 + 5], [0]], states=True)
    assert st["u"][1, 0] == 2**23 + 320 - 2**24                # u wraps around at 24 bits
    q = fixed_net(vth=[2**17 - 1], du=[0], dv=[0])
    _, st = simulate_fixed(q, [[-(2**16)], [-(2**16)], [0], [0]], states=True)
    assert st["v"][:, 0].min() == -(2**23) + 1                  # v clips at 24 bits


def test_atrlif_arithmetic():
    q = fixed_net("alif", delta_i=[1000 / 4096], delta_v=[0.0], delta_theta=[0.5], delta_r=[0.25],
                  theta_0=[10], theta_step=[2])
    s, st = simulate_fixed(q, [[11], [0], [0], [0]], states=True)
    assert st["u"][:, 0].tolist() == [0, 704, 531, 401]          # 704 * 3095 >> 12 = 531, ...
    assert s[:, 0].tolist() == [False, True, False, True]        # v - r = 704 >= θ = 640; 1636 - 720 >= 672
    assert st["theta"][:, 0].tolist() == [640, 640 + 128, 640 + 64, 640 + 32 + 128]  # θ += 2 << 6, decays to θ0
    assert st["r"][:, 0].tolist() == [0, 1280, 960, 720 + 2 * 672]  # r += 2θ, decays by 1/4 per step
    assert st["v"][:, 0].tolist() == [0, 704, 1235, 1636]        # no reset, no leak (delta_v = 0)


def test_atrlif_float_deltas_follow_lavas_float_products():
    # Lava multiplies the current by 4096 - (delta_i * 4096 + 1) in float and truncates;
    # the other factors are truncated before the product
    q = fixed_net("alif", delta_i=[0.3], delta_v=[0.3], theta_0=[2**12 - 1])
    _, st = simulate_fixed(q, [[100], [0], [0]], states=True)
    u2 = int(6400 * (4096 - (0.3 * 4096 + 1))) >> 12
    v2 = (6400 * int(4096 - 0.3 * 4096)) >> 12
    assert st["u"][2, 0] == u2 and st["v"][2, 0] == v2 + u2


def test_dense_delay_and_recurrence():
    q = LoihiFixedNet(neuron="cuba-lif", w_in=[[1], [0]], w_rec=[[0, 0], [-4, 0]], w_in_exp=0, w_rec_exp=3,
                      x_shift=0, process={"du": np.array([4095] * 2), "dv": np.array([4095] * 2),
                                          "vth": np.array([5, 5]), "bias_mant": np.array([0, 0]),
                                          "bias_exp": np.array([0, 0])}, scale=1.0, errors={})
    s, st = simulate_fixed(q, [[10], [0], [0]], states=True)
    assert s[:, 0].tolist() == [False, True, False]
    assert st["u"][:, 1].tolist() == [0, 0, -4 * 8 * 64]        # neuron 0's spike at step 1 arrives at step 2


# --- against the float reference


@pytest.mark.parametrize("neuron", NEURONS)
def test_agrees_with_the_float_reference(neuron):
    # measured over 30 seeds (N=32, I=6, T=300): cuba-lif mean 0.993, min 0.988; alif mean 0.990, min 0.983
    scores = []
    for seed in range(5):
        net = moderate(neuron, seed)
        x = np.random.default_rng(seed).uniform(-2, 2, (300, 6))
        q = quantize(net)
        fixed, ref = simulate_fixed(q, encode_inputs(q, x)), simulate(net, x).spikes
        assert 0.05 < ref.mean() < 0.95  # a net that actually spikes
        assert abs(fixed.mean() - ref.mean()) < 0.02
        scores.append(np.mean(fixed == ref))
    assert min(scores) > 0.95 and np.mean(scores) > 0.97


@pytest.mark.parametrize("neuron", NEURONS)
def test_deterministic(neuron):
    net = moderate(neuron, 7, n=16)
    q1, q2 = quantize(net), quantize(net)
    assert q1 == q2
    x = encode_inputs(q1, np.random.default_rng(7).uniform(-2, 2, (100, 6)))
    s1, st1 = simulate_fixed(q1, x, states=True)
    s2, st2 = simulate_fixed(q2, x.copy(), states=True)
    np.testing.assert_array_equal(s1, s2)
    for k in st1:
        np.testing.assert_array_equal(st1[k], st2[k])
    assert set(st1) == ({"u", "v", "theta", "r"} if neuron == "alif" else {"u", "v"})


# --- what Lava is given


@pytest.mark.parametrize("neuron", NEURONS)
def test_lava_kwargs(neuron):
    q = quantize(moderate(neuron, 8, n=8))
    kw = q.lava_kwargs()
    assert kw["dense_in"]["num_message_bits"] == 24 and kw["dense_in"]["weight_exp"] == q.w_in_exp
    assert kw["dense_rec"]["weight_exp"] == q.w_rec_exp and "num_message_bits" not in kw["dense_rec"]
    assert set(kw["neuron"]) == {"shape", *(LIF_KWARGS if neuron == "cuba-lif" else ATRLIF_KWARGS)}
    kw["dense_in"]["weights"][0, 0] += 2  # copies: the quantized net stays as it was
    assert kw["dense_in"]["weights"][0, 0] != q.w_in[0, 0]
    assert not q.w_in.flags.writeable and not q.process["bias_mant"].flags.writeable
    if neuron == "alif":  # Lava 0.10.0's ATRLIF post_spike needs a scalar theta_step
        assert isinstance(quantize(moderate(neuron, 8, n=8, theta_step=0.2)).lava_kwargs()["neuron"]["theta_step"], int)
        assert kw["neuron"]["theta_step"].shape == (8,)
