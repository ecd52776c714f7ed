"""Numba kernels that run a :class:`~metaplastic.spiking.SpikingNet` event-driven.

One call, :func:`decide`, advances every active lane through the ``substeps`` time steps of
one decision and reads the readout once at the end. Synaptic input is delivered only from
what was emitted: each presynaptic spike adds one row of the (transposed) recurrent
weights to its targets, and each non-zero graded input one row of the input weights, so
the cost follows activity (spikes × fan-out), not the square of the layer size. The
three-factor plasticity rule runs in the same loop, and operation counts are accumulated
as the kernel executes them (index constants below). Compiled once, cached on disk
(``cache=True``). An RL² agent's whole decision — its input's encoding, :func:`decide`'s
work, the sampling of the actions — is one call too, :func:`act`, and its observation
another, :func:`observe` (see the section at the end).

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
from numba.core import types
from numba.experimental import structref
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
    """``y[lane] = w_out @ z[lane] + b_out``, once per decision. Each output's sum runs in
    the order of the neurons; four of them advance together (independent chains of additions
    overlap in the processor, the rounding is the same)."""
    n = state.shape[2]
    n_out = w_out.shape[0]
    o = 0
    while o + 4 <= n_out:
        acc0, acc1, acc2, acc3 = b_out[o], b_out[o + 1], b_out[o + 2], b_out[o + 3]
        for k in range(n):
            z = state[Z, lane, k]
            acc0 += w_out[o, k] * z
            acc1 += w_out[o + 1, k] * z
            acc2 += w_out[o + 2, k] * z
            acc3 += w_out[o + 3, k] * z
        y[lane, o], y[lane, o + 1], y[lane, o + 2], y[lane, o + 3] = acc0, acc1, acc2, acc3
        o += 4
    for rest in range(o, n_out):
        acc = b_out[rest]
        for k in range(n):
            acc += w_out[rest, k] * state[Z, lane, k]
        y[lane, rest] = acc
    counts[MACS] += n_out * n
    counts[MEM_BYTES] += wbytes * n_out * (n + 1)


@numba.njit(cache=True)
def _run_lane(w_in_t, w_rec_t, neuron, kind, state_words, lr_in_t, lr_rec_t, keep, e_in, e_rec, state, x_prev, spk,
              nspk, x, m0, lane, substeps, counts, a, fired, spiked):  # pragma: no cover - jitted
    """The ``substeps`` time steps of lane ``lane``'s decision (see :func:`decide`), with
    the third factor ``m0`` on the first; ``a``, ``fired`` and ``spiked`` (N,) are scratch."""
    n = state.shape[2]
    n_in = x.shape[1]
    lw = 0 if w_in_t.shape[0] == 1 else lane
    plastic_in = lr_in_t.shape[0] > 0
    plastic_rec = lr_rec_t.shape[0] > 0
    wbytes = 4
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
        q = 0
        while q + 4 <= ns:  # four spikes per pass over ``a``, added in the same order (and rounding)
            j0, j1, j2, j3 = spk[lane, q], spk[lane, q + 1], spk[lane, q + 2], spk[lane, q + 3]
            for k in range(n):
                a[k] = a[k] + w_rec_t[lw, j0, k] + w_rec_t[lw, j1, k] + w_rec_t[lw, j2, k] + w_rec_t[lw, j3, k]
            q += 4
        for rest in range(q, ns):
            j = spk[lane, rest]
            for k in range(n):
                a[k] += w_rec_t[lw, j, k]
        # neurons, then the readout trace
        _step_neurons(kind, neuron, state, lane, a, spiked)
        cnt = _trace(neuron, state, lane, spiked, fired)
        _count_step(counts, n, graded, ns, cnt, state_words, wbytes)
        # plasticity: eligibility traces of this step, weights changed where m != 0
        m = m0 if t == 0 else 0.0
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
    n = state.shape[2]
    a = np.empty(n, np.float32)
    fired = np.empty(n, np.int32)
    spiked = np.empty(n, np.bool_)
    for lane in range(state.shape[1]):
        if active[lane]:
            _run_lane(w_in_t, w_rec_t, neuron, kind, state_words, lr_in_t, lr_rec_t, keep, e_in, e_rec, state,
                      x_prev, spk, nspk, x, mod[lane], lane, substeps, counts, a, fired, spiked)
            _readout(w_out, b_out, state, lane, y, counts, 4)


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
def _sample(y, lane, u, greedy, p):  # pragma: no cover - jitted
    """Lane ``lane``'s action from the logits ``y[lane]``, as
    :func:`metaplastic.runtime.sampling.sample_categorical` draws it from their softmax with
    the uniform number ``u``: the number of cumulative probabilities below ``u`` (at most
    A - 1); ``greedy``: the first most likely action. ``p`` (A,) is scratch."""
    n_out = y.shape[1]
    best = 0
    top = np.float64(y[lane, 0])
    for o in range(1, n_out):
        if y[lane, o] > top:
            top, best = np.float64(y[lane, o]), o
    if greedy:
        return best
    total = 0.0
    for o in range(n_out):
        p[o] = np.exp(np.float64(y[lane, o]) - top)
        total += p[o]
    below, acc = 0, 0.0
    for o in range(n_out):
        acc += p[o] / total
        if acc < u:
            below += 1
    return min(below, n_out - 1)


@numba.njit(cache=True)
def sample_actions(y, u, greedy, active, out):  # pragma: no cover - jitted
    """Actions from readout logits ``y`` (L, A) with the uniform numbers ``u`` (L,), as
    :func:`_sample` draws them; only active lanes are written."""
    p = np.empty(y.shape[1])
    for lane in range(y.shape[0]):
        if active[lane]:
            out[lane] = _sample(y, lane, u[lane], greedy, p)


# --- one decision of an RL² agent in one call: what :class:`~metaplastic.spiking.net_agent.SpikingNetAgent`
# runs on these kernels. :func:`act` encodes the observations, runs the time steps and the readout, and
# samples the actions; :func:`observe` records what the lanes did and got (the next decision's inputs, the
# third factor). They write RL²'s input buffer as :class:`metaplastic.runtime.encoding.TrialInputs` does
# (columns: the observation, the previous action one-hot, the previous reward, the boundary flag).
# ``act``'s thirty-odd arrays and settings travel as one numba object (:class:`AgentArrays`): each array
# passed to a jitted call costs some 50 ns to unbox, one such object some 500 ns, and a decision at batch 1
# takes a few microseconds.

#: what :func:`act` and :func:`observe` return when they did nothing: inputs of the wrong shape, an
#: observation or action outside its space, the uniform numbers spent (draw the next block); a count of
#: lanes otherwise
BAD_SHAPE, BAD_OBSERVATION, BAD_ACTION, NEED_UNIFORMS = -1, -2, -3, -4
#: :func:`observe`'s ``modulator`` codes: no plasticity, the reward, a reward-prediction error
NO_MODULATION, REWARD, RPE = 0, 1, 2

#: the fields of :class:`AgentArrays`: the lanes' (``EventDrivenLanes.kernel_args()``, in this order; ``a``,
#: ``fired``, ``spiked`` (N,) are one time step's scratch), then the agent's: RL²'s inputs ``x`` (L, I), how
#: an observation is encoded (``obs_start``: a Discrete space's first value; ``obs_width`` columns), the
#: third factor ``mod`` (L,), ``greedy``, the ``actions`` (L,) written, the uniform numbers ``u`` drawn
#: ahead, ``cursor`` ([the position of the next unused one]), ``decisions`` ([how many since the reset])
#: and ``p`` (A,), the sampling's scratch
AGENT_FIELDS = ("w_in_t", "w_rec_t", "w_out", "b_out", "neuron", "kind", "state_words", "lr_in_t", "lr_rec_t",
                "keep", "e_in", "e_rec", "state", "x_prev", "spk", "nspk", "substeps", "y", "counts", "a", "fired",
                "spiked", "x", "obs_start", "obs_width", "mod", "greedy", "actions", "u", "cursor", "decisions", "p")


@structref.register
class AgentArraysType(types.StructRef):
    """numba's type of :class:`AgentArrays`."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(t)) for name, t in fields)


