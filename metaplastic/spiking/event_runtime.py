"""``EventDrivenLanes``: many independent copies ("lanes") of one
:class:`~metaplastic.spiking.SpikingNet`, stepped decision by decision by the numba
kernels (:mod:`metaplastic.spiking.kernels`). numpy and numba only: no torch on this path.

Example:
    >>> import numpy as np
    >>> from metaplastic.spiking import SpikingNet
    >>> net = SpikingNet(w_in=[[2.0]], w_out=[[1.0]], du=1.0, dv=1.0, substeps=2)
    >>> lanes = EventDrivenLanes(net, num_lanes=3)
    >>> lanes.reset()
    >>> lanes.decide(np.ones((3, 1)), np.zeros(3), np.array([True, True, False]))[:, 0].tolist()
    [1.0, 1.0, 0.0]
    >>> lanes.ops().synaptic_events, lanes.ops().neuron_updates
    (0, 4)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metaplastic.core import OpCounts
from metaplastic.spiking import kernels as K
from metaplastic.spiking.net import SpikingNet

F32 = np.float32


def aligned_zeros(shape: Any, dtype: Any = F32) -> np.ndarray:
    """Zeros, C-contiguous, whose data start on a 64-byte boundary: a cache line, so that the
    kernels' vector loads of a weight row (512 bytes for 128 neurons) do not straddle two
    lines. (numpy's own arrays start on 16 bytes: a decision at batch 1 then takes up to a
    tenth longer, by the luck of the allocation.)"""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buf = np.zeros(nbytes + 64, np.uint8)
    start = -buf.ctypes.data % 64
    return buf[start : start + nbytes].view(dtype).reshape(shape)


def aligned(a: Any, dtype: Any = F32) -> np.ndarray:
    """A copy of ``a`` as :func:`aligned_zeros` lays it out."""
    a = np.asarray(a)
    out = aligned_zeros(a.shape, dtype)
    out[...] = a
    return out


def _ready(a: Any, dtype: Any) -> bool:
    """Whether ``a`` can go to the kernel as it is (saves copies on the latency path)."""
    return isinstance(a, np.ndarray) and a.dtype == dtype and a.flags.c_contiguous


class EventDrivenLanes:
    """``num_lanes`` copies of ``net``, each with its own state (and, when plastic, its own
    weights, restored at every :meth:`reset`)."""

    def __init__(self, net: SpikingNet, num_lanes: int):
        if not isinstance(net, SpikingNet):
            raise TypeError(f"EventDrivenLanes runs a SpikingNet, got {type(net).__name__}")
        self.net, self.num_lanes = net, int(num_lanes)
        n, i, lanes = net.n_neurons, net.n_inputs, self.num_lanes
        p = net.plasticity
        self.plastic_in, self.plastic_rec = bool(np.any(p.lr_in)), bool(np.any(p.lr_rec))
        self.plastic = self.plastic_in or self.plastic_rec
        self._w_in_t = aligned(net.w_in.T[None])
        self._w_rec_t = aligned(net.w_rec.T[None])
        self.w_out = aligned(net.w_out)
        self.b_out = aligned(net.b_out)
        self.neuron = aligned(np.stack([getattr(net, name) for name in K.PARAM_ROWS]))
        model = net.neuron_type
        self.kind = K.NEURON_CODES[model]
        self.state_words = len(model.state) + 1  # the model's state variables and the readout trace
        self.keep = float(1.0 - p.trace_decay)
        empty3 = np.zeros((0, 0, 0), F32)
        self.lr_in_t = aligned(p.lr_in.T) if self.plastic_in else np.zeros((0, 0), F32)
        self.lr_rec_t = aligned(p.lr_rec.T) if self.plastic_rec else np.zeros((0, 0), F32)
        self.e_in = aligned_zeros((lanes, i, n)) if self.plastic_in else empty3
        self.e_rec = aligned_zeros((lanes, n, n)) if self.plastic_rec else empty3
        # per-lane weights only when plasticity changes them
        self.w_in_t, self.w_rec_t = self._w_in_t, self._w_rec_t
        if self.plastic:
            self.w_in_t, self.w_rec_t = aligned_zeros((lanes, i, n)), aligned_zeros((lanes, n, n))  # set by reset
        self.state = aligned_zeros((5, lanes, n))
        self.x_prev = aligned_zeros((lanes, i))
        self.spk = aligned_zeros((lanes, n), np.int32)
        self.nspk = np.zeros(lanes, np.int64)
        self.y = aligned_zeros((lanes, net.n_outputs))
        self.counts = np.zeros(K.N_COUNTS, np.int64)
        # one lane's time step's scratch (its synaptic input, who spiked and fired), for kernels.act
        self._a, self._fired, self._spiked = aligned_zeros(n), aligned_zeros(n, np.int32), np.zeros(n, np.bool_)
        self.reset()

    def kernel_args(self) -> tuple:
        """The lanes' fields of :class:`metaplastic.spiking.kernels.AgentArrays` (the first ones,
        in order): the network, its state, the counts and a time step's scratch. The arrays are
        updated in place, never replaced, so they stay valid for the lanes' life."""
        return (self.w_in_t, self.w_rec_t, self.w_out, self.b_out, self.neuron, self.kind, self.state_words,
                self.lr_in_t, self.lr_rec_t, self.keep, self.e_in, self.e_rec, self.state, self.x_prev, self.spk,
                self.nspk, int(self.net.substeps), self.y, self.counts, self._a, self._fired, self._spiked)

    def reset(self, lanes: Any = None) -> None:
        """Every lane (or the lanes in the boolean mask ``lanes``) back to rest."""
        idx = slice(None) if lanes is None else np.flatnonzero(np.asarray(lanes, dtype=bool))
        self.state[:, idx] = 0.0
        self.state[K.THETA, idx] = self.neuron[K.VTH]
        self.x_prev[idx] = 0.0
        self.nspk[idx] = 0
        self.y[idx] = 0.0
        if self.plastic:
            self.w_in_t[idx] = self._w_in_t[0]
            self.w_rec_t[idx] = self._w_rec_t[0]
            if self.plastic_in:
                self.e_in[idx] = 0.0
            if self.plastic_rec:
                self.e_rec[idx] = 0.0
        if lanes is None:
            self.counts[:] = 0

    def decide(self, x: Any, modulation: Any, active: Any) -> np.ndarray:
        """Run one decision (``substeps`` time steps) on the active lanes; the readout ``y``
        (num_lanes, A) — rows of inactive lanes hold their last value."""
        x = x if _ready(x, F32) else np.ascontiguousarray(x, dtype=F32)
        mod = modulation if _ready(modulation, F32) else np.ascontiguousarray(modulation, dtype=F32)
        act = active if _ready(active, np.bool_) else np.ascontiguousarray(active, dtype=np.bool_)
        if x.shape != self.x_prev.shape or mod.shape != self.nspk.shape or act.shape != self.nspk.shape:
            # the kernel does no bounds checks: refuse what would read or write out of bounds
            raise ValueError(f"decide needs x {self.x_prev.shape}, modulation and active ({self.num_lanes},); "
                             f"got {x.shape}, {mod.shape}, {act.shape}")
        K.decide(self.w_in_t, self.w_rec_t, self.w_out, self.b_out, self.neuron, self.kind, self.state_words,
                 self.lr_in_t, self.lr_rec_t, self.keep, self.e_in, self.e_rec, self.state, self.x_prev, self.spk,
                 self.nspk, x, mod, act, self.net.substeps, self.y, self.counts)
        return self.y

    def ops(self) -> OpCounts:
        """Operations executed since the last full :meth:`reset` (``decisions`` left 0)."""
        c = self.counts
        return OpCounts(macs=int(c[K.MACS]), acs=int(c[K.ACS]), synaptic_events=int(c[K.EVENTS]),
                        neuron_updates=int(c[K.NEURON_UPDATES]), mem_bytes=int(c[K.MEM_BYTES]),
                        synaptic_updates=int(c[K.SYNAPTIC_UPDATES]), trace_updates=int(c[K.TRACE_UPDATES]),
                        spikes=int(c[K.SPIKES]))

    # views of the state, for tests and inspection
    @property
    def voltage(self) -> np.ndarray:
        return self.state[K.V]

    @property
    def current(self) -> np.ndarray:
        return self.state[K.U]

    def recurrent_weights(self, lane: int = 0) -> np.ndarray:
        """Lane ``lane``'s recurrent weights (N, N), post-synaptic rows, as float64."""
        return self.w_rec_t[lane if self.plastic else 0].T.astype(np.float64)
