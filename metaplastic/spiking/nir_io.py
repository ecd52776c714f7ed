r"""A :class:`~metaplastic.spiking.SpikingNet` to and from NIR, the neuromorphic
intermediate representation (nir >= 1.0) read by Lava-DL, snntorch, Norse, Sinabs, Rockpool.

**Graph.** ``to_nir`` writes::

    input (Input, I) -> w_in (Linear) -> lif (CubaLIF, N) -> readout (LI, N) -> w_out (Affine) -> output (A)
                                          lif <-> w_rec (Linear)        [only if w_rec has a non-zero]

With ``readout=False`` the population's spikes go straight to ``output`` (N), for
runtimes that compute the readout on the host (Lava) or cannot run an ``LI`` (snntorch,
whose importer maps no ``LI``).

**Parameters.** NIR's neurons are ODEs; forward Euler with our ``dt`` (as snntorch's
importer and exporter discretize them) gives our per-step equations exactly when::

    tau_syn = dt / du      w_in    = tau_syn / dt   (so that du * w_in = 1)
    tau_mem = dt / dv      r       = tau_mem / dt   (so that dv * r = 1)
    v_leak  = bias / dv    v_threshold = vth        v_reset = 0
    LI: tau = dt / readout_decay,  r = tau / dt,  v_leak = 0;   Affine: (w_out, b_out)

(the ``LI`` integrates the spikes into the trace z; the ``Affine`` reads y = w_out z + b_out).

A decay of 0 gives an infinite time constant (and ``r``, ``w_in`` or ``v_leak``), as
snntorch's own exporter writes it. Importing a graph without our side field inverts these
maps, folding any other ``r``/``w_in`` scale into the incoming weights and an ``LI``'s
``r`` into ``w_out`` (an ``LI`` must rest at ``v_leak = 0``).

**Side field** ``graph.metadata["metaplastic"]``: everything of :meth:`SpikingNet.to_arrays`
that the nodes do not carry exactly, so that ``from_nir(to_nir(net)) == net``:

- ``du``, ``dv``, ``bias``, ``readout_decay``: the nodes carry them as ``dt / d`` etc., and
  floating-point division does not invert exactly; ``from_nir`` checks that the nodes still
  agree with them (relative 1e-9) and refuses an edited graph;
- ``dt``, ``substeps``, ``encoding``: NIR graphs have no time step, decisions or encoding;
- ``neuron``, ``dtheta``, ``theta_step``, ``dr``: NIR has no adaptive-threshold neuron; an
  ``alif`` population is written as a ``CubaLIF`` whose ``v_threshold`` is θ0 — a consumer
  that ignores the side field runs it as a plain LIF (fixed threshold, reset to 0);
- ``plasticity.*``: NIR describes fixed weights;
- ``head``, ``log_std``: NIR has no action distribution (the ``Affine`` writes the logits,
  or a Gaussian head's mean);
- ``w_out``, ``b_out`` when exported with ``readout=False``; ``format``, ``version``.

**Timing against snntorch 1.0.** Synapses here deliver one step late (Lava's ``Dense``);
snntorch adds the input current in the step it arrives, so it reproduces our spikes when
driven with the inputs delayed by one step. Its recurrence (through nirtorch) is one step
late, as here; its ``Synaptic(reset_mechanism="zero", reset_delay=False)`` resets ``v``
to 0 in the spiking step and fires on ``v > threshold``, as Lava's ``LIF`` does. Its
importer assumes ``dt = 1e-4`` s, one threshold for all neurons and ``v_leak = 0``, and
rewrites ``lif <-> w_rec`` into a subgraph that sends the external input through ``w_rec``
too: it runs a recurrent network as if ``w_in`` were ``w_rec @ w_in``.

Example:
    >>> import pytest; _ = pytest.importorskip("nir")
    >>> from metaplastic.spiking import SpikingNet
    >>> net = SpikingNet(w_in=[[1.0, 0.5]], w_rec=[[0.2]], w_out=[[1.0]], du=0.5, dv=0.25)
    >>> sorted(to_nir(net).nodes)
    ['input', 'lif', 'output', 'readout', 'w_in', 'w_out', 'w_rec']
    >>> from_nir(to_nir(net)) == net
    True
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from metaplastic.errors import BackendUnavailable, ConfigError, RunDirError
from metaplastic.runs.atomic import atomic_write_bytes
from metaplastic.spiking.net import SpikingNet, _is_file, _label, _show

__all__ = ["to_nir", "from_nir", "write_nir", "read_nir", "SIDE_KEY"]

SIDE_KEY = "metaplastic"
_SHAPE = "Input -> Linear -> CubaLIF (<-> Linear) -> [LI -> Affine ->] Output"
_RTOL = 1e-9


def _nir():
    try:
        import nir
    except ImportError as e:
        raise BackendUnavailable(f"NIR support needs the 'nir' package ({e}); "
                                 "install it with: pip install 'metaplastic[snn]'") from None
    return nir


def _ratio(num: Any, den: np.ndarray) -> np.ndarray:
    """num / den element-wise, with 0 / 0 = 0 and x / 0 = ±inf, silently."""
    num = np.broadcast_to(np.asarray(num, dtype=np.float64), np.shape(den))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.true_divide(num, den)
    return np.where(num == 0, 0.0, q)


def _plain(a: np.ndarray) -> Any:
    """A 0-d array as a Python scalar (HDF5 cannot compress scalar datasets), else a copy."""
    return a.item() if a.shape == () else np.array(a)


def to_nir(net: SpikingNet, *, readout: bool = True):
    """``net`` as a ``nir.NIRGraph`` (see the module docstring for the mapping).

    Example:
        >>> import pytest; _ = pytest.importorskip("nir")
        >>> from metaplastic.spiking import SpikingNet
        >>> g = to_nir(SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=0.5, dv=0.25, dt=1e-3))
        >>> float(g.nodes["lif"].tau_mem[0]), float(g.nodes["lif"].r[0])
        (0.004, 4.0)
        >>> g.metadata["metaplastic"]["substeps"]
        1
    """
    nir = _nir()
    dt, n = net.dt, net.n_neurons
    tau_syn, tau_mem = _ratio(dt, net.du), _ratio(dt, net.dv)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([net.n_inputs])}),
        "w_in": nir.Linear(weight=np.array(net.w_in)),
        "lif": nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, v_leak=_ratio(net.bias, net.dv),
                           v_threshold=np.array(net.vth), v_reset=np.zeros(n), w_in=tau_syn / dt),
    }
    edges = [("input", "w_in"), ("w_in", "lif")]
    if np.any(net.w_rec):
        nodes["w_rec"] = nir.Linear(weight=np.array(net.w_rec))
        edges += [("lif", "w_rec"), ("w_rec", "lif")]
    expressed = {"w_in", "w_rec", "vth"}
    if readout:
        tau = _ratio(dt, net.readout_decay)
        nodes["readout"] = nir.LI(tau=tau, r=tau / dt, v_leak=np.zeros(n))
        nodes["w_out"] = nir.Affine(weight=np.array(net.w_out), bias=np.array(net.b_out))
        edges += [("lif", "readout"), ("readout", "w_out"), ("w_out", "output")]
        expressed |= {"w_out", "b_out"}
    else:
        edges.append(("lif", "output"))
    nodes["output"] = nir.Output(output_type={"output": np.array([net.n_outputs if readout else n])})
    side = {k: _plain(v) for k, v in net.to_arrays().items() if k not in expressed}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={SIDE_KEY: side})


def _structure(graph, nir) -> dict[str, str | None]:
    """The node names of each part of a SpikingNet graph, or a one-line ConfigError."""
    nodes, dense = graph.nodes, (nir.Linear, nir.Affine)
    succ: dict[str, list[str]] = {k: [] for k in nodes}
    pred: dict[str, list[str]] = {k: [] for k in nodes}
    for edge in graph.edges:
        try:
            a, b = edge
        except (TypeError, ValueError):
            raise ConfigError(f"NIR graph: edge {_show(edge)} is not a (source, target) pair of node names") from None
        if not isinstance(a, str) or not isinstance(b, str) or a not in nodes or b not in nodes:
            raise ConfigError(f"NIR graph: edge ({_show(a)}, {_show(b)}) names a node that is not in the graph")
        succ[a].append(b)
        pred[b].append(a)

    def one(names: list[str], what: str, kind: Any) -> str:
        if len(names) != 1 or not isinstance(nodes[names[0]], kind):
            found = ", ".join(f"{_label(k)} ({type(nodes[k]).__name__})" for k in names) or "none"
            raise ConfigError(f"NIR graph: expected one {what}, found {found}; metaplastic reads {_SHAPE}")
        return names[0]

    lif = one([k for k, v in nodes.items() if isinstance(v, nir.CubaLIF)], "CubaLIF population", nir.CubaLIF)
    inp = one([k for k, v in nodes.items() if isinstance(v, nir.Input)], "Input node", nir.Input)
    w_in = one(succ[inp], "Linear/Affine after the Input", dense)
    one(succ[w_in], f"population after {w_in!r}", nir.CubaLIF)
    rec = [k for k in pred[lif] if k != w_in]
    w_rec = one(rec, "recurrent Linear/Affine into the population", dense) if rec else None
    if w_rec is not None and (pred[w_rec] != [lif] or succ[w_rec] != [lif]):
        raise ConfigError(f"NIR graph: {w_rec!r} must connect the population to itself only; metaplastic reads {_SHAPE}")
    nxt = one([k for k in succ[lif] if k != w_rec], "connection out of the population", (nir.Output, nir.LI))
    w_out = li = None
    out = nxt
    if isinstance(nodes[nxt], nir.LI):
        li, w_out = nxt, one(succ[nxt], f"Linear/Affine after the LI readout {nxt!r}", dense)
        out = one(succ[w_out], f"Output after {w_out!r}", nir.Output)
    parts = {"input": inp, "w_in": w_in, "lif": lif, "w_rec": w_rec, "w_out": w_out, "readout": li, "output": out}
    extra = sorted(set(nodes) - set(parts.values()), key=repr)
    if extra:
        raise ConfigError(f"NIR graph: node(s) {', '.join(map(_label, extra))} are not part of a SpikingNet; metaplastic reads {_SHAPE}")
    return parts


def _numbers(where: str, value: Any) -> np.ndarray:
    """A node's field as a float64 array; anything but real numbers is a one-line ConfigError."""
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):  # a ragged nesting
        a = None
    if a is None or a.dtype.kind not in "biuf":
        raise ConfigError(f"NIR graph: {where} must be an array of real numbers, got {_show(value)}")
    return a.astype(np.float64)


