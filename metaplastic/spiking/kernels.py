"""Numba kernels that run a :class:`~metaplastic.spiking.SpikingNet` event-driven.

One call, :func:`decide`, advances every active lane through the ``substeps`` time steps of
one decision and reads the readout once at the end. Synaptic input is delivered only from
what was emitted: each presynaptic spike adds one row of the (transposed) recurrent
weights to its targets, and each non-zero graded input one row of the input weights, so
the cost follows activity (spikes × fan-out), not the square of the layer size. The
three-factor plasticity rule runs in the same loop, and operation counts are accumulated
as the kernel executes them (index constants below). Compiled once, cached on disk
(``cache=True``).

The equations are :class:`~metaplastic.spiking.SpikingNet`'s; the numpy reference
simulator (:func:`metaplastic.spiking.simulate`) is the ground truth they are tested
against. Weights and state are stored in float32, like the snntorch training runtime
(intermediate products are formed in float64 by numba's promotion of the decay terms).

Array layout (``L`` lanes, ``N`` neurons, ``I`` inputs, ``A`` readout units):

* ``w_in_t`` (Lw, I, N) and ``w_rec_t`` (Lw, N, N): weights transposed (row = one
  presynaptic source's fan-out); ``Lw`` is 1 (shared) or ``L`` (per-lane copies that
  plasticity changes).
* ``neuron`` (8, N): rows ``du, dv, vth, bias, dtheta, theta_step, dr, readout_decay``;
  ``kind`` the neuron type's code (:data:`NEURON_CODES`): which of :data:`NEURON_STEPS`
  steps the neurons.
* ``state`` (5, L, N): rows ``u, v, theta, r, z``; ``x_prev`` (L, I) the input in flight;
  ``spk`` (L, N) indices of the neurons that spiked last step, ``nspk`` (L,) how many.
* ``lr_in_t`` (I, N), ``lr_rec_t`` (N, N), ``e_in`` (L, I, N), ``e_rec`` (L, N, N): the
  plasticity rates and eligibility traces, transposed like the weights (size 0 when off).
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
from numba.extending import overload

from metaplastic.spiking.neurons import ADAPTIVE_LIF, CUBA_LIF, NeuronType

# indices into the ``counts`` array the kernels accumulate into
MACS, ACS, EVENTS, NEURON_UPDATES, SPIKES, SYNAPTIC_UPDATES, MEM_BYTES, TRACE_UPDATES = range(8)
N_COUNTS = 8

# rows of the ``neuron`` parameter array: SpikingNet's per-neuron fields
PARAM_ROWS = ("du", "dv", "vth", "bias", "dtheta", "theta_step", "dr", "readout_decay")
DU, DV, VTH, BIAS, DTHETA, THETA_STEP, DR, READOUT_DECAY = range(len(PARAM_ROWS))
# rows of the ``state`` array
U, V, THETA, R, Z = range(5)


# --- the neuron types: one time step of a lane's neurons, given their synaptic input ``a``
# (N,); each writes the lane's state and the spikes ``s`` (N,). They live in this file so
# that editing one invalidates the cached kernels (numba checks a cached function's own
# file only).


@numba.njit(cache=True)
def _cuba_lif(neuron, state, lane, a, s):  # pragma: no cover - jitted
    """:class:`~metaplastic.spiking.neurons.CubaLIF`."""
    for k in range(a.shape[0]):
        u = (1.0 - neuron[DU, k]) * state[U, lane, k] + a[k]
        v = (1.0 - neuron[DV, k]) * state[V, lane, k] + u + neuron[BIAS, k]
        s[k] = v > neuron[VTH, k]
        if s[k]:
            v = 0.0
        state[U, lane, k] = u
        state[V, lane, k] = v


@numba.njit(cache=True)
def _alif(neuron, state, lane, a, s):  # pragma: no cover - jitted
    """:class:`~metaplastic.spiking.neurons.ALIF`."""
    for k in range(a.shape[0]):
        u = (1.0 - neuron[DU, k]) * state[U, lane, k] + a[k]
        v = (1.0 - neuron[DV, k]) * state[V, lane, k] + u + neuron[BIAS, k]
        vth = neuron[VTH, k]
        th = (1.0 - neuron[DTHETA, k]) * (state[THETA, lane, k] - vth) + vth
        r = (1.0 - neuron[DR, k]) * state[R, lane, k]
        s[k] = v - r >= th
        if s[k]:
            r += 2.0 * th
            th += neuron[THETA_STEP, k]
        state[THETA, lane, k] = th
        state[R, lane, k] = r
        state[U, lane, k] = u
        state[V, lane, k] = v


#: this runtime's update of each neuron type (jitted; see the functions above)
NEURON_STEPS: dict[NeuronType, Callable] = {CUBA_LIF: _cuba_lif, ADAPTIVE_LIF: _alif}
#: the integer code the kernels take for each neuron type: its position in NEURON_STEPS
NEURON_CODES: dict[NeuronType, int] = {t: code for code, t in enumerate(NEURON_STEPS)}


def _step_neurons(kind, neuron, state, lane, a, s):  # pragma: no cover - typed by numba only
    """``NEURON_STEPS[type](neuron, state, lane, a, s)`` for the type whose code is ``kind``."""
    raise NotImplementedError("called from jitted code only")


def _chain(steps: tuple) -> Callable:
    """A jitted ``(kind, *args) -> steps[kind](*args)``: one comparison per registered type,
    built from the registry (so no kernel names a type)."""
    first = steps[0]
    if len(steps) == 1:
        return numba.njit(lambda kind, neuron, state, lane, a, s: first(neuron, state, lane, a, s))
    rest = _chain(steps[1:])

    @numba.njit
    def pick(kind, neuron, state, lane, a, s):  # pragma: no cover - jitted
        if kind == 0:
            first(neuron, state, lane, a, s)
        else:
            rest(kind - 1, neuron, state, lane, a, s)

    return pick


@overload(_step_neurons)
def _step_neurons_impl(kind, neuron, state, lane, a, s):
    step = _chain(tuple(NEURON_STEPS.values()))
    return lambda kind, neuron, state, lane, a, s: step(kind, neuron, state, lane, a, s)


@numba.njit(cache=True)
def _decay_trace(e, lane, keep, counts):  # pragma: no cover - jitted
    """``e[lane] *= keep``: every eligibility trace of a lane decays (skipped when keep = 1)."""
    if keep == 1.0:
        return
    for j in range(e.shape[1]):
        for k in range(e.shape[2]):
            e[lane, j, k] *= keep
    counts[TRACE_UPDATES] += e.shape[1] * e.shape[2]
    counts[MEM_BYTES] += 4 * 2 * e.shape[1] * e.shape[2]


@numba.njit(cache=True)
def _apply_rule(w_t, lw, lr_t, m, e, lane, counts):  # pragma: no cover - jitted
    """``w_t[lw] += lr_t * m * e[lane]`` when the third factor ``m`` is non-zero."""
    if m == 0.0:
        return
    for j in range(w_t.shape[1]):
        for k in range(w_t.shape[2]):
            w_t[lw, j, k] += lr_t[j, k] * m * e[lane, j, k]
    counts[SYNAPTIC_UPDATES] += w_t.shape[1] * w_t.shape[2]
    counts[MEM_BYTES] += 4 * 4 * w_t.shape[1] * w_t.shape[2]  # read w, lr, e; write w


@numba.njit(cache=True)
def _trace(neuron, state, lane, spiked, fired):  # pragma: no cover - jitted
    """The readout trace ``z`` of a lane after its neurons stepped with spikes ``spiked``;
    the indices of the neurons that fired go to ``fired``; returns how many did."""
    cnt = 0
    for k in range(spiked.shape[0]):
        z = (1.0 - neuron[READOUT_DECAY, k]) * state[Z, lane, k]
        if spiked[k]:
            z += 1.0
            fired[cnt] = k
            cnt += 1
        state[Z, lane, k] = z
    return cnt


@numba.njit(cache=True)
def _count_step(counts, n, graded, ns, cnt, state_words, wbytes):  # pragma: no cover - jitted
    """The operations of one lane's time step: ``graded`` non-zero graded inputs and ``ns``
    spikes delivered to ``n`` neurons (a row of weights each), ``n`` neuron updates and
    readout traces, ``cnt`` spikes emitted."""
    counts[MACS] += graded * n
    counts[ACS] += ns * n + n  # spikes delivered; the readout trace z of every neuron
    counts[EVENTS] += ns * n
    counts[NEURON_UPDATES] += n
    counts[SPIKES] += cnt
    counts[MEM_BYTES] += wbytes * n * (graded + ns) + wbytes * state_words * 2 * n


@numba.njit(cache=True)
def _readout(w_out, b_out, state, lane, y, counts, wbytes):  # pragma: no cover - jitted
    """``y[lane] = w_out @ z[lane] + b_out``, once per decision."""
    n = state.shape[2]
    n_out = w_out.shape[0]
    for o in range(n_out):
        acc = b_out[o]
        for k in range(n):
            acc += w_out[o, k] * state[Z, lane, k]
        y[lane, o] = acc
    counts[MACS] += n_out * n
    counts[MEM_BYTES] += wbytes * n_out * (n + 1)


@numba.njit(cache=True)
def decide(w_in_t, w_rec_t, w_out, b_out, neuron, kind, state_words, lr_in_t, lr_rec_t, keep, e_in, e_rec,
           state, x_prev, spk, nspk, x, mod, active, substeps, y, counts):  # pragma: no cover - jitted
    """One decision on every active lane: ``substeps`` time steps, then the readout ``y``.

    ``x`` (L, I) is the decision's graded input, held for its time steps; ``mod`` (L,) the
    plasticity third factor, applied on the first of them; ``keep`` is
    ``1 - trace_decay``; ``state_words`` the numbers each neuron reads and writes per time
    step (its type's state variables and the readout trace). Inactive lanes are left
    exactly as they were.
    """
    n_lanes = state.shape[1]
    n = state.shape[2]
    n_in = x.shape[1]
    shared = w_in_t.shape[0] == 1
    plastic_in = lr_in_t.shape[0] > 0
    plastic_rec = lr_rec_t.shape[0] > 0
    a = np.empty(n, np.float32)
    fired = np.empty(n, np.int32)
    spiked = np.empty(n, np.bool_)
    wbytes = 4
    for lane in range(n_lanes):
        if not active[lane]:
            continue
        lw = 0 if shared else lane
        for t in range(substeps):
            # synapses deliver what was emitted one step earlier: graded inputs, then spikes
            for k in range(n):
                a[k] = 0.0
            graded = 0
            for i in range(n_in):
                xi = x_prev[lane, i]
                if xi != 0.0:
                    for k in range(n):
                        a[k] += w_in_t[lw, i, k] * xi
                    graded += 1
            ns = nspk[lane]
            for q in range(ns):
                j = spk[lane, q]
                for k in range(n):
                    a[k] += w_rec_t[lw, j, k]
            # neurons, then the readout trace
            _step_neurons(kind, neuron, state, lane, a, spiked)
            cnt = _trace(neuron, state, lane, spiked, fired)
            _count_step(counts, n, graded, ns, cnt, state_words, wbytes)
            # plasticity: eligibility traces of this step, weights changed where m != 0
            m = mod[lane] if t == 0 else 0.0
            if plastic_rec:
                _decay_trace(e_rec, lane, keep, counts)
                for q in range(ns):
                    j = spk[lane, q]
                    for c in range(cnt):
                        e_rec[lane, j, fired[c]] += 1.0
                counts[TRACE_UPDATES] += ns * cnt
                _apply_rule(w_rec_t, lw, lr_rec_t, m, e_rec, lane, counts)
            if plastic_in:
                _decay_trace(e_in, lane, keep, counts)
                for i in range(n_in):
                    xi = x_prev[lane, i]
                    if xi != 0.0:
                        for c in range(cnt):
                            e_in[lane, i, fired[c]] += xi
                        counts[TRACE_UPDATES] += cnt
                _apply_rule(w_in_t, lw, lr_in_t, m, e_in, lane, counts)
            # what this step emitted is in flight for the next
            for i in range(n_in):
                x_prev[lane, i] = x[lane, i]
            for c in range(cnt):
                spk[lane, c] = fired[c]
            nspk[lane] = cnt
        _readout(w_out, b_out, state, lane, y, counts, wbytes)


@numba.njit(cache=True)
def read_spikes(spikes, w_out, b_out, neuron, state_words, wbytes, state, x_prev, nspk, x, active, y,
                counts):  # pragma: no cover - jitted
    """One decision whose spikes another simulator produced (``spikes`` (S, L, N), one row
    per time step, e.g. read from Lava): the readout trace and ``y`` as :func:`decide`
    computes them, and the operations counted by the same rules (graded inputs ``x_prev``
    and spikes ``nspk`` delivered at each step). Inactive lanes are left as they were."""
    n_lanes = state.shape[1]
    n = state.shape[2]
    n_in = x.shape[1]
    fired = np.empty(n, np.int32)
    for lane in range(n_lanes):
        if not active[lane]:
            continue
        for t in range(spikes.shape[0]):
            graded = 0
            for i in range(n_in):
                if x_prev[lane, i] != 0.0:
                    graded += 1
            cnt = _trace(neuron, state, lane, spikes[t, lane], fired)
            _count_step(counts, n, graded, nspk[lane], cnt, state_words, wbytes)
            for i in range(n_in):
                x_prev[lane, i] = x[lane, i]
            nspk[lane] = cnt
        _readout(w_out, b_out, state, lane, y, counts, wbytes)


@numba.njit(cache=True)
def sample_actions(y, u, greedy, active, out):  # pragma: no cover - jitted
    """Actions from readout logits ``y`` (L, A), as
    :func:`metaplastic.runtime.sampling.sample_categorical` draws them from ``softmax(y)`` with the
    uniform numbers ``u`` (L,): the number of cumulative probabilities below ``u`` (at
    most A - 1); ``greedy``: the first most likely action. Only active lanes are written."""
    n_out = y.shape[1]
    p = np.empty(n_out)
    for lane in range(y.shape[0]):
        if not active[lane]:
            continue
        best = 0
        top = np.float64(y[lane, 0])
        for o in range(1, n_out):
            if y[lane, o] > top:
                top, best = np.float64(y[lane, o]), o
        if greedy:
            out[lane] = best
            continue
        total = 0.0
        for o in range(n_out):
            p[o] = np.exp(np.float64(y[lane, o]) - top)
            total += p[o]
        below, acc = 0, 0.0
        for o in range(n_out):
            acc += p[o] / total
            if acc < u[lane]:
                below += 1
        out[lane] = min(below, n_out - 1)
