"""How a :class:`~metaplastic.spiking.SpikingNet` maps onto Lava's processes, per mode.

Lava's ``LIF`` runs ``cuba-lif`` and ``ATRLIF`` runs ``alif`` (their equations are
SpikingNet's; see :mod:`metaplastic.spiking.neurons`). ``floating_pt`` passes the float
parameters as they are; ``fixed_pt`` (Loihi 2's bit-accurate arithmetic) passes the integers
of :func:`metaplastic.spiking.loihi_fixed.quantize`. Lava's ``LIF`` documents one ``du``,
``dv`` and ``vth`` per process; its process models compute element-wise, so a network with
per-neuron values (snntorch and ES learn one decay per neuron) passes one per neuron — the
parity tests check that Lava then computes exactly SpikingNet's equations.

A :class:`LavaProgram` is everything the worker needs to build the processes: numbers only
(it travels as one frame, :mod:`metaplastic.workers.remote.frames`).

Example:
    >>> import numpy as np
    >>> from metaplastic.spiking import SpikingNet
    >>> net = SpikingNet(w_in=np.ones((3, 2)), w_out=np.ones((1, 3)), du=0.5, dv=0.25)
    >>> prog = lava_program(net, "floating_pt")
    >>> prog.process, prog.state, prog.arrays["proc.du"].tolist(), prog.arrays["proc.v"].tolist()
    ('LIF', ('u', 'v'), [0.5], [0.0, 0.0, 0.0])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from metaplastic.errors import ConfigError
from metaplastic.spiking.net import SpikingNet
from metaplastic.spiking.neurons import ADAPTIVE_LIF, CUBA_LIF, NeuronType

__all__ = ["MODES", "LavaProgram", "lava_program", "refuse_plastic"]

#: Lava's simulation modes: Loihi2SimCfg's ``select_tag``
MODES = ("fixed_pt", "floating_pt")


@dataclass(frozen=True)
class LavaProgram:
    """One network as the worker builds it: the neuron process (its Lava class name, its
    state variables, its constructor arguments under ``proc.<name>``), the weights, and in
    fixed_pt the quantized network (graded inputs are then sent as its integers)."""

    process: str
    state: tuple[str, ...]
    arrays: dict[str, np.ndarray] = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict)
    fixed: Any = field(default=None, repr=False)  # a LoihiFixedNet in fixed_pt
    x_max: float = np.inf  # fixed_pt: the largest |graded input| the quantization is sized for

    def encode(self, x: np.ndarray) -> np.ndarray:
        """The graded input as the worker's Injector takes it (fixed_pt: a one-line
        :class:`ConfigError` for an input beyond ``±x_max``, which would overflow Loihi's
        24-bit state)."""
        if self.fixed is None:
            return np.asarray(x, dtype=np.float64)
        from metaplastic.spiking.loihi_fixed import encode_inputs

        top = float(np.max(np.abs(x))) if np.size(x) else 0.0
        if top > self.x_max:
            raise ConfigError(f"backend lava (fixed_pt): an input of magnitude {top:g} exceeds x_max={self.x_max:g}, the "
                              "range the fixed-point network is sized for; raise it with --set x_max=... or use "
                              "--set mode=floating_pt")
        return encode_inputs(self.fixed, x)


def _zeros(net: SpikingNet) -> np.ndarray:
    return np.zeros(net.n_neurons)


def _float_lif(net: SpikingNet) -> dict[str, np.ndarray]:
    return {"u": _zeros(net), "v": _zeros(net), "du": net.du, "dv": net.dv, "vth": net.vth,
            "bias_mant": net.bias, "bias_exp": _zeros(net)}


def _float_atrlif(net: SpikingNet) -> dict[str, np.ndarray]:
    return {"i": _zeros(net), "v": _zeros(net), "theta": net.vth.copy(), "r": _zeros(net),
            "s": np.zeros(net.n_neurons, bool), "delta_i": net.du, "delta_v": net.dv, "delta_theta": net.dtheta,
            "delta_r": net.dr, "theta_0": net.vth, "theta_step": net.theta_step, "bias_mant": net.bias,
            "bias_exp": _zeros(net)}


#: each neuron type: Lava's process, its state variables, its float constructor arguments
PROCESSES: dict[NeuronType, tuple[str, tuple[str, ...], Callable[[SpikingNet], dict[str, np.ndarray]]]] = {
    CUBA_LIF: ("LIF", ("u", "v"), _float_lif),
    ADAPTIVE_LIF: ("ATRLIF", ("i", "v", "theta", "r", "s"), _float_atrlif),
}


def refuse_plastic(net: SpikingNet) -> None:
    """A plastic network is refused in one line: its rule does not map onto Lava's."""
    if net.plasticity.enabled:
        raise ConfigError(
            "backend lava runs networks without plasticity: the three-factor rule's per-synapse learning rates and "
            "per-synapse eligibility traces do not map onto Lava's learning rules (Loihi2FLearningRule takes one "
            "dw expression for all synapses of a connection); run this network on numba or snntorch")


def _shared(arrays: dict[str, np.ndarray], state: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per-neuron parameters equal across neurons as one value (shape (1,)), as Lava's
    processes document them; state variables stay per neuron."""
    out = {}
    for key, a in arrays.items():
        name = key[len("proc."):] if key.startswith("proc.") else None
        shared = name is not None and name not in state and a.ndim == 1 and a.size > 0 and bool(np.all(a == a[0]))
        out[key] = a[:1] if shared else a
    return out


def lava_program(net: SpikingNet, mode: str, *, x_max: float = 4.0) -> LavaProgram:
    """The :class:`LavaProgram` that runs ``net`` in ``mode`` (``fixed_pt`` or ``floating_pt``);
    in fixed_pt, quantized for graded inputs within ``±x_max``."""
    if mode not in MODES:
        raise ConfigError(f"lava mode must be one of {', '.join(MODES)}, got {mode!r}")
    refuse_plastic(net)
    process, state, floats = PROCESSES[net.neuron_type]
    if mode == "floating_pt":
        arrays = {"w_in": net.w_in, "w_rec": net.w_rec, **{f"proc.{k}": v for k, v in floats(net).items()}}
        return LavaProgram(process, state, _shared(arrays, state), {"w_in_exp": 0, "w_rec_exp": 0})
    from metaplastic.spiking.loihi_fixed import quantize

    q = quantize(net, x_max=x_max)
    kw = q.lava_kwargs()
    neuron = {k: np.atleast_1d(np.asarray(v)) for k, v in kw["neuron"].items() if k != "shape"}
    arrays = {"w_in": q.w_in, "w_rec": q.w_rec, **{f"proc.{k}": v for k, v in neuron.items()},
              **{f"proc.{k}": v for k, v in _fixed_rest(q, net).items()}}
    return LavaProgram(process, state, _shared(arrays, state), {"w_in_exp": q.w_in_exp, "w_rec_exp": q.w_rec_exp},
                       fixed=q, x_max=float(x_max))


def _fixed_rest(q: Any, net: SpikingNet) -> dict[str, np.ndarray]:
    """The resting state in Lava's integer units: all 0, except ATRLIF's threshold, which
    its fixed-point model keeps shifted left by 6 bits (``theta_0 << 6``)."""
    zeros = np.zeros(net.n_neurons, np.int64)
    if net.neuron_type == ADAPTIVE_LIF:
        theta = np.asarray(q.process["theta_0"], np.int64) * 64
        return {"i": zeros, "v": zeros, "theta": theta, "r": zeros, "s": np.zeros(net.n_neurons, bool)}
    return {"u": zeros, "v": zeros}