def _per_neuron(where: str, value: Any, n: int) -> np.ndarray:
    """A population's (or readout's) parameter as an (n,) array; a scalar is broadcast."""
    a = _numbers(where, value)
    if a.ndim == 0:
        return np.full(n, float(a))
    if a.shape != (n,):
        raise ConfigError(f"NIR graph: {where} must have shape ({n},) (one value per neuron, as the rows of the "
                          f"input weight) or be a scalar, got shape {a.shape}")
    return a


def _matrix(where: str, value: Any, what: str, shape: tuple[int | None, int | None] = (None, None)) -> np.ndarray:
    """A weight as a non-empty 2-D array whose dimensions match ``shape`` where it gives one."""
    a = _numbers(where, value)
    if a.ndim != 2 or 0 in a.shape or any(want is not None and got != want for got, want in zip(a.shape, shape)):
        want = "" if shape == (None, None) else " of shape (" + ", ".join("any" if d is None else str(d)
                                                                         for d in shape) + ")"
        raise ConfigError(f"NIR graph: {where} must be a non-empty 2-D array ({what}){want}, got shape {a.shape}")
    return a


def _weight(node, name: str, nir, shape: tuple[int | None, int | None] = (None, None),
            what: str = "neurons, inputs") -> np.ndarray:
    """A Linear/Affine node's weight; an Affine bias must be 0 before the population."""
    if isinstance(node, nir.Affine) and np.any(_numbers(f"the bias of {name!r}", node.bias)):
        raise ConfigError(f"NIR graph: {_label(name)} is an Affine with a non-zero bias (a constant synaptic current), "
                          "which a SpikingNet cannot express (its bias drives v); make it a Linear")
    return _matrix(f"the weight of {name!r}", node.weight, what, shape)


