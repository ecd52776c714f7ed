r"""Loihi 2 fixed-point arithmetic for a :class:`~metaplastic.spiking.SpikingNet`: the
quantization to Lava's ``fixed_pt`` process models, and a bit-exact numpy re-implementation
of what those models compute.

The graph that runs a network on Lava's simulator in ``fixed_pt`` (lava-nc 0.10.0)::

    Injector -> Dense(w_in, num_message_bits=24, weight_exp=w_in_exp) -> LIF or ATRLIF .a_in
    LIF or ATRLIF .s_out -> Dense(w_rec, weight_exp=w_rec_exp) -> LIF or ATRLIF .a_in

with Lava's ``PyDenseModelBitAcc``, ``PyLifModelBitAcc`` and ``PyATRLIFModelFixed``.
:func:`quantize` turns a float network into the integers these models take
(:class:`LoihiFixedNet`), :func:`encode_inputs` turns graded inputs into the integers the
``Injector`` sends, and :func:`simulate_fixed` steps the same integer arithmetic in numpy,
bit for bit (checked against Lava itself, see below).

**Units.** One float ``scale`` links the two worlds: a state variable (``u``, ``v``, ``θ``,
``r``) of ``v`` a.u. in the float network is ``v * scale`` integer *state units* on the
chip. Loihi aligns the threshold and the synaptic input to the 24-bit state by a left
shift of 6 bits, so one unit of activation or of threshold is 64 state units.

**Weights** (``Dense``, 8-bit mantissa with a shared exponent). Lava clips the mantissas to
8 bits and, for a matrix of mixed signs, truncates the lowest bit (``(w >> 1) << 1``), so a
mantissa is an even integer in [-256, 254] (mixed signs), in [0, 255] (all >= 0) or in
[-255, 0] (all <= 0); :func:`quantize` returns mantissas that are fixed points of that clip
and truncation. A ``Dense`` computes, once per step and delivered one step later::

    a_buff = (W_int @ s_in) << weight_exp        (weight_exp > 0)
    a_buff = (W_int @ s_in) >> -weight_exp       (weight_exp <= 0; arithmetic, i.e. floor)

Recurrent: ``s_in`` are the 1-bit spikes and ``W_rec_int * 2**w_rec_exp = w_rec * scale / 64``.
Input: the graded messages ``x_int = round(x * 2**x_shift)`` (24-bit signed) and
``W_in_int * 2**(w_in_exp + x_shift) = w_in * scale / 64``, i.e.
``w_in_exp = w_rec_exp - x_shift + (g_in - w_rec_exp)`` where ``g_in`` is the exponent that
puts the largest input weight at the top of the 8-bit mantissa; so ``a_in`` in integer
units equals ``floor(w_in @ x * scale / 64)`` up to the weights' rounding. The exponent of
each matrix puts its largest weight at the top of the 8-bit range, and ``scale`` is chosen
so that one of the two (the one that gives the smaller error) sits exactly at the top
(254, -256 or ±255).

**LIF** (``PyLifModelBitAcc``; ``du``, ``dv`` 12-bit unsigned; ``u``, ``v`` 24-bit signed;
``vth`` 17-bit unsigned, shifted by 6; ``bias = bias_mant << bias_exp`` with a 13-bit signed
mantissa and a 3-bit exponent; ``trunc`` rounds toward zero, ``sign(x) * (|x| >> 12)``)::

    u = wrap24(trunc(u * (4096 - (du + 1)) / 4096) + (a << 6))   # ds_offset = 1
    v = clip24(trunc(v * (4096 - dv) / 4096) + u + bias)          # dm_offset = 0
    s = v > vth << 6;   where s: v = 0

``wrap24`` subtracts 2**24 once from a value above 2**23 and adds it once to a value at or
below -2**23; ``clip24`` clips to [-(2**23 - 1), 2**23 - 1]. So ``1 - du_float`` maps to
``(4095 - du) / 4096`` and ``du = clip(round(du_float * 4096) - 1, 0, 4095)``; ``1 - dv_float``
to ``(4096 - dv) / 4096`` and ``dv = clip(round(dv_float * 4096), 0, 4095)``: every decay is
within 1/4096 of the float one (1/8192 except ``du = 0`` and ``dv = 1``).

**ATRLIF** (``PyATRLIFModelFixed``). Unlike LIF, its model multiplies each delta by 4096
itself (``decay_const = delta * 4096``), so its ``delta_i``, ``delta_v``, ``delta_theta`` and
``delta_r`` are *fractions*, and Lava keeps them as the floats it is given: :func:`quantize`
gives float arrays holding exact multiples of 1/4096 (``k / 4096``, ``k`` a 12-bit integer),
for which every product below is an exact integer. It keeps LIF's ``ds_offset = 1`` on the
current only. ``theta_0`` and ``theta_step`` are shifted by 6 like ``vth``
(``np.int32(theta_0 * 64)``, once, at the first step, where ``θ`` is also set to
``theta_0 << 6``); Lava declares them 12-bit unsigned. With ``k_x = delta_x * 4096``::

    i = wrap24(trunc(i * (4096 - (k_i + 1)) / 4096) + a * 64)
    v = clip24(trunc(v * (4096 - k_v) / 4096) + i + bias)
    θ = trunc((θ - θ0) * (4096 - k_θ) / 4096) + θ0              # θ0 = theta_0 << 6; no clip
    r = trunc(r * (4096 - k_r) / 4096)                          # no clip
    s = v - r >= θ;   where s: r += 2 * θ, then θ += theta_step << 6

For a delta that is not a multiple of 1/4096 Lava forms ``i * (4095 - k_i)`` in float and
truncates the product, but truncates ``4096 - k_v`` (and ``k_θ``, ``k_r``) before multiplying;
:func:`simulate_fixed` does the same.

**Scale.** ``scale`` is the largest value (then lowered by less than 2x to align a weight
matrix with its mantissa) for which: ``vth << 6`` stays at or below 2**18 (``vth`` <= 4095,
12 bits: ATRLIF's ``theta_0`` register, well within LIF's 17, leaving ``u`` and ``v`` 32x
headroom in 24 bits); one step in which every neuron spikes and every input is at
``|x| = x_max`` moves ``u`` by at most 2**22; the largest ``|bias|`` fits 13 bits << 7; and
(ATRLIF) ``theta_step`` fits 12 bits. A network whose smallest ``vth`` would then get fewer
than 16 integer steps cannot be represented (:class:`~metaplastic.errors.ConfigError`).

**Checked against Lava** (lava-nc 0.10.0, ``Loihi2SimCfg(select_tag="fixed_pt")``, closed
loop as above, 200 steps): on random nets of 16-32 neurons with 6 graded inputs, mixed-sign
weights and per-neuron parameters, on all-excitatory and all-inhibitory matrices, on integer
nets built to overflow (``u`` wrapping, ``v`` clipping, int32 wraps in the ``Dense``) and on
ATRLIF deltas that are not multiples of 1/4096, :func:`simulate_fixed` reproduced Lava's
spikes and its ``u`` (``i``) and ``v`` after every step bit for bit, for LIF and ATRLIF.
What Lava 0.10.0 needs:

* the ``Injector``'s model (``PyLoihiInjectorModel``) sends float64, on which the
  bit-accurate ``Dense`` fails (``np.right_shift`` of a float; the runtime then hangs): use a
  subclass of it whose ``out_port`` is ``LavaPyType(PyOutPort.VEC_DENSE, np.int32,
  precision=24)`` (the integers pass unchanged; the ``Extractor``'s float ``in_port`` takes
  the int32 spikes as they are);
* ATRLIF's ``post_spike`` adds the whole ``theta_step`` to the spiking neurons' ``θ``
  (``theta[s] = theta[s] + theta_step``), which fails for a per-neuron array (a broadcast
  error at the first step; the runtime hangs): pass a uniform ``theta_step`` as a scalar
  (:meth:`LoihiFixedNet.lava_kwargs` does), or a per-neuron one to a subclass of the model
  whose ``post_spike`` adds ``theta_step[s]`` (what :func:`simulate_fixed` computes);
* every other parameter takes per-neuron arrays (LIF's ``du``, ``dv``, ``vth`` and ATRLIF's
  deltas and ``theta_0`` too, although Lava declares them with shape (1,)); ``Dense`` needs
  neither ``num_weight_bits`` nor ``sign_mode`` (it finds the sign mode from the weights).

Example:
    >>> from metaplastic.spiking import SpikingNet
    >>> net = SpikingNet(w_in=[[0.5, -0.25]], w_out=[[1.0]], du=0.5, dv=0.25)
    >>> q = quantize(net)
    >>> q.w_in.tolist(), q.w_in_exp, q.x_shift, q.process["du"].tolist(), q.process["vth"].tolist()
    ([[254, -128]], -9, 12, [2047], [4064])
    >>> x = encode_inputs(q, [[3.0, 0.0]] * 3)
    >>> x[0].tolist()
    [12288, 0]
    >>> simulate_fixed(q, x)[:, 0].tolist()      # as the float reference: input arrives one step late
    [False, True, True]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from metaplastic.errors import ConfigError
from metaplastic.spiking.net import SpikingNet
from metaplastic.spiking.neurons import ADAPTIVE_LIF, CUBA_LIF

__all__ = ["LoihiFixedNet", "quantize", "encode_inputs", "simulate_fixed", "LIF_KWARGS", "ATRLIF_KWARGS",
           "WEIGHT_BITS", "DECAY_BITS", "STATE_BITS", "VTH_BITS", "BIAS_MANT_BITS", "BIAS_EXP_MAX",
           "MESSAGE_BITS", "ACT_SHIFT", "X_SHIFT"]

WEIGHT_BITS = 8        # Dense weight mantissa (8 bits; mixed signs: even integers in [-256, 254])
DECAY_BITS = 12        # du, dv (LIF); delta_* * 4096 (ATRLIF)
STATE_BITS = 24        # u, v (LIF); i, v, θ, r (ATRLIF)
VTH_BITS = 17          # LIF vth register (unsigned); quantize keeps vth (and ATRLIF's theta_0) within 12
BIAS_MANT_BITS = 13    # signed bias mantissa
BIAS_EXP_MAX = 7       # 3-bit unsigned bias exponent
MESSAGE_BITS = 24      # graded messages from the Injector (signed)
ACT_SHIFT = 6          # Loihi shifts activation and threshold by 6 bits to align them with the state
X_SHIFT = 12           # default fractional bits of an encoded input

#: the per-neuron constructor arguments of Lava's ``LIF`` and ``ATRLIF`` in :attr:`LoihiFixedNet.process`
LIF_KWARGS = ("du", "dv", "vth", "bias_mant", "bias_exp")
ATRLIF_KWARGS = ("delta_i", "delta_v", "delta_theta", "delta_r", "theta_0", "theta_step", "bias_mant", "bias_exp")

_UNITY = 1 << DECAY_BITS                  # 4096
_MAX_UV = 1 << (STATE_BITS - 1)           # 2**23
_TOP_VTH = (1 << 12) - 1                  # largest vth / theta_0 / theta_step integer quantize makes (12 bits)
_MIN_VTH = 16                             # fewest integer steps of the smallest threshold
_DRIVE_ROOM = 1 << 22                     # a full-drive step moves u by at most this (state units)
_BIAS_TOP = ((1 << (BIAS_MANT_BITS - 1)) - 1) << BIAS_EXP_MAX   # 4095 << 7
_MSG_TOP = (1 << (MESSAGE_BITS - 1)) - 1  # largest graded message
_I32 = 1 << 32


def _wrap32(a: np.ndarray) -> np.ndarray:
    """int64 ``a`` as numpy's int32 arithmetic leaves it (two's complement wrap)."""
    return (a + (1 << 31)) % _I32 - (1 << 31)


def _trunc_decay(x: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``sign(x * factor) * (|x * factor| >> 12)``: Loihi's decay, rounding toward zero (a
    float ``factor``: the product is truncated to an integer first, as ATRLIF does)."""
    p = x * factor
    p = np.trunc(p).astype(np.int64) if p.dtype.kind == "f" else p
    return np.sign(p) * (np.abs(p) >> DECAY_BITS)


