"""The framework-neutral spiking network that every spiking backend executes.

A :class:`SpikingNet` holds numpy arrays and scalars only: snntorch trains it, the numba
kernels run it event-driven, Lava runs it on its Loihi 2 simulator (through NIR, see
:mod:`metaplastic.spiking.nir_io`), and :func:`metaplastic.spiking.reference.simulate` steps
its equations in plain numpy as the ground truth the others are tested against.

Example:
    >>> import numpy as np
    >>> net = SpikingNet(w_in=np.ones((4, 2)), w_out=np.ones((3, 4)), du=0.5, dv=0.25)
    >>> net
    SpikingNet(neuron='cuba-lif', inputs=2, neurons=4, outputs=3, dt=0.001, substeps=1, encoding='current', plastic=False)
    >>> net.w_rec.shape, net.vth
    ((4, 4), array([1., 1., 1., 1.]))
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runs.atomic import atomic_save_npz
from metaplastic.spiking.neurons import CUBA_LIF, NEURON_TYPES, NeuronType

__all__ = ["SpikingNet", "Plasticity", "NEURONS", "ENCODINGS", "HEADS", "MODULATORS", "FORMAT", "VERSION"]

NEURONS = tuple(NEURON_TYPES)        # the names of the neuron models (metaplastic.spiking.neurons)
ENCODINGS = ("current",)             # how an encoded observation enters the network
HEADS = ("categorical", "gaussian")  # what the readout y is: logits, or the mean of a diagonal Gaussian
MODULATORS = ("reward", "rpe")       # the third factor of the plasticity rule
FORMAT = "metaplastic.SpikingNet"    # tag of the npz file and of the NIR side field
VERSION = 2                          # 2 added ``head`` and ``log_std`` (a version-1 file is a categorical head)
_ADDED_IN = {"head": 2, "log_std": 2}  # fields a file of an older version lacks (it takes their defaults)


_MODEL_PARAMS = tuple(dict.fromkeys(p for t in NEURON_TYPES.values() for p in t.params))  # all models' parameters


# --- validation helpers: every failure is a one-line ConfigError naming the field and the fix


def _label(name: Any, limit: int = 200) -> str:
    """A name or path for a message: as it is when printable on one line, else its ``repr``;
    cut to ``limit`` characters."""
    text = str(name)
    text = text if isinstance(name, (str, Path)) and text and text.isprintable() else repr(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _is_file(path: Path, fix: str) -> bool:
    """``path.is_file()``; a path the OS refuses (too long, a NUL byte) is a one-line RunDirError."""
    try:
        return path.is_file()
    except (OSError, ValueError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else _first_line(e)
        raise RunDirError(f"{_label(path)}: cannot use this path ({why}); {fix}") from None


def _show(value: Any, limit: int = 60) -> str:
    """``value`` for a one-line message: an array as its shape and dtype, anything else as
    its ``repr`` on one line, cut to ``limit`` characters."""
    if isinstance(value, np.ndarray) and value.ndim:
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        value = value.item()  # a 0-d array: its value
    try:
        text = " ".join(repr(value).split())
    except ValueError:  # an int past Python's int-to-text digit limit
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _floats(owner: str, name: str, value: Any) -> np.ndarray:
    """A float64 copy of ``value``; real numbers only, all finite."""
    try:
        a = np.array(value, copy=True)
    except (TypeError, ValueError):
        raise ConfigError(f"{owner}: {name} must be an array of numbers, got {type(value).__name__}") from None
    if a.dtype.kind not in "iuf":
        raise ConfigError(f"{owner}: {name} must hold real numbers (int or float), got dtype {a.dtype}")
    a = a.astype(np.float64)
    _refuse(owner, name, a, ~np.isfinite(a), "finite")
    return a


def _refuse(owner: str, name: str, a: np.ndarray, bad: np.ndarray, must: str) -> None:
    """Raise naming the first element of ``a`` where ``bad`` holds."""
    where = np.argwhere(np.atleast_1d(bad))
    if where.size:
        at = tuple(int(i) for i in where[0])
        index = f" at index {at}" if a.ndim else ""
        raise ConfigError(f"{owner}: {name} must be {must}, got {np.atleast_1d(a)[at]:g}{index}")


def _shaped(owner: str, name: str, value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``value`` as a float64 array of ``shape``; a scalar is broadcast to it."""
    a = _floats(owner, name, value)
    if a.ndim == 0:
        return np.full(shape, float(a))
    if a.shape != shape:
        raise ConfigError(f"{owner}: {name} must have shape {shape} ({what}) or be a scalar, got shape {a.shape}")
    return a