def _derive(graph, parts: dict[str, str | None], dt: float, nir) -> dict[str, np.ndarray]:
    """SpikingNet arrays from the nodes alone, inverting the maps of the module docstring.
    Every field is checked (real numbers; shapes that agree with the input weight's N rows)
    before any arithmetic, so a malformed node is a one-line ConfigError."""
    w_in = _weight(graph.nodes[parts["w_in"]], parts["w_in"], nir)
    n = w_in.shape[0]
    lif = graph.nodes[parts["lif"]]

    def pop(field: str) -> np.ndarray:
        return _per_neuron(f"{field} of the CubaLIF {parts['lif']!r}", getattr(lif, field, None), n)

    if np.any(pop("v_reset")):
        raise ConfigError("NIR graph: the CubaLIF's v_reset must be 0 (Lava's LIF resets to 0)")
    tau_syn, tau_mem, scale_in, r, v_leak, vth = (pop(k) for k in ("tau_syn", "tau_mem", "w_in", "r", "v_leak",
                                                                   "v_threshold"))
    w_rec = parts["w_rec"]
    rec = (_weight(graph.nodes[w_rec], w_rec, nir, (n, n), "post-synaptic, pre-synaptic neurons") if w_rec
           else np.zeros((n, n)))
    readout = None
    if parts["w_out"]:
        aff, li, name = graph.nodes[parts["w_out"]], graph.nodes[parts["readout"]], parts["w_out"]
        w_out = _matrix(f"the weight of {name!r}", aff.weight, "readout units, neurons", (None, n))
        b = np.zeros(w_out.shape[0])
        if isinstance(aff, nir.Affine):
            b = _numbers(f"the bias of {name!r}", aff.bias)
            if b.shape not in ((), (w_out.shape[0],)):
                raise ConfigError(f"NIR graph: the bias of {name!r} must have shape ({w_out.shape[0]},) (one value "
                                  f"per row of its weight) or be a scalar, got shape {b.shape}")
            b = np.broadcast_to(b, (w_out.shape[0],)).copy()

        def lip(field: str) -> np.ndarray:
            return _per_neuron(f"{field} of the LI readout {parts['readout']!r}", getattr(li, field, None), n)

        if np.any(lip("v_leak")):
            raise ConfigError("NIR graph: the LI readout's v_leak must be 0 (a SpikingNet's spike trace rests at 0)")
        readout = (w_out, b, lip("tau"), lip("r"))
    with np.errstate(all="ignore"):
        du, dv = dt / tau_syn, dt / tau_mem
        k = (du * scale_in) * (dv * r)  # input scale of u; 1 for graphs we wrote
        out = {"du": du, "dv": dv, "bias": dv * v_leak, "vth": vth, "w_in": k[:, None] * w_in,
               "w_rec": k[:, None] * rec}
        if readout is not None:
            w_out, b, tau, r_li = readout
            dz = dt / tau
            out.update(readout_decay=dz, w_out=w_out * (dz * r_li)[None, :], b_out=b)
    return out