def _wrap24(x: np.ndarray) -> np.ndarray:
    """Lava's one-time wraparound of the 24-bit current (``x`` int64)."""
    w = np.where(x > _MAX_UV, x - 2 * _MAX_UV, x)
    return np.where(w <= -_MAX_UV, x + 2 * _MAX_UV, w)


def _shift(a: np.ndarray, exp: int) -> np.ndarray:
    """``Dense``'s weight exponent: left shift if positive, arithmetic right shift otherwise."""
    return np.left_shift(a, exp) if exp > 0 else np.right_shift(a, -exp)


# --- the quantized network


@dataclass(frozen=True, eq=False, kw_only=True)
class LoihiFixedNet:
    """A :class:`~metaplastic.spiking.SpikingNet` as the integers Lava's ``fixed_pt`` models take.

    Made by :func:`quantize`; its arrays are read-only. ``process`` holds the per-neuron
    keyword arguments of Lava's ``LIF`` (:data:`LIF_KWARGS`, int64 arrays) or ``ATRLIF``
    (:data:`ATRLIF_KWARGS`: the deltas are float64 fractions ``k / 4096``, the rest int64
    arrays), exactly as the constructor takes them; :meth:`lava_kwargs` gives writable
    copies of every constructor's arguments. ``errors`` are the quantization diagnostics:
    ``w_in``, ``w_rec`` (largest |error| of a weight, relative to the matrix's largest
    |weight|), ``du``, ``dv`` (and ``dtheta``, ``dr``: largest |error| of a decay, per step),
    ``vth`` (largest relative error), ``bias`` (and ``theta_step``: largest |error| relative to
    the neuron's vth) and ``clipped`` (how many weight mantissas were clipped; 0 by design).

    Example:
        >>> from metaplastic.spiking import SpikingNet
        >>> q = quantize(SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=1.0, dv=1.0, vth=2.0))
        >>> q
        LoihiFixedNet(neuron='cuba-lif', inputs=1, neurons=1, scale=130560, w_in_exp=-9, w_rec_exp=0, x_shift=12)
        >>> sorted(q.errors)
        ['bias', 'clipped', 'du', 'dv', 'vth', 'w_in', 'w_rec']
    """

    neuron: str                    # "cuba-lif" (Lava LIF) or "alif" (Lava ATRLIF)
    w_in: np.ndarray               # (N, I) int32 weight mantissas of the input Dense
    w_rec: np.ndarray              # (N, N) int32 weight mantissas of the recurrent Dense
    w_in_exp: int                  # weight_exp of the input Dense
    w_rec_exp: int                 # weight_exp of the recurrent Dense
    x_shift: int                   # graded input x is sent as round(x * 2**x_shift)
    process: dict[str, np.ndarray]  # the LIF / ATRLIF per-neuron constructor arguments
    scale: float                   # integer state units per a.u. of the float v, u
    errors: dict[str, float]       # quantization diagnostics

    def __post_init__(self) -> None:
        o = "LoihiFixedNet"
        if self.neuron not in (CUBA_LIF.name, ADAPTIVE_LIF.name):
            raise ConfigError(f"{o}: neuron must be 'cuba-lif' or 'alif', got {self.neuron!r}")
        values: dict[str, Any] = {}
        for name in ("w_in", "w_rec"):
            a = np.array(getattr(self, name))
            if a.ndim != 2 or a.dtype.kind not in "iu":
                raise ConfigError(f"{o}: {name} must be a 2-D array of integer weight mantissas, got "
                                  f"shape {a.shape} and dtype {a.dtype}")
            values[name] = a.astype(np.int32)
        n = values["w_in"].shape[0]
        if values["w_rec"].shape != (n, n):
            raise ConfigError(f"{o}: w_rec must have shape ({n}, {n}) for the {n} neurons of w_in, got "
                              f"{values['w_rec'].shape}")
        names = LIF_KWARGS if self.neuron == CUBA_LIF.name else ATRLIF_KWARGS
        if not isinstance(self.process, dict) or sorted(self.process) != sorted(names):
            got = sorted(self.process) if isinstance(self.process, dict) else type(self.process).__name__
            raise ConfigError(f"{o}: process must hold exactly {', '.join(names)} for neuron={self.neuron!r}, got {got}")
        process = {}
        for name in names:
            a = np.array(self.process[name])
            fraction = name.startswith("delta_")  # ATRLIF's deltas are fractions (see the module docstring)
            if a.shape != (n,) or a.dtype.kind not in ("iuf" if fraction else "iu") or not np.all(np.isfinite(a)):
                raise ConfigError(f"{o}: process[{name!r}] must be a ({n},) array of "
                                  f"{'finite numbers' if fraction else 'integers'}, got shape {a.shape} and dtype {a.dtype}")
            process[name] = a.astype(np.float64 if fraction else np.int64)
        for name in ("w_in_exp", "w_rec_exp", "x_shift"):
            v = getattr(self, name)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise ConfigError(f"{o}: {name} must be an integer, got {v!r}")
            values[name] = int(v)
        values["scale"], values["process"], values["errors"] = float(self.scale), process, dict(self.errors)
        for name, v in values.items():
            if isinstance(v, np.ndarray):
                v.flags.writeable = False
            object.__setattr__(self, name, v)
        for a in process.values():
            a.flags.writeable = False

    @property
    def n_inputs(self) -> int:
        """I."""
        return self.w_in.shape[1]

    @property
    def n_neurons(self) -> int:
        """N."""
        return self.w_in.shape[0]

    def lava_kwargs(self) -> dict[str, dict[str, Any]]:
        """Keyword arguments (fresh, writable copies) for Lava's ``fixed_pt`` processes.

        ``dense_in`` and ``dense_rec`` for ``Dense``, ``neuron`` for ``LIF`` or ``ATRLIF``
        (which one: :attr:`neuron`), each with ``shape``/``weights`` included.

        Example:
            >>> from metaplastic.spiking import SpikingNet
            >>> q = quantize(SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=1.0, dv=1.0))
            >>> kw = q.lava_kwargs()
            >>> sorted(kw["dense_in"]), sorted(kw["neuron"])
            (['num_message_bits', 'weight_exp', 'weights'], ['bias_exp', 'bias_mant', 'du', 'dv', 'shape', 'vth'])
        """
        neuron: dict[str, Any] = {"shape": (self.n_neurons,), **{k: v.copy() for k, v in self.process.items()}}
        step = neuron.get("theta_step")
        if step is not None and np.all(step == step[0]):
            neuron["theta_step"] = int(step[0])  # what Lava 0.10.0's stock ATRLIF models can take
        return {"dense_in": {"weights": self.w_in.copy(), "num_message_bits": MESSAGE_BITS,
                             "weight_exp": self.w_in_exp},
                "dense_rec": {"weights": self.w_rec.copy(), "weight_exp": self.w_rec_exp},
                "neuron": neuron}

    def effective(self) -> dict[str, np.ndarray]:
        """The float parameters this integer network stands for, in the units of
        :class:`~metaplastic.spiking.SpikingNet` (weights per input unit, decays per step).

        Example:
            >>> from metaplastic.spiking import SpikingNet
            >>> q = quantize(SpikingNet(w_in=[[-1.0, 0.3]], w_out=[[1.0]], du=0.1, dv=0.0))
            >>> q.w_in.tolist()          # mixed signs: even mantissas, -1.0 at -256
            [[-256, 76]]
            >>> e = q.effective()
            >>> e["w_in"].tolist(), e["du"].tolist(), e["dv"].tolist()
            ([[-1.0, 0.296875]], [0.10009765625], [0.0])
        """
        unit = 64.0 / self.scale  # a.u. per unit of activation
        p = self.process
        out = {"w_in": self.w_in * 2.0 ** (self.w_in_exp + self.x_shift) * unit,
               "w_rec": self.w_rec * 2.0 ** self.w_rec_exp * unit,
               "bias": p["bias_mant"] * 2.0 ** p["bias_exp"] / self.scale}
        if self.neuron == CUBA_LIF.name:
            out.update(du=(p["du"] + 1) / _UNITY, dv=p["dv"] / _UNITY, vth=p["vth"] * unit)
        else:
            out.update(du=p["delta_i"] + 1 / _UNITY, dv=p["delta_v"].copy(), vth=p["theta_0"] * unit,
                       dtheta=p["delta_theta"].copy(), theta_step=p["theta_step"] * unit, dr=p["delta_r"].copy())
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LoihiFixedNet):
            return NotImplemented
        return (self.neuron == other.neuron and self.scale == other.scale and self.errors == other.errors
                and (self.w_in_exp, self.w_rec_exp, self.x_shift) == (other.w_in_exp, other.w_rec_exp, other.x_shift)
                and np.array_equal(self.w_in, other.w_in) and np.array_equal(self.w_rec, other.w_rec)
                and self.process.keys() == other.process.keys()
                and all(np.array_equal(v, other.process[k]) for k, v in self.process.items()))

    def __repr__(self) -> str:
        return (f"LoihiFixedNet(neuron={self.neuron!r}, inputs={self.n_inputs}, neurons={self.n_neurons}, "
                f"scale={self.scale:g}, w_in_exp={self.w_in_exp}, w_rec_exp={self.w_rec_exp}, x_shift={self.x_shift})")