def _matrix(owner: str, name: str, value: Any, what: str) -> np.ndarray:
    """``value`` as a non-empty 2-D float64 array."""
    a = _floats(owner, name, value)
    if a.ndim != 2 or 0 in a.shape:
        raise ConfigError(f"{owner}: {name} must be a non-empty 2-D array ({what}), got shape {a.shape}")
    return a


def _in_range(owner: str, name: str, a: np.ndarray, low: float, high: float = np.inf,
              low_open: bool = False, unit: str = "") -> None:
    """Raise unless every element of ``a`` lies in [low, high] (or (low, high])."""
    span = (f"in {'(' if low_open else '['}{low:g}, {high:g}]" if np.isfinite(high)
            else f"{'>' if low_open else '>='} {low:g}")
    _refuse(owner, name, a, (a <= low if low_open else a < low) | (a > high), span + unit)


def _scalar(owner: str, name: str, value: Any, kind: type) -> float | int:
    """A Python float or int (never bool) for ``value``."""
    ok = isinstance(value, (int, np.integer)) if kind is int else isinstance(value, (int, float, np.integer, np.floating))
    if isinstance(value, (bool, np.bool_)) or not ok:
        raise ConfigError(f"{owner}: {name} must be {'an integer' if kind is int else 'a number'}, got {_show(value)}")
    return kind(value)


def _choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, got {_show(value)}")
    return value


def _freeze(obj: Any, values: Mapping[str, Any]) -> None:
    """Set the fields of a frozen dataclass, making arrays read-only."""
    for k, v in values.items():
        if isinstance(v, np.ndarray):
            v.flags.writeable = False
        object.__setattr__(obj, k, v)


def _same(a: Any, b: Any) -> bool:
    """Field-wise exact equality of two dataclasses of the same type (arrays element-wise)."""
    if type(a) is not type(b):
        return False
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        same = np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
        if not same:
            return False
    return True


# --- the plasticity coefficients