class AgentArrays(structref.StructRefProxy):
    """The arrays and settings of one agent (:data:`AGENT_FIELDS`) as one numba object
    (a structref: it refers to the arrays, which stay shared with Python); build it with
    :func:`agent_arrays`."""

    # numba reads an argument's type from ``_numba_type_`` at every call: a slot, set once
    # when the object is made, instead of the base class's property (some 100 ns a call)
    __slots__ = ("_numba_type_",)

    @classmethod
    def _numba_box_(cls, ty, mi):
        instance = super()._numba_box_(ty, mi)
        instance._numba_type_ = ty
        return instance


structref.define_proxy(AgentArrays, AgentArraysType, list(AGENT_FIELDS))


@numba.njit(cache=True)
def agent_arrays(w_in_t, w_rec_t, w_out, b_out, neuron, kind, state_words, lr_in_t, lr_rec_t, keep, e_in, e_rec,
                 state, x_prev, spk, nspk, substeps, y, counts, a, fired, spiked, x, obs_start, obs_width, mod, greedy,
                 actions, u, cursor, decisions, p):  # pragma: no cover - jitted
    """An :class:`AgentArrays` of the given fields (compiled once and cached, unlike its constructor)."""
    return AgentArrays(w_in_t, w_rec_t, w_out, b_out, neuron, kind, state_words, lr_in_t, lr_rec_t, keep, e_in,
                       e_rec, state, x_prev, spk, nspk, substeps, y, counts, a, fired, spiked, x, obs_start,
                       obs_width, mod, greedy, actions, u, cursor, decisions, p)