def _agree(name: str, derived: np.ndarray, exact: np.ndarray) -> None:
    """Refuse a graph whose nodes no longer match its side field (edited after export)."""
    ok = derived.shape == exact.shape
    if ok:
        finite = np.isfinite(derived)
        ok = bool(np.allclose(derived[finite], exact[finite], rtol=_RTOL, atol=0.0))
    if not ok:
        raise ConfigError(f"NIR graph: its nodes give another {name} than its '{SIDE_KEY}' side field "
                          f"(edited after export?); delete graph.metadata[{SIDE_KEY!r}] to import the nodes alone (with dt=)")


def _seconds(dt: Any) -> bool:
    """Whether ``dt`` is a positive, finite real number (not a bool, not an array)."""
    if isinstance(dt, (bool, np.bool_)) or not isinstance(dt, (int, float, np.integer, np.floating)):
        return False
    try:
        return 0 < float(dt) < float("inf")
    except OverflowError:  # an int too large for a float
        return False


def from_nir(graph, *, dt: float | None = None) -> SpikingNet:
    """A :class:`SpikingNet` from a ``nir.NIRGraph`` shaped as :func:`to_nir` writes it.

    With our side field the result is exact; without it (a graph from another tool) the
    network is rebuilt from the nodes with time step ``dt`` (seconds; snntorch uses 1e-4),
    as a ``cuba-lif`` network without plasticity, one sub-step per decision.

    Example:
        >>> import pytest; _ = pytest.importorskip("nir")
        >>> from metaplastic.spiking import SpikingNet
        >>> net = SpikingNet(w_in=[[1.0]], w_out=[[2.0]], du=0.5, dv=0.5, dt=1e-4)
        >>> g = to_nir(net)
        >>> del g.metadata["metaplastic"]
        >>> from_nir(g, dt=1e-4).w_out
        array([[2.]])
    """
    nir = _nir()
    if not isinstance(graph, nir.NIRGraph):
        raise ConfigError(f"from_nir needs a nir.NIRGraph, got {type(graph).__name__}")
    meta = graph.metadata if isinstance(graph.metadata, dict) else {}
    side = meta.get(SIDE_KEY)
    if side is not None and not isinstance(side, dict):
        raise ConfigError(f"NIR graph: metadata[{SIDE_KEY!r}] must be a dict, got {type(side).__name__}")
    if side is None and dt is None:
        raise ConfigError(f"NIR graph has no '{SIDE_KEY}' side field, so its time step is unknown; "
                          "pass dt= in seconds (snntorch's exporter uses 1e-4)")
    if side is not None:
        written = side.get("dt")
        if not _seconds(written):
            raise ConfigError(f"NIR graph: its '{SIDE_KEY}' side field's dt must be a positive number of seconds, "
                              f"got {_show(written)}; export the network again with write_nir")
        if dt is not None and not (_seconds(dt) and dt == written):
            raise ConfigError(f"NIR graph was written with dt={_show(written)}, got dt={_show(dt)}; leave dt out")
        dt = written
    if not _seconds(dt):
        raise ConfigError(f"NIR graph: dt must be a positive number of seconds, got {_show(dt)}")
    parts = _structure(graph, nir)
    derived = _derive(graph, parts, float(dt), nir)
    if side is None:
        if parts["w_out"] is None:
            raise ConfigError(f"NIR graph has no readout (LI -> Affine -> Output) and no '{SIDE_KEY}' side field "
                              "to take it from")
        return SpikingNet(**derived, dt=float(dt))
    nodes = graph.nodes
    raw = {"vth": derived["vth"], "w_in": _weight(nodes[parts["w_in"]], parts["w_in"], nir),
           "w_rec": _weight(nodes[parts["w_rec"]], parts["w_rec"], nir) if parts["w_rec"] else derived["w_rec"]}
    if parts["w_out"]:
        raw["w_out"], raw["b_out"] = _numbers("w_out", nodes[parts["w_out"]].weight), derived["b_out"]  # checked
    net = SpikingNet.from_arrays({**side, **raw})
    for name, value in derived.items():
        _agree(name, value, getattr(net, name))
    return net