@dataclass(frozen=True, eq=False, kw_only=True)
class Plasticity:
    r"""Coefficients of a three-factor (eligibility trace × modulation) plasticity rule.

    At every time step t, after the neurons have stepped (see :class:`SpikingNet`), with
    ``x[t-1]`` and ``s[t-1]`` the presynaptic activity that arrived at step t::

        E_in[t]  = (1 - trace_decay) * E_in[t-1]  + outer(s[t], x[t-1])
        E_rec[t] = (1 - trace_decay) * E_rec[t-1] + outer(s[t], s[t-1])
        W_in  += lr_in  * m[t] * E_in[t]          (element-wise)
        W_rec += lr_rec * m[t] * E_rec[t]

    ``E`` starts at 0. ``m[t]`` is the third factor: 0 at every step except the first step
    after the agent observed a reward, where it is that reward's :meth:`modulation`. A zero
    learning rate freezes a synapse, so all-zero rates (the default) mean no plasticity, and
    a sparse mask of non-zero rates adapts only a subset of synapses.

    Example:
        >>> p = Plasticity(lr_rec=0.01, trace_decay=0.1, modulator="rpe", baseline_decay=0.5)
        >>> p.enabled
        True
        >>> p.modulation([1.0, 1.0, 0.0]).tolist()
        [1.0, 0.5, -0.75]
    """

    lr_in: np.ndarray | float = 0.0    # (N, I) or scalar: weight change per (modulation · trace)
    lr_rec: np.ndarray | float = 0.0   # (N, N) or scalar: same, for recurrent synapses
    trace_decay: float = 1.0           # [0, 1] per time step; 1 keeps only the current step
    modulator: str = "reward"          # "reward": m = r; "rpe": m = r - running mean of r
    baseline_decay: float = 0.1        # [0, 1] per reward: update rate of the "rpe" baseline

    def __post_init__(self) -> None:
        owner = "Plasticity"
        values: dict[str, Any] = {}
        for name in ("lr_in", "lr_rec"):
            a = _floats(owner, name, getattr(self, name))
            if a.ndim not in (0, 2):
                raise ConfigError(f"{owner}: {name} must be a scalar or a 2-D array (post, pre), got shape {a.shape}")
            values[name] = a
        for name in ("trace_decay", "baseline_decay"):
            v = _scalar(owner, name, getattr(self, name), float)
            _in_range(owner, name, _floats(owner, name, v), 0.0, 1.0, unit=" (a decay)")
            values[name] = v
        values["modulator"] = _choice(owner, "modulator", self.modulator, MODULATORS)
        _freeze(self, values)

    @property
    def enabled(self) -> bool:
        """Whether any synapse has a non-zero learning rate."""
        return bool(np.any(self.lr_in) or np.any(self.lr_rec))

    def modulation(self, rewards: Any) -> np.ndarray:
        """The third factor for a sequence of rewards, one per decision.

        ``"reward"`` uses the reward itself; ``"rpe"`` a reward-prediction error
        ``m_k = r_k - b_k`` with ``b_0 = 0`` and ``b_{k+1} = (1 - baseline_decay)·b_k +
        baseline_decay·r_k``.

        Example:
            >>> Plasticity().modulation([1, 0]).tolist()
            [1.0, 0.0]
        """
        r = _floats("Plasticity.modulation", "rewards", rewards).reshape(-1)
        if self.modulator == "reward":
            return r
        m, b = np.empty_like(r), 0.0
        for k, rk in enumerate(r):
            m[k] = rk - b
            b = (1.0 - self.baseline_decay) * b + self.baseline_decay * rk
        return m

    def _sized(self, n: int, i: int) -> Plasticity:
        """A copy whose learning rates are full (N, I) and (N, N) arrays."""
        lr_in = _shaped("Plasticity", "lr_in", self.lr_in, (n, i), "post-synaptic neurons, inputs")
        lr_rec = _shaped("Plasticity", "lr_rec", self.lr_rec, (n, n), "post-synaptic, pre-synaptic neurons")
        return replace(self, lr_in=lr_in, lr_rec=lr_rec)

    def __eq__(self, other: object) -> bool:
        return _same(self, other) if isinstance(other, Plasticity) else NotImplemented


# --- the network