# --- quantization


def _capacity(w: np.ndarray) -> tuple[float, int, int, int]:
    """How a matrix fits the 8-bit mantissa: ``(r, step, low, high)`` with ``r`` the weight
    (at gain 1) that maps to one mantissa unit when the matrix fills the range, ``step`` the
    mantissa grid (2 for mixed signs) and [low, high] the mantissa range Lava keeps."""
    top, bottom = float(w.max()), float(w.min())
    if bottom >= 0:   # Lava's SignMode.EXCITATORY (also an all-zero matrix)
        return top / 255, 1, 0, 255
    if top <= 0:      # INHIBITORY
        return -bottom / 255, 1, -255, 0
    return max(top / 254, -bottom / 256), 2, -256, 254  # MIXED: clip to [-256, 255], then (w >> 1) << 1


def _mantissas(w: np.ndarray, gain: float) -> tuple[np.ndarray, int, int]:
    """``w * gain`` as 8-bit mantissas with the smallest exponent that fits: ``(W_int, exp,
    clipped)`` with ``W_int * 2**exp ~ w * gain``."""
    r, step, low, high = _capacity(w)
    if r == 0:
        return np.zeros(w.shape, np.int32), 0, 0
    exp = math.ceil(math.log2(r * gain))
    while True:
        m = step * np.rint(w * (gain / 2.0 ** exp) / step)
        if m.max() <= high and m.min() >= low:
            break
        exp += 1  # the float rounding of the log put the top just past the range
    clipped = int(np.count_nonzero((m > high) | (m < low)))
    return np.clip(m, low, high).astype(np.int32), exp, clipped


