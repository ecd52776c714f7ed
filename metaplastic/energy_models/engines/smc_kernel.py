"""The Numba kernel of the ``langevin`` engine: sequential Monte Carlo whose particles are
reweighted by each new transition and, when their effective sample size falls below half,
resampled and moved by Metropolis-adjusted Langevin (MALA) steps on the full energy,
preconditioned by the particles' spread per coordinate (resample-move SMC: an update that
leaves the particles healthy costs one likelihood term per particle). The energy is a Numba function
(:func:`metaplastic.energy_models.model.make_energy`) handed in as an argument.

``stats`` accumulates: energy-term evaluations, gradient evaluations, accepted and proposed
moves.
"""

from __future__ import annotations

import numba
import numpy as np

from metaplastic.energy_models.model import to_z

#: MALA's optimal acceptance rate (Roberts & Rosenthal 1998); the step size adapts toward it.
TARGET_ACCEPT = 0.574
#: The most tempering stages one transition is folded in with.
MAX_STAGES = 20


@numba.njit(cache=True)
def seed(value):
    np.random.seed(value)


@numba.njit
def init_particles(energy, lanes, U, logw, E, G, prior_prm, law_prm, low, high, obs, act, rew, nxt):
    """Energies and gradients of fresh prior particles (no transitions yet)."""
    d = U.shape[2]
    g = np.empty(d)
    for r in range(lanes.shape[0]):
        lane = lanes[r]
        for n in range(U.shape[1]):
            E[lane, n] = energy(U[lane, n], prior_prm, law_prm, low, high, obs[lane], act[lane], rew[lane], nxt[lane],
                                0, 0, g)
            G[lane, n] = g
            logw[lane, n] = 0.0


@numba.njit
def _new_term(law_fn, box, u, low, high, o, a, rw, nx, t, law_prm, z, dz, gz, grad_u):
    """log p(transition t | z(u)) and its gradient with respect to ``u`` (into ``grad_u``)."""
    d = u.shape[0]
    to_z(u, box, low, high, z, dz)
    gz[:] = 0.0
    ll = law_fn(z, o[t], a[t], rw[t], nx[t], law_prm, gz, True)
    for i in range(d):
        grad_u[i] = gz[i] * dz[i]
    return ll


@numba.njit
def _ess(logw, extra, delta, w):
    """Effective sample size of the weights ``logw + delta * extra`` (normalized into ``w``)."""
    n = logw.shape[0]
    top = -np.inf
    for k in range(n):
        v = logw[k] + delta * extra[k] if extra[k] > -np.inf else -np.inf
        w[k] = v
        top = max(top, v)
    if top == -np.inf:
        return 0.0
    total = 0.0
    for k in range(n):
        w[k] = np.exp(w[k] - top)
        total += w[k]
    sq = 0.0
    for k in range(n):
        w[k] /= total
        sq += w[k] * w[k]
    return 1.0 / sq


