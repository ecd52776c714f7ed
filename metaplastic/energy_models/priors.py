"""Priors over a family's hidden parameters, meta-learned from the training tasks' labels.

Each prior is a frozen dataclass that fits itself to labels (``fit``), saves as arrays
(``arrays`` / ``from_arrays``), gives its log density in the samplers' *unconstrained*
coordinates ``u`` as a Numba kernel ``kernel(u, prm, grad) -> log p(u)`` (adding the
gradient to ``grad``), and draws from itself.

* :class:`BetaPrior`: every coordinate of ``z`` in [0, 1] (a bandit's arms, exchangeable)
  ``~ Beta(a, b)``, fitted by the method of moments; ``u = logit z``.
* :class:`GaussianMixturePrior`: a diagonal Gaussian mixture over ``u`` (for a box,
  ``u = logit`` of ``z`` scaled to [0, 1]), fitted by EM.
* :class:`CategoricalPrior`: probabilities of a family's enumerated values, fitted by
  counting (plus a floor of ``floor`` mass spread over all values, so a value never seen in
  training is unlikely, not impossible). Its *relaxed form* is a mixture of narrow
  Gaussians at the values.
* :class:`TabularPrior`: a tabular MDP's Normal mean rewards and symmetric Dirichlet
  transitions, fitted by moments.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> prior = BetaPrior.fit(rng.beta(2.0, 5.0, size=(4000, 5)))
    >>> round(prior.a, 1), round(prior.b, 1)
    (2.0, 5.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from metaplastic.errors import ConfigError
from metaplastic.tasks.mdp import MDPPrior

_LOG_2PI = float(np.log(2.0 * np.pi))


def _check_labels(labels: np.ndarray, what: str) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.float64)
    if labels.ndim != 2 or len(labels) < 2 or not np.all(np.isfinite(labels)):
        raise ConfigError(f"energy: fitting the {what} prior needs at least 2 finite label rows, got shape "
                          f"{labels.shape}; meta-train on more tasks")
    return labels


# -- Beta --------------------------------------------------------------------------------
@numba.njit(cache=True)
def _log_sigmoid(x):
    return -np.log1p(np.exp(-x)) if x > 0 else x - np.log1p(np.exp(x))


@numba.njit(cache=True)
def beta_logit_kernel(u, prm, grad):
    """log density of ``u = logit z``, ``z ~ Beta(a, b)`` per coordinate: ``a log σ(u) + b
    log σ(-u) - log B(a, b)`` (the Jacobian included)."""
    a, b, lbeta = prm[0], prm[1], prm[2]
    total = 0.0
    for i in range(u.shape[0]):
        ls = _log_sigmoid(u[i])
        s = np.exp(ls)
        total += a * ls + b * (ls - u[i]) - lbeta
        grad[i] += a * (1.0 - s) - b * s
    return total


@dataclass(frozen=True)
class BetaPrior:
    """Each coordinate ``~ Beta(a, b)`` (shared: exchangeable coordinates such as arms)."""

    a: float
    b: float

    def macs(self, dim: int) -> int:
        """Multiply-accumulates of one log-density (and gradient) evaluation."""
        return 6 * dim

    @classmethod
    def fit(cls, labels: np.ndarray) -> "BetaPrior":
        """Method of moments on every coordinate of every label row."""
        x = _check_labels(labels, "Beta").ravel()
        m, v = float(x.mean()), float(x.var())
        if not 0.0 < m < 1.0 or v <= 0.0:
            raise ConfigError("energy: the Beta prior needs labels inside (0, 1) that vary; check the task family")
        common = max(m * (1.0 - m) / v - 1.0, 1e-3)
        return cls(a=m * common, b=(1.0 - m) * common)

    @property
    def lbeta(self) -> float:
        return math.lgamma(self.a) + math.lgamma(self.b) - math.lgamma(self.a + self.b)

    def kernel_params(self) -> np.ndarray:
        return np.array([self.a, self.b, self.lbeta])

    kernel = staticmethod(beta_logit_kernel)

    def sample_u(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        z = np.clip(rng.beta(self.a, self.b, size=(n, dim)), 1e-12, 1 - 1e-12)
        return np.log(z) - np.log1p(-z)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"beta": np.array([self.a, self.b])}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "BetaPrior":
        a, b = (float(v) for v in arrays["beta"])
        return cls(a=a, b=b)


# -- Gaussian mixture --------------------------------------------------------------------
@numba.njit(cache=True)
def gmm_kernel(u, prm, grad):
    """log density of a diagonal Gaussian mixture; ``prm`` = K, d, log weights (K), means
    (K·d), variances (K·d)."""
    k_n, d = int(prm[0]), int(prm[1])
    logw = prm[2:2 + k_n]
    means = prm[2 + k_n:2 + k_n + k_n * d]
    var = prm[2 + k_n + k_n * d:2 + k_n + 2 * k_n * d]
    comp = np.empty(k_n)
    best = -np.inf
    for k in range(k_n):
        s = logw[k]
        for i in range(d):
            diff = u[i] - means[k * d + i]
            s -= 0.5 * (diff * diff / var[k * d + i] + np.log(var[k * d + i]) + _LOG_2PI)
        comp[k] = s
        best = max(best, s)
    total = 0.0
    for k in range(k_n):
        total += np.exp(comp[k] - best)
    lse = best + np.log(total)
    for k in range(k_n):
        r = np.exp(comp[k] - lse)
        for i in range(d):
            grad[i] -= r * (u[i] - means[k * d + i]) / var[k * d + i]
    return lse


@dataclass(frozen=True, eq=False)
class GaussianMixturePrior:
    """A diagonal Gaussian mixture: ``weights (K,)``, ``means (K, d)``, ``variances (K, d)``."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    def macs(self, dim: int) -> int:
        """Multiply-accumulates of one log-density (and gradient) evaluation."""
        return 6 * dim * len(self.weights)

    @classmethod
    def fit(cls, u: np.ndarray, *, components: int, rng: np.random.Generator, iters: int = 200,
            min_var: float = 1e-4) -> "GaussianMixturePrior":
        """EM from ``components`` labels drawn at random as the starting means.

        Example:
            >>> import numpy as np
            >>> rng = np.random.default_rng(0)
            >>> u = np.concatenate([rng.normal(-2, 0.5, (500, 1)), rng.normal(3, 0.5, (500, 1))])
            >>> g = GaussianMixturePrior.fit(u, components=2, rng=rng)
            >>> sorted(np.round(g.means[:, 0]).tolist())
            [-2.0, 3.0]
        """
        u = _check_labels(u, "mixture")
        n, d = u.shape
        k = max(1, min(int(components), n))
        means = u[rng.choice(n, size=k, replace=False)].copy()
        var = np.tile(np.maximum(u.var(axis=0), min_var), (k, 1))
        logw = np.full(k, -np.log(k))
        prev = -np.inf
        for _ in range(iters):
            comp = logw - 0.5 * (((u[:, None, :] - means) ** 2 / var) + np.log(var) + _LOG_2PI).sum(-1)  # (n, k)
            lse = np.logaddexp.reduce(comp, axis=1)
            resp = np.exp(comp - lse[:, None])
            nk = resp.sum(0) + 1e-12
            logw = np.log(nk / n)
            means = (resp.T @ u) / nk[:, None]
            var = np.maximum((resp.T @ u**2) / nk[:, None] - means**2, min_var)
            ll = float(lse.mean())
            if ll - prev < 1e-8:
                break
            prev = ll
        return cls(weights=np.exp(logw), means=means, variances=var)

    def kernel_params(self) -> np.ndarray:
        k, d = self.means.shape
        return np.concatenate([[k, d], np.log(self.weights), self.means.ravel(), self.variances.ravel()]).astype(np.float64)

    kernel = staticmethod(gmm_kernel)

    def log_density(self, u: np.ndarray) -> np.ndarray:
        """log p(u) of the rows of ``u`` (numpy)."""
        comp = np.log(self.weights) - 0.5 * (((u[:, None, :] - self.means) ** 2 / self.variances)
                                             + np.log(self.variances) + _LOG_2PI).sum(-1)
        return np.logaddexp.reduce(comp, axis=1)

    def sample_u(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        k = rng.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        return self.means[k] + np.sqrt(self.variances[k]) * rng.standard_normal((n, self.means.shape[1]))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"gmm_weights": self.weights, "gmm_means": self.means, "gmm_variances": self.variances}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "GaussianMixturePrior":
        w, m, v = arrays["gmm_weights"], arrays["gmm_means"], arrays["gmm_variances"]
        if w.ndim != 1 or m.shape != v.shape or m.ndim != 2 or len(w) != len(m) or (v <= 0).any() or (w < 0).any():
            raise ConfigError("energy: the saved mixture prior's arrays do not fit together")
        return cls(weights=w, means=m, variances=v)


