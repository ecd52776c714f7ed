"""The ``exact`` engine: the posterior on a finite support, updated by adding each new
transition's log likelihood to every support point's log weight.

* enumerated latents (gridnavi's goal cell): every value, with the exact law (a hit at the
  goal, a miss elsewhere);
* a box of dimension <= 2 (nav2d's goal): the midpoints of a ``grid``-per-side lattice, each
  weighted by the prior mass of its cell;
* a box whose coordinates each govern one action (bandit arms, Beta prior): per coordinate,
  the ``grid`` nodes of Gauss–Jacobi quadrature for the prior's Beta weight. The likelihood of
  ``s`` successes and ``f`` failures is a polynomial of degree ``s + f``, so the posterior's
  moments of degree ``j`` are exact while ``s + f + j <= 2 grid - 1`` (64 nodes: exact
  means and variances up to 125 pulls of an arm);
* a tabular MDP: the conjugate Normal–Dirichlet posterior (closed form).

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.core import OpCounts
    >>> from metaplastic.energy_models.engines.base import InferenceSettings
    >>> from metaplastic.energy_models.model import EnergyModel
    >>> from metaplastic.energy_models.priors import BetaPrior
    >>> from metaplastic.energy_models.history import History
    >>> tasks = metaplastic.make_tasks("bandits:k=2")
    >>> eng = make_exact(EnergyModel(tasks.latent(), BetaPrior(1.0, 1.0), 0.0, 0.0), 1, InferenceSettings(), OpCounts())
    >>> eng.reset(np.random.default_rng(0))
    >>> h = History(1, 1, 1)
    >>> h.append(np.array([0]), np.zeros((1, 1)), np.zeros((1, 1)), np.array([1.0]), np.zeros((1, 1)))
    >>> eng.update(np.array([0]), h)
    >>> eng.mean(np.array([0])).round(6).tolist()       # Beta(2, 1) and Beta(1, 1)
    [[0.666667, 0.5]]
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from scipy.special import roots_jacobi

from metaplastic.baselines.mdp_planners import NormalDirichletPosterior
from metaplastic.energy_models.engines.base import Belief, Engine, normalize_log
from metaplastic.energy_models.history import History
from metaplastic.energy_models.model import EnergyModel
from metaplastic.energy_models.priors import BetaPrior, GaussianMixturePrior, value_index
from metaplastic.errors import ConfigError
from metaplastic.tasks.latent import BoxSpace, EnumeratedSpace, TabularSpace

#: The largest number of grid points the exact engine builds for a box.
MAX_GRID_POINTS = 1 << 20


@numba.njit(cache=True)
def _add_loglik(law_fn, nodes, lanes, obs, act, rew, nxt, t, prm, logw):
    """``logw[lane, j] += log p(transition t[lane] | nodes[j])`` for each lane."""
    d = nodes.shape[1]
    gz = np.zeros(d)
    for r in range(lanes.shape[0]):
        lane, tt = lanes[r], t[r]
        for j in range(nodes.shape[0]):
            if logw[lane, j] == -np.inf:
                continue
            logw[lane, j] += law_fn(nodes[j], obs[lane, tt], act[lane, tt], rew[lane, tt], nxt[lane, tt], prm, gz, False)


@numba.njit(cache=True)
def _add_loglik_per_action(law_fn, nodes, lanes, obs, act, rew, nxt, t, prm, logw):
    """The factorized form: only the pulled coordinate's nodes change (``logw (B, d, m)``)."""
    d = logw.shape[1]
    z = np.empty(d)
    gz = np.zeros(d)
    for r in range(lanes.shape[0]):
        lane, tt = lanes[r], t[r]
        a = int(act[lane, tt, 0])
        for j in range(nodes.shape[0]):
            z[:] = nodes[j]
            logw[lane, a, j] += law_fn(z, obs[lane, tt], act[lane, tt], rew[lane, tt], nxt[lane, tt], prm, gz, False)


