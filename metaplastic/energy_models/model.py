"""The energy model of one task family: its declared latent, the meta-learned prior and the
tempered likelihood, and the energy both define in the samplers' coordinates.

Meta-training (:func:`fit_model`) reads the training tasks' hidden parameters (labels) and
fits the prior; the likelihood is the family's declared closed-form law, not learned (a
family without a closed form is refused, with the reason). In the samplers' coordinates
``u``, ``z = low + (high - low) σ(u)`` on a box (the prior is a density over ``u``, so no
Jacobian is needed) and ``z = u`` for enumerated values (their relaxed form).

Example:
    >>> import numpy as np, metaplastic
    >>> tasks = metaplastic.make_tasks("bandits:k=3")
    >>> m = fit_model(tasks, tasks.latent_labels(tasks.sample(2000, seed=0)), components=4, floor=0.0,
    ...               noise=0.01, relax=0.25, rng=np.random.default_rng(0))
    >>> type(m.prior).__name__, round(m.prior.a, 1)
    ('BetaPrior', 1.0)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from metaplastic.energy_models.laws import LawKernel, law_kernel
from metaplastic.energy_models.priors import BetaPrior, CategoricalPrior, GaussianMixturePrior, TabularPrior
from metaplastic.errors import ConfigError
from metaplastic.tasks.latent import BoxSpace, EnumeratedSpace, Latent, TabularSpace
from metaplastic.tasks.mdp import MDPPrior

#: Width of the relaxed form's prior bumps, as a fraction of the likelihood's ``relax``.
PRIOR_BUMP = 0.2


@dataclass(frozen=True, eq=False)
class EnergyModel:
    """A family's latent, its fitted prior and the likelihood's tempering."""

    latent: Latent
    prior: Any
    noise: float
    relax: float

    @property
    def dim(self) -> int:
        return self.latent.dim

    @property
    def box(self) -> bool:
        """Whether the samplers' coordinates are ``logit`` of a box (else ``z = u``)."""
        return isinstance(self.latent.space, BoxSpace)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self.box:
            return self.latent.space.arrays()
        return np.zeros(self.dim), np.ones(self.dim)

    def exact_kernel(self) -> LawKernel:
        """The likelihood with the exact law where the latent is enumerated (no relaxation)."""
        return law_kernel(self.latent.law, noise=self.noise, relax=0.0)

    def sampler_kernel(self) -> LawKernel:
        """The likelihood the samplers see (gridnavi's goal relaxed by ``relax``)."""
        return law_kernel(self.latent.law, noise=self.noise, relax=self.relax)

    def sampler_prior(self) -> Any:
        """The prior over the samplers' coordinates ``u``."""
        if isinstance(self.prior, CategoricalPrior):
            return self.prior.relaxed(self.latent.space.array(), PRIOR_BUMP * self.relax)
        if isinstance(self.prior, TabularPrior):
            raise ConfigError("energy: a tabular latent has no sampler coordinates; use engine=exact (the conjugate "
                              "posterior)")
        return self.prior

    def to_z(self, u: np.ndarray) -> np.ndarray:
        if not self.box:
            return np.array(u, dtype=np.float64)  # a copy: beliefs must not see later updates
        low, high = self.bounds()
        return low + (high - low) / (1.0 + np.exp(-u))

    def to_u(self, z: np.ndarray) -> np.ndarray:
        if not self.box:
            return np.asarray(z, dtype=np.float64)
        low, high = self.bounds()
        s = np.clip((np.asarray(z, dtype=np.float64) - low) / (high - low), 1e-9, 1 - 1e-9)
        return np.log(s) - np.log1p(-s)

    def energy_fn(self) -> Any:
        """The Numba energy ``E(u)`` with its gradient (see :func:`make_energy`)."""
        return make_energy(self.sampler_prior().kernel, self.sampler_kernel().fn, self.box)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**self.prior.arrays(), "tempering": np.array([self.noise, self.relax])}


def mismatch(model: EnergyModel, latent: Latent) -> str | None:
    """How ``latent`` differs from the one ``model`` was built for (``None``: it does not)."""
    mine, theirs = model.latent.space, latent.space
    if type(mine) is not type(theirs) or model.dim != latent.dim:
        return f"a {type(mine).__name__} of dimension {model.dim}, the tasks' a {type(theirs).__name__} of {latent.dim}"
    if isinstance(mine, EnumeratedSpace) and len(mine.values) != len(theirs.values):
        return f"{len(mine.values)} values, the tasks' {len(theirs.values)}"
    if isinstance(mine, BoxSpace) and (mine.low, mine.high) != (theirs.low, theirs.high):
        return f"the box {mine.low}..{mine.high}, the tasks' {theirs.low}..{theirs.high}"
    if isinstance(mine, TabularSpace) and (mine.n_states, mine.n_actions) != (theirs.n_states, theirs.n_actions):
        return f"{mine.n_states} states x {mine.n_actions} actions, the tasks' {theirs.n_states} x {theirs.n_actions}"
    return None


def _unit_arms(latent: Latent) -> bool:
    """Per-action coordinates in [0, 1] (bandit arms): a Beta prior, exact quadrature."""
    space = latent.space
    return (isinstance(space, BoxSpace) and space.per_action and space.low == (0.0,) * latent.dim
            and space.high == (1.0,) * latent.dim)