def write_nir(net: SpikingNet, path: str | Path, *, readout: bool = True) -> None:
    """Write ``to_nir(net)`` to a NIR (HDF5) file atomically.

    Example:
        >>> import pytest; _ = pytest.importorskip("nir")
        >>> import tempfile, pathlib
        >>> from metaplastic.spiking import SpikingNet
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "net.nir"
        >>> net = SpikingNet(w_in=[[1.0]], w_out=[[1.0]], du=0.5, dv=0.5)
        >>> write_nir(net, p)
        >>> read_nir(p) == net
        True
    """
    buf = io.BytesIO()
    _nir().write(buf, to_nir(net, readout=readout))
    atomic_write_bytes(path, buf.getvalue())


def read_nir(path: str | Path, *, dt: float | None = None) -> SpikingNet:
    """Read a NIR file into a :class:`SpikingNet` (see :func:`from_nir` for ``dt``).

    A missing or unreadable file raises a one-line :class:`RunDirError`.

    Example:
        >>> import pytest; _ = pytest.importorskip("nir")
        >>> read_nir("/nonexistent/net.nir")
        Traceback (most recent call last):
        ...
        metaplastic.errors.RunDirError: /nonexistent/net.nir: no such file; write one with write_nir(net, path)
    """
    nir = _nir()
    p = Path(path)
    if not _is_file(p, "write one with write_nir(net, path)"):
        raise RunDirError(f"{_label(p)}: no such file; write one with write_nir(net, path)")
    try:
        graph = nir.read(p)
    except (OSError, LookupError, ValueError, TypeError, AssertionError, AttributeError, RuntimeError) as e:
        # h5py raises RuntimeError (and OSError, KeyError) on a damaged file
        first = (str(e).strip().splitlines() or [""])[0]
        raise RunDirError(f"{_label(p)}: not a readable NIR file ({type(e).__name__}: {first})") from None
    return from_nir(graph, dt=dt)
