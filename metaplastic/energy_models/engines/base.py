"""The interface every inference engine implements, and the weighted-points belief most share.

An engine holds the posterior of ``num_lanes`` lanes. ``reset(rng)`` sets every lane to the
prior; ``update(lanes, history)`` folds in the newest transition of each lane, starting from
the lane's previous posterior (warm start: the work is incremental); ``sample``, ``mean``
and ``quantile`` read the belief; ``belief(lane)`` returns it for plotting. Engines count
their work into the :class:`~metaplastic.core.OpCounts` they are given: energy and gradient
evaluations (one per latent value and transition term), their MACs, and posterior updates.

Example:
    >>> import numpy as np
    >>> b = Belief(points=np.array([[0.0], [1.0]]), weights=np.array([0.25, 0.75]))
    >>> b.mean().tolist()
    [0.75]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from metaplastic.core import OpCounts
from metaplastic.energy_models.history import History
from metaplastic.energy_models.model import EnergyModel


@dataclass(frozen=True)
class InferenceSettings:
    """What the engines read (each its own fields).

    ``grid``: exact: points per side of a box's grid, or quadrature nodes per coordinate.
    ``particles``, ``moves``, ``step``: langevin: particles per lane, MALA moves per resampling,
    initial step (in units of the particles' spread; it adapts toward 57% acceptance).
    ``guide``, ``svi_steps``, ``samples``, ``warmup``: the pyro engines: SVI's guide
    (``mean-field`` or ``flow``) and optimizer steps per update; NUTS's kept samples and
    warm-up steps per update (SVI draws ``samples`` from its guide).
    """

    grid: int = 64
    particles: int = 256
    moves: int = 2
    step: float = 0.5
    guide: str = "mean-field"
    svi_steps: int = 50
    samples: int = 64
    warmup: int = 64


@dataclass(frozen=True, eq=False)
class Belief:
    """One lane's posterior as weighted points ``points (m, d)``, ``weights (m,)`` summing
    to 1 (grid nodes, enumerated values, particles or samples). ``marginal``: the points are
    per coordinate instead (``points (d, m)``, ``weights (d, m)``: a factorized posterior)."""

    points: np.ndarray
    weights: np.ndarray
    marginal: bool = False

    def mean(self) -> np.ndarray:
        if self.marginal:
            return (self.points * self.weights).sum(axis=1)
        return self.weights @ self.points

    def quantile(self, q: float) -> np.ndarray:
        """The per-coordinate ``q``-quantile."""
        pts = self.points if self.marginal else self.points.T
        wts = self.weights if self.marginal else np.broadcast_to(self.weights, pts.shape)
        return np.array([weighted_quantile(p, w, q) for p, w in zip(pts, wts)])


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches ``q``.

    Example:
        >>> weighted_quantile(np.array([3.0, 1.0, 2.0]), np.array([0.2, 0.5, 0.3]), 0.6)
        2.0
    """
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cum, q * cum[-1]), len(cum) - 1)])


def normalize_log(logw: np.ndarray) -> np.ndarray:
    """Weights (summing to 1 along the last axis) from log weights, -inf allowed."""
    top = logw.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    w = np.exp(logw - top)
    total = w.sum(axis=-1, keepdims=True)
    return w / np.where(total > 0, total, 1.0)


class Engine:
    """Base of inference engines. Subclasses implement ``reset``, ``update`` and
    ``belief``; ``sample``, ``mean`` and ``quantile`` derive from ``belief`` unless a
    subclass does better."""

    name: ClassVar[str] = ""

    def __init__(self, model: EnergyModel, num_lanes: int, settings: Any, counts: OpCounts):
        self.model = model
        self.num_lanes = int(num_lanes)
        self.settings = settings
        self.counts = counts

    def reset(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def update(self, lanes: np.ndarray, history: History) -> None:
        raise NotImplementedError

    def belief(self, lane: int) -> Belief:
        """Lane ``lane``'s belief now. A belief never changes after it is returned (later
        updates build new arrays), so callers may keep it."""
        raise NotImplementedError

    def ruled_out(self, lanes: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Whether each lane's value ``z`` (rows) now has posterior probability 0, where the
        engine can tell (enumerated values); ``False`` elsewhere."""
        return np.zeros(len(lanes), dtype=bool)

    def sample(self, lanes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One posterior draw of ``z`` per lane, ``(len(lanes), d)``."""
        out = np.empty((len(lanes), self.model.dim))
        for row, lane in enumerate(lanes):
            b = self.belief(int(lane))
            if b.marginal:
                out[row] = [p[rng.choice(len(w), p=w)] for p, w in zip(b.points, b.weights)]
            else:
                out[row] = b.points[rng.choice(len(b.weights), p=b.weights)]
        return out

    def mean(self, lanes: np.ndarray) -> np.ndarray:
        return np.stack([self.belief(int(lane)).mean() for lane in lanes]) if len(lanes) else np.empty((0, self.model.dim))

    def quantile(self, lanes: np.ndarray, q: Any) -> np.ndarray:
        """Per-coordinate quantiles ``(len(lanes), d)``: ``q`` one level, or one per lane."""
        qs = np.broadcast_to(np.asarray(q, dtype=np.float64), (len(lanes),))
        return np.stack([self.belief(int(lane)).quantile(float(level)) for lane, level in zip(lanes, qs)]) if len(
            lanes) else np.empty((0, self.model.dim))

    def _count(self, evals: int, *, grads: int = 0, kernel: Any = None, prior_macs: int = 0, updates: int = 0) -> None:
        c = self.counts
        c.energy_evals += int(evals)
        c.grad_evals += int(grads)
        c.posterior_updates += int(updates)
        if kernel is not None:
            c.macs += int(evals) * kernel.macs + int(grads) * kernel.grad_macs
        c.macs += int(prior_macs)
