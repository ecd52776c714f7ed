"""The reference simulator: :class:`~metaplastic.spiking.net.SpikingNet`'s equations, one
time step at a time, in plain numpy.

Slow and obvious on purpose: it is the ground truth that the snntorch, numba and Lava
runtimes are tested against. The equations are in :class:`SpikingNet`'s docstring.

Example:
    >>> from metaplastic.spiking import SpikingNet
    >>> net = SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=0.5, dv=0.5)
    >>> simulate(net, [[2.0], [0.0], [0.0]]).spikes[:, 0].tolist()   # one-step synaptic delay
    [False, True, False]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from metaplastic.errors import ConfigError
from metaplastic.spiking.net import SpikingNet
from metaplastic.spiking.neurons import ADAPTIVE_LIF, CUBA_LIF, NeuronType

__all__ = ["simulate", "Trajectory", "NEURON_STEPS"]


@dataclass(frozen=True)
class Trajectory:
    """What :func:`simulate` recorded; row t is the state at the end of time step t.

    Example:
        >>> from metaplastic.spiking import SpikingNet
        >>> net = SpikingNet(w_in=[[1.0]], w_out=[[1.0], [2.0]], du=1.0, dv=1.0)
        >>> simulate(net, [[0.0]] * 4).readout.shape
        (4, 2)
    """

    spikes: np.ndarray      # (T, N) bool: s[t]
    current: np.ndarray     # (T, N) u[t]
    voltage: np.ndarray     # (T, N) v[t], after the reset (cuba-lif)
    threshold: np.ndarray   # (T, N) θ[t] after the post-spike increase (alif); vth (cuba-lif)
    refractory: np.ndarray  # (T, N) r[t] after the post-spike increase (alif); 0 (cuba-lif)
    trace: np.ndarray       # (T, N) z[t], the readout's spike trace
    readout: np.ndarray     # (T, A) y[t]
    w_in: np.ndarray        # (N, I) input weights after the last step (plasticity)
    w_rec: np.ndarray       # (N, N) recurrent weights after the last step (plasticity)


def _cuba_lif(net: SpikingNet, st: dict[str, np.ndarray], a: np.ndarray) -> np.ndarray:
    """:class:`~metaplastic.spiking.neurons.CubaLIF`: current, voltage, spike, reset to 0."""
    st["u"] = (1 - net.du) * st["u"] + a
    st["v"] = (1 - net.dv) * st["v"] + st["u"] + net.bias
    s = st["v"] > net.vth
    st["v"] = np.where(s, 0.0, st["v"])
    return s


def _alif(net: SpikingNet, st: dict[str, np.ndarray], a: np.ndarray) -> np.ndarray:
    """:class:`~metaplastic.spiking.neurons.ALIF`: current, voltage, threshold and
    refractory dynamics, spike, then the post-spike update."""
    st["u"] = (1 - net.du) * st["u"] + a
    st["v"] = (1 - net.dv) * st["v"] + st["u"] + net.bias
    st["theta"] = (1 - net.dtheta) * (st["theta"] - net.vth) + net.vth
    st["r"] = (1 - net.dr) * st["r"]
    s = st["v"] - st["r"] >= st["theta"]
    st["r"] = st["r"] + np.where(s, 2 * st["theta"], 0.0)
    st["theta"] = st["theta"] + np.where(s, net.theta_step, 0.0)
    return s


#: this runtime's update of each neuron type: one time step of the neurons given the
#: synaptic input ``a``, changing the state ``st`` in place and returning the spikes
NEURON_STEPS: dict[NeuronType, Callable[[SpikingNet, dict[str, np.ndarray], np.ndarray], np.ndarray]] = {
    CUBA_LIF: _cuba_lif,
    ADAPTIVE_LIF: _alif,
}


def _series(name: str, value: Any, shape: tuple[int | None, ...]) -> np.ndarray:
    """``value`` as a float64 copy of ``shape`` (None: any length), all finite."""
    want = "(" + ", ".join("T" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    try:
        a = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"simulate: {name} must be an array of numbers with shape {want}") from None
    if a.ndim != len(shape) or any(d is not None and d != k for d, k in zip(shape, a.shape, strict=True)):
        raise ConfigError(f"simulate: {name} must have shape {want}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ConfigError(f"simulate: {name} must be finite")
    return a


def simulate(net: SpikingNet, inputs: Any, *, modulation: Any = None) -> Trajectory:
    """Step ``net`` from rest through ``inputs``, one input vector x[t] per time step.

    ``inputs`` has shape (T, I); by the synaptic delay, x[t] reaches the neurons at step
    t + 1. ``modulation`` (T,) is the plasticity third factor m[t] (default: all 0, so the
    weights stay fixed). ``inputs`` are not modified.

    Example:
        >>> from metaplastic.spiking import SpikingNet
        >>> net = SpikingNet(neuron="alif", w_in=[[2.0]], w_out=[[1.0]], du=1.0, dv=1.0,
        ...                  dtheta=0.5, theta_step=1.0, dr=0.5)
        >>> simulate(net, [[1.0]] * 5).spikes[:, 0].tolist()   # the threshold adapts
        [False, True, False, True, False]
    """
    n, i = net.w_in.shape
    x = _series("inputs", inputs, (None, i))
    steps = x.shape[0]
    m = np.zeros(steps) if modulation is None else _series("modulation", modulation, (steps,))
    p = net.plasticity
    w_in, w_rec = net.w_in.copy(), net.w_rec.copy()
    st = {"u": np.zeros(n), "v": np.zeros(n), "theta": net.vth.copy(), "r": np.zeros(n), "z": np.zeros(n)}
    x_prev, s_prev = np.zeros(i), np.zeros(n)
    e_in, e_rec = np.zeros((n, i)), np.zeros((n, n))
    rec = {k: np.zeros((steps, n)) for k in ("u", "v", "theta", "r", "z")}
    spikes, readout = np.zeros((steps, n), bool), np.zeros((steps, net.n_outputs))
    step = NEURON_STEPS[net.neuron_type]
    for t in range(steps):
        a = w_in @ x_prev + w_rec @ s_prev
        s = step(net, st, a).astype(np.float64)
        st["z"] = (1 - net.readout_decay) * st["z"] + s
        e_in = (1 - p.trace_decay) * e_in + np.outer(s, x_prev)
        e_rec = (1 - p.trace_decay) * e_rec + np.outer(s, s_prev)
        w_in = w_in + p.lr_in * m[t] * e_in
        w_rec = w_rec + p.lr_rec * m[t] * e_rec
        for k, series in rec.items():
            series[t] = st[k]
        spikes[t], readout[t] = s > 0, net.w_out @ st["z"] + net.b_out
        x_prev, s_prev = x[t], s
    return Trajectory(spikes=spikes, current=rec["u"], voltage=rec["v"], threshold=rec["theta"],
                      refractory=rec["r"], trace=rec["z"], readout=readout, w_in=w_in, w_rec=w_rec)