def _encode_obs(obs, start, width, x):  # pragma: no cover - typed by numba only
    """Each lane's observation into the first ``width`` columns of ``x``; ``False`` (and
    nothing written) if one is out of range."""
    raise NotImplementedError("called from jitted code only")


@overload(_encode_obs)
def _encode_obs_impl(obs, start, width, x):
    if obs.ndim == 1:  # a Discrete space's integers, from ``start``: one-hot
        def one_hot(obs, start, width, x):
            for lane in range(obs.shape[0]):
                if not 0 <= obs[lane] - start < width:
                    return False
            for lane in range(obs.shape[0]):
                for i in range(width):
                    x[lane, i] = 0.0
                x[lane, obs[lane] - start] = 1.0
            return True
        return one_hot

    def flat(obs, start, width, x):  # a Box's numbers, (L, width), as they are
        for lane in range(obs.shape[0]):
            for i in range(width):
                x[lane, i] = obs[lane, i]
        return True
    return flat


def _lane_decides(active, lane):  # pragma: no cover - typed by numba only
    """``active[lane]``; ``True`` when ``active`` is None (every lane decides)."""
    raise NotImplementedError("called from jitted code only")


@overload(_lane_decides)
def _lane_decides_impl(active, lane):
    if isinstance(active, types.NoneType):
        return lambda active, lane: True
    return lambda active, lane: active[lane]


def _mask_size(active, n_lanes):  # pragma: no cover - typed by numba only
    """``active``'s length; ``n_lanes`` when it is None."""
    raise NotImplementedError("called from jitted code only")


@overload(_mask_size)
def _mask_size_impl(active, n_lanes):
    if isinstance(active, types.NoneType):
        return lambda active, n_lanes: n_lanes
    return lambda active, n_lanes: active.shape[0]