def fit_model(tasks: Any, labels: np.ndarray, *, components: int, floor: float, noise: float, relax: float,
              rng: np.random.Generator) -> EnergyModel:
    """Fit the prior of ``tasks``' latent to ``labels`` (the training tasks' ``z``)."""
    latent = tasks.latent()
    space = latent.space
    if latent.law is None:
        raise ConfigError(f"energy: task family {tasks.name!r} declares no closed-form transition law; a learned "
                          "likelihood (world model) is not implemented yet")
    if isinstance(space, TabularSpace):
        prior: Any = TabularPrior.fit(labels, space.n_states, space.n_actions, latent.law.noise_std)
    elif isinstance(space, EnumeratedSpace):
        prior = CategoricalPrior.fit(labels, space.array(), floor=floor)
    elif _unit_arms(latent):
        prior = BetaPrior.fit(labels)
    else:
        model = EnergyModel(latent, None, noise, relax)
        prior = GaussianMixturePrior.fit(model.to_u(labels), components=components, rng=rng)
    return EnergyModel(latent, prior, float(noise), float(relax))


def model_keys(latent: Latent) -> tuple[str, ...]:
    """The arrays a saved model of ``latent`` holds (see :meth:`EnergyModel.arrays`)."""
    space = latent.space
    if isinstance(space, TabularSpace):
        return ("tabular", "tempering")
    if isinstance(space, EnumeratedSpace):
        return ("categorical", "tempering")
    if _unit_arms(latent):
        return ("beta", "tempering")
    return ("gmm_weights", "gmm_means", "gmm_variances", "tempering")


def model_from_arrays(latent: Latent, arrays: dict[str, np.ndarray]) -> EnergyModel:
    """The model saved by :meth:`EnergyModel.arrays` (one-line errors for foreign arrays)."""
    space = latent.space
    if isinstance(space, TabularSpace):
        prior: Any = TabularPrior.from_arrays(arrays)
    elif isinstance(space, EnumeratedSpace):
        prior = CategoricalPrior.from_arrays(arrays)
        if len(prior.probs) != len(space.values):
            raise ConfigError(f"energy: the saved prior has {len(prior.probs)} values, the family {len(space.values)}")
    elif _unit_arms(latent):
        prior = BetaPrior.from_arrays(arrays)
    else:
        prior = GaussianMixturePrior.from_arrays(arrays)
        if prior.means.shape[1] != latent.dim:
            raise ConfigError(f"energy: the saved prior is over {prior.means.shape[1]} dimensions, the family's latent "
                              f"has {latent.dim}")
    noise, relax = (float(v) for v in arrays["tempering"])
    return EnergyModel(latent, prior, noise, relax)


@numba.njit(cache=True)
def to_z(u, box, low, high, z, dz):
    """``z`` from the samplers' coordinates ``u`` (the box's scaled sigmoid, or the identity)
    and ``dz/du`` per coordinate, written into ``z`` and ``dz``."""
    for i in range(u.shape[0]):
        if box:
            s = 1.0 / (1.0 + np.exp(-u[i]))
            z[i] = low[i] + (high[i] - low[i]) * s
            dz[i] = (high[i] - low[i]) * s * (1.0 - s)
        else:
            z[i] = u[i]
            dz[i] = 1.0


@functools.cache
def make_energy(prior_kernel: Any, law_fn: Any, box: bool) -> Any:
    """A Numba function ``energy(u, prior_prm, law_prm, low, high, obs, act, rew, nxt, t0,
    t1, grad) -> E(u)``: minus the log prior at ``u`` minus the log likelihood of
    transitions ``t0..t1-1``, its gradient with respect to ``u`` written into ``grad``."""

    @numba.njit
    def energy(u, prior_prm, law_prm, low, high, obs, act, rew, nxt, t0, t1, grad):
        d = u.shape[0]
        for i in range(d):
            grad[i] = 0.0
        log_prior = prior_kernel(u, prior_prm, grad)
        z = np.empty(d)
        dz = np.empty(d)
        to_z(u, box, low, high, z, dz)
        gz = np.zeros(d)
        log_lik = 0.0
        for t in range(t0, t1):
            log_lik += law_fn(z, obs[t], act[t], rew[t], nxt[t], law_prm, gz, True)
        for i in range(d):
            grad[i] = -(grad[i] + gz[i] * dz[i])
        return -(log_prior + log_lik)

    return energy


def default_model(latent: Latent, *, noise: float, relax: float) -> EnergyModel:
    """The model of a learner not yet meta-trained: an uninformative prior (uniform values,
    Beta(1, 1) arms, one wide Gaussian over ``u`` — near-uniform on the box — or a unit
    Normal–flat-Dirichlet MDP)."""
    space = latent.space
    if isinstance(space, TabularSpace):
        prior: Any = TabularPrior(MDPPrior(reward_mean=0.0, reward_std=1.0, alpha=1.0, noise_std=latent.law.noise_std))
    elif isinstance(space, EnumeratedSpace):
        prior = CategoricalPrior(probs=np.full(len(space.values), 1.0 / len(space.values)))
    elif _unit_arms(latent):
        prior = BetaPrior(1.0, 1.0)
    else:  # the logistic density of u under a uniform z has variance pi²/3
        prior = GaussianMixturePrior(weights=np.ones(1), means=np.zeros((1, latent.dim)),
                                     variances=np.full((1, latent.dim), np.pi**2 / 3))
    return EnergyModel(latent, prior, float(noise), float(relax))