# -- Categorical -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CategoricalPrior:
    """Probabilities ``probs (M,)`` of a family's ``M`` enumerated values."""

    probs: np.ndarray

    @classmethod
    def fit(cls, labels: np.ndarray, values: np.ndarray, *, floor: float) -> "CategoricalPrior":
        """Frequencies of the labels among ``values``, mixed with ``floor`` uniform mass.

        Example:
            >>> import numpy as np
            >>> v = np.array([[0.0], [1.0], [2.0]])
            >>> CategoricalPrior.fit(np.array([[0.0], [0.0], [1.0], [1.0]]), v, floor=0.0).probs.tolist()
            [0.5, 0.5, 0.0]
        """
        labels = _check_labels(labels, "categorical")
        index = value_index(labels, values)
        counts = np.bincount(index, minlength=len(values)).astype(np.float64)
        probs = (1.0 - floor) * counts / counts.sum() + floor / len(values)
        return cls(probs=probs)

    def log_probs(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.probs)

    def relaxed(self, values: np.ndarray, width: float) -> GaussianMixturePrior:
        """The relaxed form: Gaussians of standard deviation ``width`` at the values with
        positive probability."""
        keep = self.probs > 0
        return GaussianMixturePrior(weights=self.probs[keep] / self.probs[keep].sum(), means=values[keep].copy(),
                                    variances=np.full(values[keep].shape, float(width) ** 2))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"categorical": self.probs}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "CategoricalPrior":
        p = arrays["categorical"]
        if p.ndim != 1 or (p < 0).any() or not np.isclose(p.sum(), 1.0):
            raise ConfigError("energy: the saved categorical prior is not a probability vector")
        return cls(probs=p)