@numba.njit(cache=True)
def act(g, obs, active):  # pragma: no cover - jitted
    """One decision of an agent (an :class:`AgentArrays` ``g``) on every active lane, in
    one call: the observations ``obs`` into RL²'s inputs ``g.x``, the lanes' time steps and
    readout as :func:`decide` runs them (the third factor ``g.mod`` is then spent: 0 on a
    plastic network), and an action per active lane into ``g.actions`` as
    :func:`sample_actions` draws it, with the next of the uniform numbers ``g.u`` (one per
    lane, active or not). Returns how many lanes decided (and adds them to
    ``g.decisions``), or :data:`BAD_SHAPE`, :data:`BAD_OBSERVATION`, :data:`NEED_UNIFORMS`
    with nothing changed.

    ``obs`` is (L,) integers for a Discrete observation space (one-hot from ``g.obs_start``)
    or (L, g.obs_width) numbers for a Box; ``active`` (L,) booleans, or None: every lane
    (one array less to pass at batch 1)."""
    state, x, mod, y, actions, u, greedy = g.state, g.x, g.mod, g.y, g.actions, g.u, g.greedy
    n_lanes = state.shape[1]
    if (_mask_size(active, n_lanes) != n_lanes or obs.shape[0] != n_lanes
            or (obs.ndim == 2 and obs.shape[obs.ndim - 1] != g.obs_width)):
        return BAD_SHAPE
    start = g.cursor[0]
    if not greedy and start + n_lanes > u.shape[0]:
        return NEED_UNIFORMS
    if not _encode_obs(obs, g.obs_start, g.obs_width, x):
        return BAD_OBSERVATION
    # the fields each lane's decision reads, once
    w_in_t, w_rec_t, w_out, b_out, neuron, kind = g.w_in_t, g.w_rec_t, g.w_out, g.b_out, g.neuron, g.kind
    lr_in_t, lr_rec_t, keep, e_in, e_rec = g.lr_in_t, g.lr_rec_t, g.keep, g.e_in, g.e_rec
    x_prev, spk, nspk, counts, substeps, state_words = g.x_prev, g.spk, g.nspk, g.counts, g.substeps, g.state_words
    a, fired, spiked, p = g.a, g.fired, g.spiked, g.p
    plastic = lr_in_t.shape[0] > 0 or lr_rec_t.shape[0] > 0
    decided = 0
    for lane in range(n_lanes):
        if not _lane_decides(active, lane):
            continue
        _run_lane(w_in_t, w_rec_t, neuron, kind, state_words, lr_in_t, lr_rec_t, keep, e_in, e_rec, state, x_prev,
                  spk, nspk, x, mod[lane], lane, substeps, counts, a, fired, spiked)
        _readout(w_out, b_out, state, lane, y, counts, 4)
        if plastic:
            mod[lane] = 0.0  # the third factor is spent on this decision's first step
        actions[lane] = _sample(y, lane, 0.0 if greedy else u[start + lane], greedy, p)
        decided += 1
    if not greedy:
        g.cursor[0] = start + n_lanes
    g.decisions[0] += decided
    return decided


@numba.njit(cache=True)
def _record(x, lane, obs_width, action_start, modulator, baseline_decay, mod, baseline, action, reward,
            done):  # pragma: no cover - jitted
    """Lane ``lane``'s ``action`` (one-hot from ``action_start``, after the first
    ``obs_width`` columns of ``x``), ``reward`` and boundary flag ``done``, as its next
    decision's inputs; and its third factor (see :func:`observe`)."""
    size = x.shape[1]
    for i in range(obs_width, size - 2):
        x[lane, i] = 0.0
    x[lane, obs_width + action - action_start] = 1.0
    x[lane, size - 2] = reward
    x[lane, size - 1] = done
    _modulate(lane, modulator, baseline_decay, mod, baseline, reward)


@numba.njit(cache=True)
def _modulate(lane, modulator, baseline_decay, mod, baseline, reward):  # pragma: no cover - jitted
    """Lane ``lane``'s third factor after it observed ``reward`` (see :func:`observe`)."""
    if modulator == REWARD:
        mod[lane] = reward
    elif modulator == RPE:
        mod[lane] = reward - baseline[lane]
        baseline[lane] = (1 - baseline_decay) * baseline[lane] + baseline_decay * reward


