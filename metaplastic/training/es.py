"""Evolution strategies (Salimans et al. 2017): a search distribution N(θ, σ²I) over a
flat parameter vector, antithetic pairs ``θ ± σε``, centered-rank fitness shaping and an
Adam step along the estimated gradient of expected fitness. numpy only; the population's
fitness comes from whatever evaluates it (see :mod:`metaplastic.training.executors`).

Example:
    >>> import numpy as np
    >>> es = EvolutionStrategy(np.zeros(3), ESSettings(population=32, sigma=0.1, lr=0.1))
    >>> rng = np.random.default_rng(0)
    >>> for _ in range(100):
    ...     eps, cands = es.ask(rng)
    ...     _ = es.tell(eps, -((cands - 1.0) ** 2).sum(axis=1))
    >>> bool(np.allclose(es.theta, 1.0, atol=0.2))
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metaplastic.errors import ConfigError
from metaplastic.params import Param, settings_type

__all__ = ["ES_PARAMS", "ESSettings", "EvolutionStrategy", "centered_ranks"]


#: The search's hyperparameters, declared once (backends list them; ESSettings derives from them).
ES_PARAMS = (
    Param("population", int, 64, "es: candidates per generation (even: antithetic pairs)", low=2),
    Param("sigma", float, 0.1, "es: standard deviation of the weight perturbations", low=0.0, low_exclusive=True),
    Param("lr", float, 0.03, "es: Adam step size", low=0.0, low_exclusive=True),
    Param("weight_decay", float, 0.0, "es: L2 pull of the weights towards 0", low=0.0),
)

def _check(settings: Any) -> None:
    if settings.population < 2 or settings.population % 2:
        raise ConfigError(f"ES population must be an even number >= 2 (antithetic pairs), got {settings.population}")
    if not settings.sigma > 0 or not settings.lr > 0:
        raise ConfigError("ES sigma and lr must be positive")


ESSettings = settings_type("ESSettings", ES_PARAMS, "Hyperparameters of the search (fields and defaults from ES_PARAMS).",
                           check=_check)


def centered_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks of ``x`` mapped linearly onto [-0.5, 0.5] (ties broken by position)."""
    ranks = np.empty(len(x))
    ranks[np.argsort(x, kind="stable")] = np.arange(len(x))
    return ranks / max(len(x) - 1, 1) - 0.5


class EvolutionStrategy:
    """The search state: mean ``theta`` and Adam's moments (all saved to resume)."""

    def __init__(self, theta: np.ndarray, settings: ESSettings):
        self.theta = np.asarray(theta, dtype=np.float64).copy()
        self.settings = settings
        self.m = np.zeros_like(self.theta)
        self.v = np.zeros_like(self.theta)
        self.t = 0

    def ask(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(eps, candidates)``: pair i is ``theta + σ eps[i]`` (row 2i) and ``theta - σ eps[i]`` (row 2i+1)."""
        pairs = self.settings.population // 2
        eps = rng.standard_normal((pairs, self.theta.size))
        cands = np.empty((2 * pairs, self.theta.size))
        cands[0::2] = self.theta + self.settings.sigma * eps
        cands[1::2] = self.theta - self.settings.sigma * eps
        return eps, cands

    def tell(self, eps: np.ndarray, fitness: np.ndarray) -> np.ndarray:
        """Move ``theta`` up the shaped fitness gradient; return the gradient estimate."""
        f = np.asarray(fitness, dtype=np.float64)
        if f.shape != (2 * eps.shape[0],) or not np.all(np.isfinite(f)):
            raise ValueError(f"fitness must be {2 * eps.shape[0]} finite numbers, got shape {f.shape}")
        w = centered_ranks(f)
        grad = (w[0::2] - w[1::2]) @ eps / (eps.shape[0] * self.settings.sigma)
        grad = grad - self.settings.weight_decay * self.theta
        b1, b2 = 0.9, 0.999
        self.t += 1
        self.m = b1 * self.m + (1 - b1) * grad
        self.v = b2 * self.v + (1 - b2) * grad * grad
        m_hat, v_hat = self.m / (1 - b1 ** self.t), self.v / (1 - b2 ** self.t)
        self.theta = self.theta + self.settings.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        return grad