def value_index(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The index of the nearest of ``values`` (rows) to each label row."""
    return np.argmin(((labels[:, None, :] - values[None, :, :]) ** 2).sum(-1), axis=1)


# -- Tabular -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TabularPrior:
    """Mean rewards ``~ Normal(reward_mean, reward_std²)``, next-state distributions ``~
    Dirichlet(alpha · 1)``: an :class:`~metaplastic.tasks.mdp.MDPPrior` fitted by moments."""

    prior: MDPPrior

    @classmethod
    def fit(cls, labels: np.ndarray, n_states: int, n_actions: int, noise_std: float) -> "TabularPrior":
        labels = _check_labels(labels, "tabular")
        sa = n_states * n_actions
        rewards, probs = labels[:, :sa].ravel(), labels[:, sa:].ravel()
        m = 1.0 / n_states
        var = float(probs.var())
        alpha = max((m * (1.0 - m) / var - 1.0) / n_states, 1e-3) if var > 0 else 1e3
        return cls(MDPPrior(reward_mean=float(rewards.mean()), reward_std=max(float(rewards.std()), 1e-6), alpha=alpha,
                            noise_std=noise_std))

    def arrays(self) -> dict[str, np.ndarray]:
        p = self.prior
        return {"tabular": np.array([p.reward_mean, p.reward_std, p.alpha, p.noise_std])}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "TabularPrior":
        v = arrays["tabular"]
        if v.shape != (4,) or (v[1:] <= 0).any():
            raise ConfigError("energy: the saved tabular prior needs 4 numbers, the last three > 0")
        return cls(MDPPrior(*(float(x) for x in v)))