def _rel_error(w: np.ndarray, approx: np.ndarray) -> float:
    top = float(np.abs(w).max())
    return float(np.abs(approx - w).max() / top) if top > 0 else 0.0


def _decay12(d: np.ndarray, offset: int) -> np.ndarray:
    """A decay fraction per step as the 12-bit integer Lava takes (``offset``: ds_offset)."""
    return np.clip(np.rint(d * _UNITY) - offset, 0, _UNITY - 1).astype(np.int64)


def _bias(bias: np.ndarray, scale: float, neuron: str) -> tuple[np.ndarray, np.ndarray]:
    """``bias * scale`` as a 13-bit signed mantissa and a 3-bit exponent, per neuron."""
    b = bias * scale
    exp = np.zeros(b.shape, np.int64)
    mant = np.rint(b)
    while True:
        over = np.abs(mant) > (1 << (BIAS_MANT_BITS - 1)) - 1
        if not over.any():
            break
        exp = np.where(over, exp + 1, exp)
        if exp.max() > BIAS_EXP_MAX:  # pragma: no cover - the scale is chosen to prevent it
            raise ConfigError(f"quantize: bias of {neuron} neuron {int(np.argmax(exp))} does not fit a 13-bit "
                              "mantissa with a 3-bit exponent; shrink |bias| relative to vth")
        mant = np.rint(b / 2.0 ** exp)
    return mant.astype(np.int64), exp


