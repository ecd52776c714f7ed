"""The ``langevin`` engine: sequential Monte Carlo with Metropolis-adjusted Langevin moves,
in Numba (:mod:`~metaplastic.energy_models.engines.smc_kernel`); torch-free.

Each lane keeps ``particles`` weighted particles in the samplers' coordinates. A new
transition reweights them (the previous posterior is the warm start: only the new term is
evaluated); when they degenerate they are resampled and ``moves`` MALA steps on the full
energy rejuvenate them. An enumerated latent (gridnavi's goal) is sampled in its relaxed form: a
continuous goal with a Gaussian hit of width ``relax`` and a prior of narrow bumps at the
cells; a posterior draw is then read as its nearest cell.

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.core import OpCounts
    >>> from metaplastic.energy_models.engines.base import InferenceSettings
    >>> from metaplastic.energy_models.model import fit_model
    >>> tasks = metaplastic.make_tasks("nav2d")
    >>> rng = np.random.default_rng(0)
    >>> model = fit_model(tasks, tasks.latent_labels(tasks.sample(500, seed=0)), components=4, floor=0.0,
    ...                   noise=0.01, relax=0.25, rng=rng)
    >>> eng = LangevinEngine(model, 2, InferenceSettings(particles=64), OpCounts())
    >>> eng.reset(rng)
    >>> eng.sample(np.array([0, 1]), rng).shape
    (2, 2)
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

import numpy as np

from metaplastic.core import OpCounts
from metaplastic.energy_models.engines import smc_kernel
from metaplastic.energy_models.engines.base import Belief, Engine, normalize_log
from metaplastic.energy_models.history import History
from metaplastic.energy_models.model import EnergyModel
from metaplastic.energy_models.priors import TabularPrior, value_index
from metaplastic.errors import ConfigError
from metaplastic.tasks.latent import EnumeratedSpace

#: The largest latent dimension the particle sampler takes on.
MAX_DIM = 64
#: Below this posterior mass near an enumerated value, the value counts as ruled out.
RULED_OUT_MASS = 1e-3


def langevin_reason(model: EnergyModel) -> str | None:
    """Why the langevin engine does not apply (``None`` if it does)."""
    if isinstance(model.prior, TabularPrior):
        return (f"engine langevin does not apply to a tabular latent (dimension {model.dim}); use engine=exact "
                "(the conjugate posterior)")
    if model.dim > MAX_DIM:
        return f"engine langevin takes latents of dimension <= {MAX_DIM}, this one has {model.dim}"
    return None


class SamplerEngine(Engine):
    """What the engines that sample the samplers' coordinates ``u`` share (langevin, and the
    pyro engines): the applicability check (``reason``), the prior over ``u`` with its
    kernel parameters and cost, the likelihood kernel, the Numba energy and the box."""

    reason: ClassVar[Callable[[EnergyModel], str | None]] = staticmethod(langevin_reason)

    def __init__(self, model: EnergyModel, num_lanes: int, settings: Any, counts: OpCounts):
        why = type(self).reason(model)
        if why:
            raise ConfigError(f"energy: {why}")
        super().__init__(model, num_lanes, settings, counts)
        self.prior = model.sampler_prior()
        self.prior_prm = self.prior.kernel_params()
        self.prior_macs = self.prior.macs(model.dim)
        self.kernel = model.sampler_kernel()
        self.energy = model.energy_fn()
        self.low, self.high = model.bounds()


class LangevinEngine(SamplerEngine):
    """SMC with MALA moves over ``particles`` particles per lane (see the module doc)."""

    name = "langevin"

    def reset(self, rng: np.random.Generator) -> None:
        n, d, b = int(self.settings.particles), self.model.dim, self.num_lanes
        self.U = self.prior.sample_u(b * n, d, rng).reshape(b, n, d)
        self.logw = np.zeros((b, n))
        self.E = np.zeros((b, n))
        self.G = np.zeros((b, n, d))
        self.step = np.full(b, float(self.settings.step))
        self.fresh = np.ones(b, dtype=bool)  # prior particles whose energies are not computed yet
        self.rng = rng

    def _init(self, lanes: np.ndarray, history: History) -> None:
        """The prior energies of fresh lanes' particles (done at their first update, so that
        a reset costs nothing)."""
        fresh = lanes[self.fresh[lanes]]
        if not len(fresh):
            return
        smc_kernel.init_particles(self.energy, fresh, self.U, self.logw, self.E, self.G, self.prior_prm,
                                  self.kernel.prm, self.low, self.high, history.obs, history.act, history.rew,
                                  history.nxt)
        n = len(fresh) * self.U.shape[1]
        self.counts.energy_evals += n
        self.counts.grad_evals += n
        self.counts.macs += n * self.prior_macs
        self.fresh[fresh] = False

    def update(self, lanes: np.ndarray, history: History) -> None:
        lanes = np.asarray(lanes, dtype=np.int64)
        if not len(lanes):
            return
        self._init(lanes, history)
        stats = np.zeros(4, dtype=np.int64)
        smc_kernel.seed(int(self.rng.integers(2**31)))
        smc_kernel.smc_update(self.energy, self.kernel.fn, self.model.box, lanes, self.U, self.logw, self.E, self.G,
                              self.step, self.prior_prm, self.kernel.prm, self.low, self.high, history.obs, history.act,
                              history.rew, history.nxt, history.count, int(self.settings.moves), stats)
        proposals = int(stats[3])
        # every proposal evaluates the prior once and the law once per transition (stats count both)
        self._count(int(stats[0]) - proposals, grads=int(stats[1]) - proposals, kernel=self.kernel,
                    prior_macs=proposals * self.prior_macs, updates=len(lanes))
        self.counts.energy_evals += proposals
        self.counts.grad_evals += proposals

    def ruled_out(self, lanes: np.ndarray, z: np.ndarray) -> np.ndarray:
        """For an enumerated latent (sampled in its relaxed form): whether the particles
        nearest each lane's value ``z`` hold less than :data:`RULED_OUT_MASS` of the weight."""
        space = self.model.latent.space
        if not isinstance(space, EnumeratedSpace):
            return super().ruled_out(lanes, z)
        values = space.array()
        lanes = np.asarray(lanes, dtype=np.int64)
        u = self.U[lanes]  # (b, particles, d); z = u for an enumerated latent's relaxed form
        near = value_index(u.reshape(-1, u.shape[-1]), values).reshape(u.shape[:2])
        target = value_index(np.asarray(z, dtype=np.float64).reshape(len(lanes), -1), values)
        mass = (normalize_log(self.logw[lanes]) * (near == target[:, None])).sum(axis=1)
        return mass < RULED_OUT_MASS

    def belief(self, lane: int) -> Belief:
        return Belief(points=self.model.to_z(self.U[lane]), weights=normalize_log(self.logw[lane]))

    def sample(self, lanes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        w = normalize_log(self.logw[lanes])
        idx = np.minimum((w.cumsum(axis=1) < rng.random((len(lanes), 1))).sum(axis=1), w.shape[1] - 1)
        return self.model.to_z(self.U[lanes, idx])

    def mean(self, lanes: np.ndarray) -> np.ndarray:
        w = normalize_log(self.logw[lanes])
        return np.einsum("bn,bnd->bd", w, self.model.to_z(self.U[lanes]))