@dataclass(frozen=True, eq=False, kw_only=True)
class SpikingNet:
    r"""A recurrent spiking network: the one description every spiking backend executes.

    ``N`` neurons, ``I`` inputs, ``A`` readout units. Per-neuron parameters are arrays of
    shape (N,) (a scalar is broadcast); arrays are copied and made read-only. Units: the
    voltage ``v``, the current ``u`` and every weight share one arbitrary unit (a.u.), in
    which ``vth`` is expressed; decays are fractions per time step; ``dt`` is in seconds.

    **Time step t** (all state is 0 at t = -1, except ``θ[-1] = vth``). Synapses are Lava's
    ``Dense``: they deliver what was emitted one step earlier, for input and recurrent
    connections alike (``x[-1] = 0``, ``s[-1] = 0``)::

        a[t] = w_in @ x[t-1] + w_rec @ s[t-1]

    ``neuron="cuba-lif"`` (Lava ``LIF``)::

        u[t] = (1 - du) * u[t-1] + a[t]
        v[t] = (1 - dv) * v[t-1] + u[t] + bias
        s[t] = v[t] > vth;   where s[t]: v[t] = 0

    ``neuron="alif"`` (Lava ``ATRLIF``, lava-dl's ALIF; ``vth`` is the resting threshold θ0)::

        u[t] = (1 - du) * u[t-1] + a[t]
        v[t] = (1 - dv) * v[t-1] + u[t] + bias
        θ[t] = (1 - dtheta) * (θ[t-1] - vth) + vth
        r[t] = (1 - dr) * r[t-1]
        s[t] = v[t] - r[t] >= θ[t];   where s[t]: r[t] += 2 * θ[t], then θ[t] += theta_step

    **Readout** (non-spiking: a leaky trace of each neuron's spikes, read by an affine map;
    computed from ``s[t]`` in the same step, on the host when the network runs on a chip)::

        z[t] = (1 - readout_decay) * z[t-1] + s[t]
        y[t] = w_out @ z[t] + b_out

    **Action head.** ``head="categorical"`` (Discrete actions): ``y`` are the logits of the
    ``A`` actions. ``head="gaussian"`` (Box actions of ``A`` numbers): ``y`` is the mean of
    a diagonal Gaussian whose standard deviation is ``exp(log_std)`` (state-independent, as
    snntorch's and torch's Gaussian heads have it); actions are clipped to the space's
    bounds before the environment gets them. ``log_std`` is read by the Gaussian head only.

    **Decisions.** ``encoding="current"``: the encoded observation is a float vector of
    length I, injected as graded input ``x[t]`` at each of the ``substeps`` time steps of a
    decision (in Lava, a ``Dense`` built with ``num_message_bits > 0``); the action is read
    from ``y`` at the decision's last step. State carries over from decision to decision
    and is reset only when a trial begins. **Plasticity**: see :class:`Plasticity`.

    Lava's ``LIF`` and ``ATRLIF`` take one ``du``, ``dv``, ``vth`` (and ``dtheta``, ``dr``,
    ``theta_step``) per process: a network whose values differ across neurons maps to one
    process per group of equal values. snntorch's NIR importer needs one ``vth`` for all.

    Example:
        >>> import numpy as np
        >>> net = SpikingNet(neuron="alif", w_in=[[1.0]], w_out=[[1.0]], du=1.0, dv=0.5,
        ...                  dtheta=0.1, theta_step=0.5, dr=0.2)
        >>> net.theta_step, net.n_neurons
        (array([0.5]), 1)
        >>> net == SpikingNet.from_arrays(net.to_arrays())
        True
    """

    neuron: str = CUBA_LIF.name         # one of NEURONS; the model itself is neuron_type
    w_in: np.ndarray                    # (N, I) input weights [a.u. of current per input unit]
    w_rec: np.ndarray | float = 0.0     # (N, N) recurrent weights, row = post-synaptic [a.u. per spike]
    w_out: np.ndarray                   # (A, N) readout weights [readout unit per unit of trace z]
    b_out: np.ndarray | float = 0.0     # (A,) readout bias [readout unit]
    du: np.ndarray | float              # (N,) current decay [1/step], in [0, 1]
    dv: np.ndarray | float              # (N,) voltage decay [1/step], in [0, 1]
    vth: np.ndarray | float = 1.0       # (N,) threshold; alif: resting threshold θ0 [a.u.], > 0
    bias: np.ndarray | float = 0.0      # (N,) constant drive added to v [a.u. per step]
    dtheta: np.ndarray | float = 0.0    # (N,) alif threshold decay towards vth [1/step], in [0, 1]
    theta_step: np.ndarray | float = 0.0  # (N,) alif threshold increase per spike [a.u.], >= 0
    dr: np.ndarray | float = 0.0        # (N,) alif refractory-state decay [1/step], in [0, 1]
    readout_decay: np.ndarray | float = 1.0  # (N,) decay of the spike trace z [1/step], in [0, 1]; 1: z = s
    dt: float = 1e-3                    # duration of one time step [s], > 0
    substeps: int = 1                   # time steps per decision, >= 1
    encoding: str = "current"           # one of ENCODINGS
    head: str = "categorical"           # one of HEADS: what the readout y means
    log_std: np.ndarray | float = 0.0   # (A,) gaussian head: log standard deviation of each action number
    plasticity: Plasticity | None = None  # None: no plasticity (all learning rates 0)

    def __post_init__(self) -> None:
        o = "SpikingNet"
        neuron = _choice(o, "neuron", self.neuron, NEURONS)
        model = NEURON_TYPES[neuron]
        w_in = _matrix(o, "w_in", self.w_in, "neurons, inputs")
        n, i = w_in.shape
        w_out = _matrix(o, "w_out", self.w_out, "readout units, neurons")
        if w_out.shape[1] != n:
            raise ConfigError(f"{o}: w_out must have shape (A, {n}) to read the {n} neurons of w_in, got {w_out.shape}")
        shapes = {"w_rec": ((n, n), "post-synaptic, pre-synaptic neurons"),
                  "b_out": ((w_out.shape[0],), "one value per readout unit"),
                  "log_std": ((w_out.shape[0],), "one value per readout unit"),
                  **dict.fromkeys(("du", "dv", "vth", "bias", "dtheta", "theta_step", "dr", "readout_decay"),
                                  ((n,), "one value per neuron"))}
        v: dict[str, Any] = {"neuron": neuron, "w_in": w_in, "w_out": w_out}
        v.update((k, _shaped(o, k, getattr(self, k), shape, what)) for k, (shape, what) in shapes.items())
        for name in ("du", "dv", "dtheta", "dr", "readout_decay"):
            _in_range(o, name, v[name], 0.0, 1.0, unit=" (a decay per time step)")
        _in_range(o, "vth", v["vth"], 0.0, low_open=True, unit=" (spiking needs a positive threshold)")
        _in_range(o, "theta_step", v["theta_step"], 0.0)
        for name in _MODEL_PARAMS:  # what only other models read must stay 0
            if name not in model.params and np.any(v[name]):
                used_by = " or ".join(f"neuron={t.name!r}" for t in NEURON_TYPES.values() if name in t.params)
                raise ConfigError(f"{o}: {name} is used by {used_by} only; leave it 0 or set {used_by}")
        v["dt"] = _scalar(o, "dt", self.dt, float)
        _in_range(o, "dt", _floats(o, "dt", v["dt"]), 0.0, low_open=True, unit=" seconds")
        v["substeps"] = _scalar(o, "substeps", self.substeps, int)
        _in_range(o, "substeps", np.asarray(v["substeps"]), 1)
        v["encoding"] = _choice(o, "encoding", self.encoding, ENCODINGS)
        v["head"] = _choice(o, "head", self.head, HEADS)
        if v["head"] != "gaussian" and np.any(v["log_std"]):
            raise ConfigError(f"{o}: log_std is read by head='gaussian' only; leave it 0 or set head='gaussian'")
        plasticity = Plasticity() if self.plasticity is None else self.plasticity
        if not isinstance(plasticity, Plasticity):
            raise ConfigError(f"{o}: plasticity must be a Plasticity or None, got {type(plasticity).__name__}")
        v["plasticity"] = plasticity._sized(n, i)
        _freeze(self, v)

    @property
    def neuron_type(self) -> NeuronType:
        """The neuron model (:mod:`metaplastic.spiking.neurons`) that ``neuron`` names.

        Example:
            >>> SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1).neuron_type.state
            ('u', 'v')
        """
        return NEURON_TYPES[self.neuron]

    @property
    def n_inputs(self) -> int:
        """I, the length of an input vector."""
        return self.w_in.shape[1]

    @property
    def n_neurons(self) -> int:
        """N, the number of spiking neurons."""
        return self.w_in.shape[0]

    @property
    def n_outputs(self) -> int:
        """A, the number of readout units."""
        return self.w_out.shape[0]

    def check_action_space(self, space: Any) -> None:
        """A one-line :class:`ConfigError` unless the readout fits the action ``space``
        (:meth:`action_space_mismatch`), ending with the fix.

        Example:
            >>> from gymnasium import spaces
            >>> SpikingNet(w_in=[[1.0]], w_out=[[1.0], [1.0]], du=1, dv=1).check_action_space(spaces.Discrete(2))
            >>> SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1).check_action_space(spaces.Box(-1, 1, (1,)))
            Traceback (most recent call last):
            ...
            metaplastic.errors.ConfigError: this SpikingNet has a categorical head with 1 readout units; the task family needs a gaussian head with one readout unit per action number (1); use a network trained on this family
        """
        why = self.action_space_mismatch(space)
        if why is not None:
            from gymnasium import spaces

            fix = "; use a network trained on this family" if isinstance(space, (spaces.Discrete, spaces.Box)) else ""
            raise ConfigError(why + fix)

    def action_space_mismatch(self, space: Any) -> str | None:
        """Why the readout does not fit the action ``space``, or ``None`` when it does: one
        logit per action of a Discrete space (``head="categorical"``), the mean of each
        number of a Box (``head="gaussian"``).

        Example:
            >>> from gymnasium import spaces
            >>> SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1, head="gaussian").action_space_mismatch(spaces.Box(-1, 1, (1,)))
        """
        from gymnasium import spaces

        if isinstance(space, spaces.Discrete):
            if self.head == "categorical" and self.n_outputs == int(space.n):
                return None
            need = f"a categorical head with one readout unit per discrete action ({int(space.n)})"
        elif isinstance(space, spaces.Box):
            if self.head == "gaussian" and self.n_outputs == int(np.prod(space.shape)):
                return None
            need = f"a gaussian head with one readout unit per action number ({int(np.prod(space.shape))})"
        else:
            return f"SpikingNet agents act in Discrete or Box action spaces, not {type(space).__name__}"
        return (f"this SpikingNet has a {self.head} head with {self.n_outputs} readout units; the task family "
                f"needs {need}")

    def __eq__(self, other: object) -> bool:
        return _same(self, other) if isinstance(other, SpikingNet) else NotImplemented

    def __repr__(self) -> str:
        return (f"SpikingNet(neuron={self.neuron!r}, inputs={self.n_inputs}, neurons={self.n_neurons}, "
                f"outputs={self.n_outputs}, dt={self.dt:g}, substeps={self.substeps}, "
                f"encoding={self.encoding!r}, plastic={self.plasticity.enabled}"
                + (f", head={self.head!r})" if self.head != "categorical" else ")"))

    # --- arrays, npz

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every field as a numpy array (strings as unicode arrays): the npz layout.

        Plasticity fields are named ``plasticity.<field>``; ``format`` and ``version`` tag it.
        The version is the oldest that holds the network: a categorical head writes version
        1 (no ``head``, ``log_std``: what every metaplastic reads), a Gaussian one version 2.

        Example:
            >>> net = SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=1, dv=1)
            >>> sorted(net.to_arrays())[:4], int(net.to_arrays()["version"])
            (['b_out', 'bias', 'dr', 'dt'], 1)
        """
        version = VERSION if self.head != "categorical" else 1
        out = {"format": np.array(FORMAT), "version": np.array(version)}
        for f in fields(self):
            if f.name != "plasticity" and _ADDED_IN.get(f.name, 1) <= version:
                out[f.name] = np.array(getattr(self, f.name))
        for f in fields(Plasticity):
            out[f"plasticity.{f.name}"] = np.array(getattr(self.plasticity, f.name))
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> SpikingNet:
        """Build a network from :meth:`to_arrays` output (scalars may be plain Python values).

        Raises :class:`ConfigError` (one line) on a missing, unexpected or malformed entry.

        Example:
            >>> net = SpikingNet(w_in=[[2.0]], w_out=[[1.0]], du=0.5, dv=0.5)
            >>> SpikingNet.from_arrays(net.to_arrays()).w_in
            array([[2.]])
        """
        got = set(arrays)
        if not {"format", "version"} <= got:  # a foreign file: what a current one has
            cls._check_names(got, VERSION)
        fmt, version = np.asarray(arrays["format"]), np.asarray(arrays["version"])
        if fmt.shape != () or str(fmt) != FORMAT:
            raise ConfigError(f"not a SpikingNet: format is {str(fmt)[:40]!r}, expected {FORMAT!r}")
        if version.shape != () or version.dtype.kind not in "iu":
            raise ConfigError(f"not a SpikingNet: version must be an integer, got {_show(version)}; "
                              "write the file with SpikingNet.save(path)")
        if int(version) < 1:
            raise ConfigError(f"not a SpikingNet: version must be 1 or more, got {int(version)}; "
                              "write the file with SpikingNet.save(path)")
        if int(version) > VERSION:
            raise ConfigError(f"SpikingNet version {int(version)} is newer than this metaplastic reads ({VERSION}); "
                              "upgrade metaplastic")
        names = cls._check_names(got, int(version))
        kw = {name: _unpack(name, arrays[name]) for name in names}
        p = {f.name: _unpack(f"plasticity.{f.name}", arrays[f"plasticity.{f.name}"]) for f in fields(Plasticity)}
        return cls(**kw, plasticity=Plasticity(**p))

    @classmethod
    def _field_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name != "plasticity"]

    @classmethod
    def _check_names(cls, got: set, version: int) -> list[str]:
        """The fields a file of ``version`` holds; a one-line ConfigError unless ``got``
        (with ``format``, ``version`` and the plasticity fields) is exactly that."""
        names = [n for n in cls._field_names() if _ADDED_IN.get(n, 1) <= version]
        expected = {"format", "version", *names, *(f"plasticity.{f.name}" for f in fields(Plasticity))}
        if got - expected or expected - got:
            missing, extra = sorted(expected - got), sorted(got - expected, key=repr)
            raise ConfigError(f"not a SpikingNet: missing {missing or 'nothing'}, unexpected {extra or 'nothing'}")
        return names

    def save(self, path: str | Path) -> None:
        """Write the network to an ``.npz`` file atomically (no pickled objects).

        Example:
            >>> import tempfile, pathlib
            >>> p = pathlib.Path(tempfile.mkdtemp()) / "net.npz"
            >>> net = SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=0.5, dv=0.5)
            >>> net.save(p)
            >>> SpikingNet.load(p) == net
            True
        """
        atomic_save_npz(path, self.to_arrays())

    @classmethod
    def load(cls, path: str | Path) -> SpikingNet:
        """Read a network written by :meth:`save`.

        A missing, corrupt or foreign file raises a one-line :class:`RunDirError`.

        Example:
            >>> SpikingNet.load("/nonexistent/net.npz")
            Traceback (most recent call last):
            ...
            metaplastic.errors.RunDirError: /nonexistent/net.npz: no such file; write one with SpikingNet.save(path)
        """
        p = Path(path)
        if not _is_file(p, "write one with SpikingNet.save(path)"):
            raise RunDirError(f"{_label(p)}: no such file; write one with SpikingNet.save(path)")
        try:
            z = np.load(p, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("a single .npy array, not an .npz archive")
            with z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error,
                RuntimeError) as e:  # zipfile: NotImplementedError (a version, a compression), encrypted
            why = _first_line(e)
            raise RunDirError(f"{_label(p)}: not a readable SpikingNet npz ({why}); write one with SpikingNet.save(path)") from None
        try:
            return cls.from_arrays(arrays)
        except ConfigError as e:
            raise RunDirError(f"{_label(p)}: {e}") from None

    # --- NIR (needs the 'snn' extra; imported only when called)

    def to_nir(self, *, readout: bool = True):
        """This network as a ``nir.NIRGraph``; see :func:`metaplastic.spiking.nir_io.to_nir`.

        Example:
            >>> import pytest; _ = pytest.importorskip("nir")
            >>> net = SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=0.5, dv=0.5)
            >>> SpikingNet.from_nir(net.to_nir()) == net
            True
        """
        from metaplastic.spiking import nir_io

        return nir_io.to_nir(self, readout=readout)

    @classmethod
    def from_nir(cls, graph, *, dt: float | None = None) -> SpikingNet:
        """A network from a ``nir.NIRGraph``; see :func:`metaplastic.spiking.nir_io.from_nir`.

        Example:
            >>> import pytest; _ = pytest.importorskip("nir")
            >>> net = SpikingNet(neuron="alif", w_in=[[1.0]], w_out=[[1.0]], du=0.5, dv=0.5, dr=0.1)
            >>> SpikingNet.from_nir(net.to_nir(readout=False)) == net
            True
        """
        from metaplastic.spiking import nir_io

        return nir_io.from_nir(graph, dt=dt)


def _unpack(name: str, a: Any) -> Any:
    """An array from :meth:`SpikingNet.to_arrays` back to a constructor argument."""
    a = np.asarray(a)
    if a.dtype.kind == "U":
        if a.shape != ():
            raise ConfigError(f"not a SpikingNet: {name} must be a single string, got shape {a.shape}")
        return str(a)
    if a.shape == () and a.dtype.kind in "iu":
        return int(a)
    if a.shape == () and a.dtype.kind == "f":
        return float(a)
    return a


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