#: what limits the scale, and how to make a network whose smallest vth gets too few steps fit
_LIMITS = {
    "vth": ("the largest vth (12 bits)", "thresholds may span at most ~256x; make them more uniform"),
    "drive": ("the input of one step with every neuron spiking and |x| = x_max (2**22 state units)",
              "shrink the weights (or x_max) relative to the smallest vth"),
    "bias": ("the largest |bias| (13-bit mantissa << 7)", "shrink the largest |bias| relative to the smallest vth"),
    "theta_step": ("the largest theta_step (12 bits)", "shrink the largest theta_step relative to the smallest vth"),
}


def _positive(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"quantize: {name} must be a positive number, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ConfigError(f"quantize: {name} must be a positive finite number, got {v:g}")
    return v


def quantize(net: SpikingNet, *, x_max: float = 4.0, x_shift: int | None = None) -> LoihiFixedNet:
    """``net`` as the integers of Lava's ``fixed_pt`` ``Dense`` and ``LIF``/``ATRLIF`` models.

    ``x_max`` is the largest |x| of a graded input the network will see (it sizes the
    state's headroom and the input encoding); ``x_shift`` the fractional bits of an encoded
    input (default: 12, fewer when ``x_max * 2**x_shift`` would not fit a 24-bit message or
    the input ``Dense``'s int32 sums). The equations and bit widths are in this module's
    docstring. A network that cannot be represented (thresholds spanning too wide a range
    for the weights and biases, an input range too wide, a plastic network) raises a
    one-line :class:`~metaplastic.errors.ConfigError`.

    Example:
        >>> from metaplastic.spiking import SpikingNet
        >>> net = SpikingNet(neuron="alif", w_in=[[1.0]], w_rec=[[-0.5]], w_out=[[1.0]], du=0.5,
        ...                  dv=0.5, dtheta=0.25, theta_step=0.5, dr=0.5)
        >>> q = quantize(net)
        >>> q.w_rec.tolist(), q.w_rec_exp, q.process["theta_0"].tolist(), q.process["delta_theta"].tolist()
        ([[-255]], 3, [4080], [0.25])
        >>> quantize(SpikingNet(w_in=[[1.0, 1.0]], w_out=[[1.0]], du=1, dv=1, vth=[1e-4]), x_max=1e3)
        Traceback (most recent call last):
        ...
        metaplastic.errors.ConfigError: quantize: vth 0.0001 of neuron 0 would get 0 integer steps (needs >= 16) at the largest scale the input of one step with every neuron spiking and |x| = x_max (2**22 state units) allows (2040 state units per a.u.); shrink the weights (or x_max) relative to the smallest vth
    """
    if not isinstance(net, SpikingNet):
        raise ConfigError(f"quantize: expected a SpikingNet, got {type(net).__name__}")
    if net.plasticity.enabled:
        raise ConfigError("quantize: a plastic SpikingNet (non-zero learning rates) cannot run on Lava's fixed-point "
                          "Dense; quantize a copy with plasticity=None")
    x_max = _positive("x_max", x_max)
    alif = net.neuron == ADAPTIVE_LIF.name
    vth = net.vth

    # the largest scale every register allows, in state units per a.u.
    drive = float(np.max(np.abs(net.w_rec).sum(axis=1) + x_max * np.abs(net.w_in).sum(axis=1)))
    limits = {"vth": _TOP_VTH * 64 / float(vth.max())}
    if drive > 0:
        limits["drive"] = _DRIVE_ROOM / drive
    if np.any(net.bias):
        limits["bias"] = _BIAS_TOP / float(np.abs(net.bias).max())
    if alif and np.any(net.theta_step):
        limits["theta_step"] = _TOP_VTH * 64 / float(net.theta_step.max())
    bound = min(limits, key=limits.__getitem__)
    top = limits[bound]

    # lower it by less than 2x so that one matrix's largest weight sits exactly at the top
    # of its mantissa range; of the two matrices, align the one that gives the smaller error
    candidates = []
    for w in (net.w_rec, net.w_in):
        r = _capacity(w)[0]
        if r > 0:
            candidates.append(64 * 2.0 ** math.floor(math.log2(top * r / 64)) / r)
    best = None
    for scale in candidates or [top]:
        w_rec, rec_exp, rec_clip = _mantissas(net.w_rec, scale / 64)
        w_in, in_gain, in_clip = _mantissas(net.w_in, scale / 64)
        err_rec = _rel_error(net.w_rec, w_rec * 2.0 ** rec_exp * 64 / scale)
        err_in = _rel_error(net.w_in, w_in * 2.0 ** in_gain * 64 / scale)
        key = max(err_rec, err_in)
        if best is None or key < best[0]:
            best = (key, scale, w_rec, rec_exp, w_in, in_gain, rec_clip + in_clip, err_rec, err_in)
    _, scale, w_rec, rec_exp, w_in, in_gain, clipped, err_rec, err_in = best

    vth_int = np.rint(vth * scale / 64).astype(np.int64)
    low = int(np.argmin(vth_int))
    if vth_int[low] < _MIN_VTH:
        why, fix = _LIMITS[bound]
        raise ConfigError(f"quantize: vth {vth[low]:g} of neuron {low} would get {vth_int[low]} integer steps "
                          f"(needs >= {_MIN_VTH}) at the largest scale {why} allows ({scale:.5g} state units "
                          f"per a.u.); {fix}")

    # the input encoding: fractional bits of x, within a 24-bit message and int32 sums
    row = float(np.abs(w_in.astype(np.int64)).sum(axis=1).max())
    room = min(math.floor(math.log2(_MSG_TOP / x_max)),
               math.floor(math.log2((2**31 - 1) / (row * x_max))) if row > 0 else 62)
    if x_shift is None:
        x_shift = min(X_SHIFT, room)
    elif isinstance(x_shift, (bool, np.bool_)) or not isinstance(x_shift, (int, np.integer)):
        raise ConfigError(f"quantize: x_shift must be an integer, got {x_shift!r}")
    x_shift = int(x_shift)
    if not 0 <= x_shift <= room:
        raise ConfigError(f"quantize: x_shift must be in [0, {room}] so that |x| <= x_max={x_max:g} fits a "
                          f"{MESSAGE_BITS}-bit message and the input Dense's int32 sums, got {x_shift}; "
                          "lower x_shift or x_max")
    w_in_exp = in_gain - x_shift
    for name, e in (("w_in", w_in_exp), ("w_rec", rec_exp)):
        if not -31 <= e <= 31:
            raise ConfigError(f"quantize: {name} needs weight_exp {e}, outside [-31, 31]: its weights are too "
                              f"{'small' if e < 0 else 'large'} relative to vth; rescale them")

    bias_mant, bias_exp = _bias(net.bias, scale, net.neuron)
    du, dv = _decay12(net.du, 1), _decay12(net.dv, 0)
    eff_bias = bias_mant * 2.0 ** bias_exp / scale
    errors = {"w_in": err_in, "w_rec": err_rec,
              "du": float(np.abs((du + 1) / _UNITY - net.du).max()), "dv": float(np.abs(dv / _UNITY - net.dv).max()),
              "vth": float((np.abs(vth_int * 64 / scale - vth) / vth).max()),
              "bias": float((np.abs(eff_bias - net.bias) / vth).max()), "clipped": clipped}
    if alif:
        dtheta, dr = _decay12(net.dtheta, 0), _decay12(net.dr, 0)
        step = np.rint(net.theta_step * scale / 64).astype(np.int64)
        process = {"delta_i": du / _UNITY, "delta_v": dv / _UNITY, "delta_theta": dtheta / _UNITY,
                   "delta_r": dr / _UNITY, "theta_0": vth_int, "theta_step": step,
                   "bias_mant": bias_mant, "bias_exp": bias_exp}
        errors.update(dtheta=float(np.abs(dtheta / _UNITY - net.dtheta).max()),
                      dr=float(np.abs(dr / _UNITY - net.dr).max()),
                      theta_step=float((np.abs(step * 64 / scale - net.theta_step) / vth).max()))
    else:
        process = {"du": du, "dv": dv, "vth": vth_int, "bias_mant": bias_mant, "bias_exp": bias_exp}
    return LoihiFixedNet(neuron=net.neuron, w_in=w_in, w_rec=w_rec, w_in_exp=int(w_in_exp), w_rec_exp=int(rec_exp),
                         x_shift=x_shift, process=process, scale=float(scale), errors=errors)


# --- inputs


def encode_inputs(q: LoihiFixedNet, x: Any) -> np.ndarray:
    """Graded inputs ``x`` (any shape, usually (T, I)) as the int32 messages the ``Injector``
    sends: ``round(x * 2**q.x_shift)`` (half to even), each within 24 signed bits.

    Example:
        >>> from metaplastic.spiking import SpikingNet
        >>> q = quantize(SpikingNet(w_in=[[1.0, 1.0]], w_out=[[1.0]], du=1, dv=1))
        >>> encode_inputs(q, [[1.0, -0.5]]).tolist()
        [[4096, -2048]]
        >>> encode_inputs(q, [[1e4, 0.0]])
        Traceback (most recent call last):
        ...
        metaplastic.errors.ConfigError: encode_inputs: |x| = 10000 at index (0, 0) does not fit a 24-bit message at x_shift=12 (|x| < 2048); quantize with a larger x_max
    """
    try:
        a = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("encode_inputs: x must be an array of numbers") from None
    if not np.all(np.isfinite(a)):
        raise ConfigError("encode_inputs: x must be finite")
    m = np.rint(a * 2.0 ** q.x_shift)
    bad = np.argwhere(np.atleast_1d(np.abs(m) > _MSG_TOP))
    if bad.size:
        at = tuple(int(i) for i in bad[0])
        raise ConfigError(f"encode_inputs: |x| = {abs(np.atleast_1d(a)[at]):g} at index {at} does not fit a "
                          f"{MESSAGE_BITS}-bit message at x_shift={q.x_shift} (|x| < {2.0 ** (23 - q.x_shift):g}); "
                          "quantize with a larger x_max")
    return m.astype(np.int32)


def _int_inputs(q: LoihiFixedNet, xs: Any) -> np.ndarray:
    """``xs`` as an int64 (T, I) array of 24-bit messages."""
    try:
        a = np.array(xs)
    except (TypeError, ValueError):
        raise ConfigError("simulate_fixed: xs must be an array of integers") from None
    if a.ndim != 2 or a.shape[1] != q.n_inputs:
        raise ConfigError(f"simulate_fixed: xs must have shape (T, {q.n_inputs}), got {a.shape}")
    if a.dtype.kind not in "iu" and not (a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.rint(a))):
        raise ConfigError("simulate_fixed: xs must hold integers (encode graded inputs with encode_inputs(q, x))")
    a = a.astype(np.int64)
    if a.size and np.abs(a).max() > _MSG_TOP:
        raise ConfigError(f"simulate_fixed: xs must fit {MESSAGE_BITS}-bit signed messages (|x_int| <= {_MSG_TOP})")
    return a