class _PointsExact(Engine):
    """Shared support ``nodes (m, d)``, per-lane log weights ``(B, m)``."""

    name = "exact"

    def __init__(self, model: EnergyModel, num_lanes: int, settings: Any, counts: Any,
                 nodes: np.ndarray, log_prior: np.ndarray):
        super().__init__(model, num_lanes, settings, counts)
        self.nodes, self.log_prior = nodes, log_prior
        self.kernel = model.exact_kernel()

    def reset(self, rng: np.random.Generator) -> None:
        self.logw = np.tile(self.log_prior, (self.num_lanes, 1))

    def update(self, lanes: np.ndarray, history: History) -> None:
        lanes = np.asarray(lanes, dtype=np.int64)
        _add_loglik(self.kernel.fn, self.nodes, lanes, history.obs, history.act, history.rew, history.nxt,
                    history.count[lanes] - 1, self.kernel.prm, self.logw)
        self._count(len(lanes) * len(self.nodes), kernel=self.kernel, updates=len(lanes))

    def belief(self, lane: int) -> Belief:
        return Belief(points=self.nodes, weights=normalize_log(self.logw[lane]))

    def ruled_out(self, lanes: np.ndarray, z: np.ndarray) -> np.ndarray:
        return self.logw[lanes, value_index(z, self.nodes)] == -np.inf

    def sample(self, lanes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        w = normalize_log(self.logw[lanes])
        idx = (w.cumsum(axis=1) < rng.random((len(lanes), 1))).sum(axis=1)
        return self.nodes[np.minimum(idx, len(self.nodes) - 1)]

    def mean(self, lanes: np.ndarray) -> np.ndarray:
        return normalize_log(self.logw[lanes]) @ self.nodes


class _PerActionExact(Engine):
    """Per-coordinate Gauss–Jacobi nodes under a Beta prior (``logw (B, d, m)``)."""

    name = "exact"

    def __init__(self, model: EnergyModel, num_lanes: int, settings: Any, counts: Any):
        super().__init__(model, num_lanes, settings, counts)
        prior: BetaPrior = model.prior
        x, w = roots_jacobi(int(settings.grid), prior.b - 1.0, prior.a - 1.0)  # weight (1-x)^(b-1) (1+x)^(a-1)
        self.nodes = (1.0 + x) / 2.0
        self.log_prior = np.log(w / w.sum())
        self.kernel = model.exact_kernel()

    def reset(self, rng: np.random.Generator) -> None:
        self.logw = np.tile(self.log_prior, (self.num_lanes, self.model.dim, 1))

    def update(self, lanes: np.ndarray, history: History) -> None:
        lanes = np.asarray(lanes, dtype=np.int64)
        _add_loglik_per_action(self.kernel.fn, self.nodes[:, None], lanes, history.obs, history.act, history.rew,
                               history.nxt, history.count[lanes] - 1, self.kernel.prm, self.logw)
        self._count(len(lanes) * len(self.nodes), kernel=self.kernel, updates=len(lanes))

    def belief(self, lane: int) -> Belief:
        w = normalize_log(self.logw[lane])
        return Belief(points=np.broadcast_to(self.nodes, w.shape), weights=w, marginal=True)

    def sample(self, lanes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        w = normalize_log(self.logw[lanes])  # (b, d, m)
        idx = (w.cumsum(axis=2) < rng.random(w.shape[:2] + (1,))).sum(axis=2)
        return self.nodes[np.minimum(idx, len(self.nodes) - 1)]

    def mean(self, lanes: np.ndarray) -> np.ndarray:
        return normalize_log(self.logw[lanes]) @ self.nodes

    def quantile(self, lanes: np.ndarray, q: Any) -> np.ndarray:
        """All lanes and arms in one pass (the quadrature nodes are ascending)."""
        w = normalize_log(self.logw[lanes])  # (b, d, m)
        cum = w.cumsum(axis=2)
        target = np.broadcast_to(np.asarray(q, dtype=np.float64), (len(lanes),))[:, None, None] * cum[..., -1:]
        return self.nodes[np.minimum((cum < target).sum(axis=2), len(self.nodes) - 1)]

    def moments(self, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and variances per coordinate, ``(b, d)`` each."""
        w = normalize_log(self.logw[lanes])
        m = w @ self.nodes
        return m, w @ self.nodes**2 - m**2


class _ConjugateTabular(Engine):
    """The Normal–Dirichlet posterior of tabular MDPs, under the fitted prior."""

    name = "exact"

    def reset(self, rng: np.random.Generator) -> None:
        s = self.model.latent.space
        self.post = NormalDirichletPosterior(self.num_lanes, s.n_states, s.n_actions, self.model.prior.prior)

    def update(self, lanes: np.ndarray, history: History) -> None:
        lanes = np.asarray(lanes, dtype=np.int64)
        t = history.count[lanes] - 1
        self.post.update(lanes, history.obs[lanes, t, 0].astype(np.int64), history.act[lanes, t, 0].astype(np.int64),
                         history.rew[lanes, t], history.nxt[lanes, t, 0].astype(np.int64))
        self._count(len(lanes), updates=len(lanes))
        self.counts.macs += 4 * len(lanes)

    def _flat(self, r: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.concatenate([r.reshape(len(r), -1), p.reshape(len(p), -1)], axis=1)

    def sample(self, lanes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._flat(*self.post.sample(np.asarray(lanes, dtype=np.int64), rng))

    def mean(self, lanes: np.ndarray) -> np.ndarray:
        return self._flat(*self.post.mean(np.asarray(lanes, dtype=np.int64)))

    def belief(self, lane: int) -> Belief:
        raise ConfigError("energy: the tabular posterior is not a set of weighted points; read its mean or samples")


def _grid(model: EnergyModel, settings: Any) -> tuple[np.ndarray, np.ndarray]:
    low, high = model.bounds()
    n = int(settings.grid)
    if n ** model.dim > MAX_GRID_POINTS:
        raise ConfigError(f"energy: a grid of {n}^{model.dim} points is above the limit of {MAX_GRID_POINTS}; lower grid")
    axes = [lo + (hi - lo) * (np.arange(n) + 0.5) / n for lo, hi in zip(low, high)]
    nodes = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, model.dim)
    prior: GaussianMixturePrior = model.prior
    u = model.to_u(nodes)
    s = (nodes - low) / (high - low)
    log_jac = -np.log((high - low) * s * (1.0 - s)).sum(axis=1)  # du/dz
    log_prior = prior.log_density(u) + log_jac
    return nodes, np.log(normalize_log(log_prior))


def exact_reason(model: EnergyModel) -> str | None:
    """Why the exact engine does not apply to ``model``'s latent (``None`` if it does)."""
    space = model.latent.space
    if isinstance(space, (EnumeratedSpace, TabularSpace)):
        return None
    if isinstance(space, BoxSpace) and space.per_action and isinstance(model.prior, BetaPrior):
        return None
    if isinstance(space, BoxSpace) and model.dim <= 2:
        return None
    return (f"engine exact needs enumerated values, a grid of dimension <= 2 or per-action coordinates; "
            f"this latent is a box of dimension {model.dim}: use engine=langevin")


def make_exact(model: EnergyModel, num_lanes: int, settings: Any, counts: Any) -> Engine:
    """The exact engine for ``model``'s latent (a one-line ConfigError where none applies)."""
    reason = exact_reason(model)
    if reason:
        raise ConfigError(f"energy: {reason}")
    space = model.latent.space
    if isinstance(space, TabularSpace):
        return _ConjugateTabular(model, num_lanes, settings, counts)
    if isinstance(space, EnumeratedSpace):
        return _PointsExact(model, num_lanes, settings, counts, space.array(), model.prior.log_probs())
    if space.per_action and isinstance(model.prior, BetaPrior):
        return _PerActionExact(model, num_lanes, settings, counts)
    return _PointsExact(model, num_lanes, settings, counts, *_grid(model, settings))