@numba.njit(cache=True)
def modulate(modulator, baseline_decay, mod, baseline, rewards, active):  # pragma: no cover - jitted
    """The third factor ``mod`` (L,) of the active lanes after they observed ``rewards``, as
    :func:`observe` sets it (for agents that record their inputs elsewhere: a Gaussian
    head's, whose previous action is not one-hot)."""
    for lane in range(mod.shape[0]):
        if active[lane]:
            _modulate(lane, modulator, baseline_decay, mod, baseline, rewards[lane])


@numba.njit(cache=True)
def observe(x, obs_width, action_start, modulator, baseline_decay, mod, baseline, actions, rewards, terminated,
            truncated, active):  # pragma: no cover - jitted
    """What an agent's deciding lanes did and got, as their next decision's inputs in ``x``
    (L, I) (:meth:`metaplastic.runtime.encoding.TrialInputs.record`: the action one-hot from
    ``action_start`` after the first ``obs_width`` columns, the reward, the boundary flag
    ``terminated | truncated``), and the plasticity third factor ``mod`` (L,) when
    ``modulator`` is :data:`REWARD` (the reward) or :data:`RPE` (its difference from the
    lane's running ``baseline``, which then moves ``baseline_decay`` of the way to it).
    Returns how many lanes recorded, or :data:`BAD_SHAPE`, :data:`BAD_ACTION` with nothing
    changed. (Its arguments are an agent's arrays, but come one by one: for this few, that
    is the faster way in.)"""
    n_lanes = x.shape[0]
    n_actions = x.shape[1] - 2 - obs_width
    if (actions.shape[0] != n_lanes or rewards.shape[0] != n_lanes or terminated.shape[0] != n_lanes
            or truncated.shape[0] != n_lanes or active.shape[0] != n_lanes):
        return BAD_SHAPE
    for lane in range(n_lanes):
        if active[lane] and not 0 <= actions[lane] - action_start < n_actions:
            return BAD_ACTION
    recorded = 0
    for lane in range(n_lanes):
        if active[lane]:
            _record(x, lane, obs_width, action_start, modulator, baseline_decay, mod, baseline, actions[lane],
                    rewards[lane], terminated[lane] or truncated[lane])
            recorded += 1
    return recorded


@numba.njit(cache=True)
def observe_one(x, obs_width, action_start, modulator, baseline_decay, mod, baseline, action, reward,
                done):  # pragma: no cover - jitted
    """:func:`observe` for a one-lane agent, given its lane's ``action`` (an integer),
    ``reward`` and ``done`` (``terminated or truncated``) as numbers."""
    if x.shape[0] != 1:
        return BAD_SHAPE
    if not 0 <= action - action_start < x.shape[1] - 2 - obs_width:
        return BAD_ACTION
    _record(x, 0, obs_width, action_start, modulator, baseline_decay, mod, baseline, action, reward, done)
    return 1


# --- the compiled functions themselves, for a one-lane agent's calls at batch 1. Numba's dispatch finds the
# types of the arguments at every call (some 0.45 µs for act's, a tenth of a decision); these fix them once.
# A caller passes exactly the types named (anything else is undefined: nothing checks them).


def one_lane_act(g: AgentArrays, discrete_obs: bool) -> Callable:
    """:func:`act` compiled for ``(g, obs, None)``: ``obs`` a (1,) int64 array for a Discrete
    observation space, a C-contiguous (1, width) float64 array for a Box."""
    obs = types.int64[::1] if discrete_obs else types.float64[:, ::1]
    return act.compile((numba.typeof(g), obs, types.none))


def one_lane_observe(x: np.ndarray, obs_width: int, action_start: int, modulator: int, baseline_decay: float,
                     mod: np.ndarray, baseline: np.ndarray) -> Callable:
    """:func:`observe_one` compiled for these arrays (its numbers are converted as they come:
    the action to an int64, the reward to a float64, ``done`` by its truth)."""
    arrays = [numba.typeof(a) for a in (x, mod, baseline)]
    return observe_one.compile((arrays[0], types.int64, types.int64, types.int64, types.float64, arrays[1],
                                arrays[2], types.int64, types.float64, types.boolean))