# --- the bit-exact simulator


def simulate_fixed(q: LoihiFixedNet, xs: Any, *, states: bool = False) -> Any:
    """Step the fixed-point network through integer inputs ``xs`` (T, I) (from
    :func:`encode_inputs`), from rest, exactly as Lava's ``fixed_pt`` models do.

    The graph is ``Injector -> Dense(w_in) -> neurons`` with ``neurons -> Dense(w_rec) ->
    neurons``; both ``Dense`` deliver one step late (step 0 sees zeros), so ``x[t]`` and
    ``s[t]`` reach the neurons at step t + 1. Returns the spikes (T, N) bool; with
    ``states=True``, also a dict of the int64 state (T, N) at the end of each step (``u``,
    ``v``; ATRLIF also ``theta``, ``r``, with ``u`` Lava's ``i``), as Lava's ``Var.get()``
    reads it.

    Integer widths follow Lava's numpy dtypes: int32 sums in the input ``Dense`` and at the
    neuron's ``a_in`` (which adds both ``Dense`` outputs), 64-bit products in the decays.

    Example:
        >>> from metaplastic.spiking import SpikingNet
        >>> net = SpikingNet(w_in=[[1.0]], w_rec=[[-2.0]], w_out=[[1.0]], du=1.0, dv=0.5, vth=0.5)
        >>> q = quantize(net)
        >>> s, st = simulate_fixed(q, encode_inputs(q, [[1.0]] * 5), states=True)
        >>> s[:, 0].tolist()
        [False, True, False, False, True]
        >>> (st["v"][:, 0] / q.scale).tolist()    # v in a.u.: 0.5 at step 3 is not above vth
        [0.0, 0.0, -1.0, 0.5, 0.0]
    """
    if not isinstance(q, LoihiFixedNet):
        raise ConfigError(f"simulate_fixed: expected a LoihiFixedNet (from quantize), got {type(q).__name__}")
    x = _int_inputs(q, xs)
    steps, n = x.shape[0], q.n_neurons
    w_in, w_rec = q.w_in.astype(np.int64), q.w_rec.astype(np.int64)
    p = q.process
    alif = q.neuron == ADAPTIVE_LIF.name
    mant, bexp = p["bias_mant"].astype(np.int64), p["bias_exp"].astype(np.int64)
    bias = np.where(bexp >= 0, mant << np.maximum(bexp, 0), mant >> np.maximum(-bexp, 0))  # scale_bias
    if alif:
        # PyATRLIFModelFixed multiplies the current by a float factor and truncates the product
        # (exact for deltas k / 4096), and truncates the other factors before multiplying
        f_u = _UNITY - (p["delta_i"] * _UNITY + 1)
        f_v, f_theta, f_r = (np.trunc(_UNITY - p[name] * _UNITY).astype(np.int64)
                             for name in ("delta_v", "delta_theta", "delta_r"))
        theta0 = _wrap32(p["theta_0"].astype(np.int64) * 64)
        theta_step = _wrap32(p["theta_step"].astype(np.int64) * 64)
        theta, r = theta0.copy(), np.zeros(n, np.int64)
    else:
        f_u, f_v = _UNITY - (p["du"].astype(np.int64) + 1), _UNITY - p["dv"].astype(np.int64)
        vth = p["vth"].astype(np.int64) << ACT_SHIFT
    u, v = np.zeros(n, np.int64), np.zeros(n, np.int64)
    buf_in, buf_rec = np.zeros(n, np.int64), np.zeros(n, np.int64)
    spikes = np.zeros((steps, n), bool)
    rec = {name: np.zeros((steps, n), np.int64) for name in (("u", "v", "theta", "r") if alif else ("u", "v"))}
    for t in range(steps):
        a = _wrap32(buf_in + buf_rec)                               # LIF/ATRLIF a_in: both Dense, int32
        act = _wrap32(a << ACT_SHIFT)                               # << 6 (LIF), * 64 (ATRLIF), int32
        u = _wrap24(_wrap32(_trunc_decay(u, f_u) + act))
        v = np.clip(_wrap32(_trunc_decay(v, f_v) + u + bias), -_MAX_UV + 1, _MAX_UV - 1)
        if alif:
            theta = _wrap32(_trunc_decay(_wrap32(theta - theta0), f_theta) + theta0)
            r = _wrap32(_trunc_decay(r, f_r))
            s = _wrap32(v - r) >= theta
            r = np.where(s, _wrap32(r + _wrap32(2 * theta)), r)
            theta = np.where(s, _wrap32(theta + theta_step), theta)
        else:
            s = v > vth
            v = np.where(s, 0, v)
        spikes[t] = s
        if states:
            rec["u"][t], rec["v"][t] = u, v
            if alif:
                rec["theta"][t], rec["r"][t] = theta, r
        # what each Dense received this step, delivered at the next one
        buf_in = _wrap32(_shift(_wrap32(w_in @ x[t]), q.w_in_exp))   # int32 dot, then the exponent
        buf_rec = _wrap32(_shift(w_rec[:, s].sum(axis=1), q.w_rec_exp))  # int64 sum, int32 on the channel
    return (spikes, rec) if states else spikes