@numba.njit
def smc_update(energy, law_fn, box, lanes, U, logw, E, G, step, prior_prm, law_prm, low, high, obs, act, rew, nxt,
               count, moves, stats):
    """Fold transition ``count[lane] - 1`` into each lane's particles: the new likelihood
    term enters in tempered stages ``β: 0 → 1``, each as large as keeps the effective sample
    size at half the particles (at most :data:`MAX_STAGES`); after a stage that needed it,
    the particles are resampled and moved by ``moves`` MALA steps targeting the tempered
    posterior."""
    n_part, d = U.shape[1], U.shape[2]
    z = np.empty(d)
    dz = np.empty(d)
    gz = np.empty(d)
    g_prev = np.empty(d)
    g_term = np.empty(d)
    prop = np.empty(d)
    g_prop = np.empty(d)
    s2 = np.empty(d)
    w = np.empty(n_part)
    ll = np.empty(n_part)
    gl = np.empty((n_part, d))
    idx = np.empty(n_part, dtype=np.int64)
    for r in range(lanes.shape[0]):
        lane = lanes[r]
        T = count[lane]
        t = T - 1
        o, a, rw, nx = obs[lane], act[lane], rew[lane], nxt[lane]
        for n in range(n_part):
            ll[n] = _new_term(law_fn, box, U[lane, n], low, high, o, a, rw, nx, t, law_prm, z, dz, gz, g_term)
            gl[n] = g_term
        stats[0] += n_part
        stats[1] += n_part
        beta = 0.0
        stages = 0
        h = step[lane]
        while beta < 1.0:
            stages += 1
            left = 1.0 - beta
            delta = left
            limited = False  # a stage cut short by the effective sample size ends at half: resample then
            if stages < MAX_STAGES and _ess(logw[lane], ll, left, w) < 0.5 * n_part:
                limited = True
                lo_d, hi_d = 0.0, left
                for _ in range(30):
                    mid = 0.5 * (lo_d + hi_d)
                    if _ess(logw[lane], ll, mid, w) >= 0.5 * n_part:
                        lo_d = mid
                    else:
                        hi_d = mid
                delta = max(lo_d, 1e-6 * left)
            beta = min(1.0, beta + delta)
            for n in range(n_part):
                if ll[n] == -np.inf:
                    logw[lane, n] = -np.inf
                    E[lane, n] = np.inf
                else:
                    logw[lane, n] += delta * ll[n]
                    E[lane, n] -= delta * ll[n]
                    for i in range(d):
                        G[lane, n, i] -= delta * gl[n, i]
            if _ess(logw[lane], ll, 0.0, w) >= 0.5 * n_part and not limited:
                continue  # the particles still represent this stage's posterior: no move needed
            # systematic resampling
            u0 = np.random.random() / n_part
            cum = w[0]
            j = 0
            for n in range(n_part):
                target = u0 + n / n_part
                while cum < target and j < n_part - 1:
                    j += 1
                    cum += w[j]
                idx[n] = j
            U[lane] = U[lane][idx]
            E[lane] = E[lane][idx]
            G[lane] = G[lane][idx]
            ll[:] = ll[idx]
            gl[:] = gl[idx]
            for n in range(n_part):
                logw[lane, n] = 0.0
            # the preconditioner: the particles' variance per coordinate
            for i in range(d):
                m = 0.0
                for n in range(n_part):
                    m += U[lane, n, i]
                m /= n_part
                v = 0.0
                for n in range(n_part):
                    v += (U[lane, n, i] - m) ** 2
                s2[i] = max(v / n_part, 1e-12)
            # MALA moves targeting prior x earlier transitions x (new term)^beta
            accepted = 0
            for _ in range(moves):
                for n in range(n_part):
                    if not np.isfinite(E[lane, n]):
                        continue
                    for i in range(d):
                        prop[i] = (U[lane, n, i] - 0.5 * h * h * s2[i] * G[lane, n, i]
                                   + h * np.sqrt(s2[i]) * np.random.randn())
                    e_prev = energy(prop, prior_prm, law_prm, low, high, o, a, rw, nx, 0, t, g_prev)
                    l_new = _new_term(law_fn, box, prop, low, high, o, a, rw, nx, t, law_prm, z, dz, gz, g_term)
                    stats[0] += T + 1
                    stats[1] += T + 1
                    e_new = e_prev - beta * l_new
                    if not np.isfinite(e_new):
                        continue
                    fwd = 0.0
                    bwd = 0.0
                    for i in range(d):
                        g_prop[i] = g_prev[i] - beta * g_term[i]
                        fwd += (prop[i] - U[lane, n, i] + 0.5 * h * h * s2[i] * G[lane, n, i]) ** 2 / s2[i]
                        bwd += (U[lane, n, i] - prop[i] + 0.5 * h * h * s2[i] * g_prop[i]) ** 2 / s2[i]
                    log_accept = E[lane, n] - e_new + (fwd - bwd) / (2.0 * h * h)
                    if np.log(np.random.random()) < log_accept:
                        U[lane, n] = prop
                        E[lane, n] = e_new
                        G[lane, n] = g_prop
                        ll[n] = l_new
                        gl[n] = g_term
                        accepted += 1
            proposed = moves * n_part
            stats[2] += accepted
            stats[3] += proposed
            if proposed:
                h = min(max(h * np.exp(accepted / proposed - TARGET_ACCEPT), 1e-3), 3.0)
        step[lane] = h
