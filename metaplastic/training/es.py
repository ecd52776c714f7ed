"""Evolution strategies (Salimans et al. 2017): a search distribution N(θ, σ²I) over a
flat parameter vector, antithetic pairs ``θ ± σε``, centered-rank fitness shaping and an
Adam step along the estimated gradient of expected fitness. numpy only; the population's
fitness comes from whatever evaluates it (see :mod:`metaplastic.training.executors`).

The search never takes a non-finite state: candidates that are not finite (``ask``), a
fitness that is not finite or a step that would make the mean not finite (``tell``, before
anything changes) raise :class:`~metaplastic.errors.TrainingDiverged` naming the likely
cause.

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

import hashlib
from typing import Any

import numpy as np

from metaplastic.errors import ConfigError
from metaplastic.params import Param, settings_type
from metaplastic.training.divergence import require_finite

__all__ = ["ES_PARAMS", "ESSettings", "EvolutionStrategy", "centered_ranks", "pair_noise", "generation_noise", "member", "digest"]


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


def pair_noise(seed: int, pair: int, size: int) -> np.ndarray:
    """The perturbation ``eps`` of antithetic pair ``pair`` of the generation drawn with
    ``seed``: regenerated from two integers wherever it is needed (Salimans et al. 2017),
    so a generation is moved as seeds, never as noise vectors."""
    return np.random.default_rng([int(seed), int(pair)]).standard_normal(size)


def generation_noise(seed: int, pairs: int, size: int) -> np.ndarray:
    """``(pairs, size)``: every pair's :func:`pair_noise` of the generation ``seed``.

    Example:
        >>> eps = generation_noise(7, 2, 3)
        >>> bool(np.array_equal(eps[1], pair_noise(7, 1, 3)))
        True
    """
    return np.stack([pair_noise(seed, i, size) for i in range(pairs)]) if pairs else np.zeros((0, size))


def member(theta: np.ndarray, sigma: float, seed: int, index: int) -> np.ndarray:
    """Candidate ``index`` of the generation ``seed`` around ``theta``: ``theta + σ eps`` for
    even indices, ``theta - σ eps`` for odd ones (the rows of :meth:`EvolutionStrategy.ask`,
    bit for bit).

    Example:
        >>> es = EvolutionStrategy(np.zeros(3), ESSettings(population=4))
        >>> seed, eps = es.ask_seeded(5)
        >>> bool(np.array_equal(member(es.theta, 0.1, seed, 3), es.candidates(eps)[3]))
        True
    """
    eps = pair_noise(seed, index // 2, theta.size)
    with np.errstate(over="ignore", invalid="ignore"):
        return theta + sigma * eps if index % 2 == 0 else theta - sigma * eps


def digest(theta: np.ndarray) -> str:
    """A short fingerprint of a search mean's bytes: replicas that apply the same updates
    must agree on it bit for bit.

    Example:
        >>> digest(np.zeros(2)) == digest(np.zeros(2)), digest(np.zeros(2)) == digest(np.ones(2))
        (True, False)
    """
    return hashlib.blake2b(np.ascontiguousarray(theta).tobytes(), digest_size=8).hexdigest()


class EvolutionStrategy:
    """The search state: mean ``theta`` and Adam's moments (all saved to resume)."""

    def __init__(self, theta: np.ndarray, settings: ESSettings):
        self.theta = np.asarray(theta, dtype=np.float64).copy()
        self.settings = settings
        self.m = np.zeros_like(self.theta)
        self.v = np.zeros_like(self.theta)
        self.t = 0

    def ask(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(eps, candidates)``: pair i is ``theta + σ eps[i]`` (row 2i) and ``theta - σ eps[i]``
        (row 2i+1), the noise of a generation seed drawn from ``rng`` (see :meth:`ask_seeded`)."""
        _, eps = self.ask_seeded(int(rng.integers(2**63)))
        return eps, self.candidates(eps)

    def ask_seeded(self, seed: int, limit: float = np.inf, hint: str | None = None) -> tuple[int, np.ndarray]:
        """``(seed, eps)`` of the generation ``seed`` (``eps`` is :func:`generation_noise`);
        candidate ``i`` is :func:`member` ``(theta, σ, seed, i)``, made where it is evaluated.
        Raises :class:`~metaplastic.errors.TrainingDiverged` when the bound
        ``max|θ| + σ·max|ε|`` on every candidate's entries is not finite (or exceeds
        ``limit``): no candidate is formed here, so this may refuse a generation none of
        whose candidates would overflow; ``hint`` replaces the default advice in its message."""
        pairs = self.settings.population // 2
        eps = generation_noise(seed, pairs, self.theta.size)
        with np.errstate(over="ignore", invalid="ignore"):  # reported just below
            bound = np.abs(self.theta).max(initial=0.0) + self.settings.sigma * np.abs(eps).max(initial=0.0)
        require_finite(np.array([bound]), "the candidates",
                       hint or f"sigma={self.settings.sigma:g} is probably too large — lower sigma", limit=limit)
        return int(seed), eps

    def candidates(self, eps: np.ndarray) -> np.ndarray:
        """The ``(population, d)`` candidates of the noise ``eps`` (rows as :func:`member`)."""
        cands = np.empty((2 * eps.shape[0], self.theta.size))
        with np.errstate(over="ignore", invalid="ignore"):
            cands[0::2] = self.theta + self.settings.sigma * eps
            cands[1::2] = self.theta - self.settings.sigma * eps
        return cands

    def tell(self, eps: np.ndarray, fitness: np.ndarray) -> np.ndarray:
        """Move ``theta`` up the shaped fitness gradient; return the gradient estimate.
        A non-finite fitness or mean raises
        :class:`~metaplastic.errors.TrainingDiverged` and leaves the search as it was."""
        f = np.asarray(fitness, dtype=np.float64)
        if f.shape != (2 * eps.shape[0],):
            raise ValueError(f"fitness must be {2 * eps.shape[0]} finite numbers, got shape {f.shape}")
        s = self.settings
        require_finite(f, "the fitness", f"the perturbed networks probably overflow — lower sigma={s.sigma:g} "
                       f"(or lr={s.lr:g})")
        w = centered_ranks(f)
        grad = (w[0::2] - w[1::2]) @ eps / (eps.shape[0] * s.sigma)
        grad = grad - s.weight_decay * self.theta
        b1, b2 = 0.9, 0.999
        t = self.t + 1
        m = b1 * self.m + (1 - b1) * grad
        v = b2 * self.v + (1 - b2) * grad * grad
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged step is reported just below
            theta = self.theta + s.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        require_finite(theta, "the search mean", f"lr={s.lr:g} is probably too large — lower lr")
        self.theta, self.m, self.v, self.t = theta, m, v, t
        return grad
