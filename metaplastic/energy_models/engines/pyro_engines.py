"""The ``nuts`` and ``svi`` engines: pyro-ppl (extra ``pyro``) on the family's own energy.

Both run one pyro model per lane, defined by a potential: the latent ``u`` (the samplers'
coordinates, over ``R^d``) is a sample site whose own density is masked off, and the whole
density enters through ``pyro.factor("energy", -E(u))``, ``E`` being the same Numba energy
the other engines use (:meth:`EnergyModel.energy_fn`, the prior included), bridged into
torch by an autograd function whose backward is the Numba gradient. The base site is
``Normal(0, 1).expand([d]).to_event(1).mask(False)``, the form pyro's
:class:`~pyro.distributions.ImproperUniform` docs give for a site with zero log density
that can still be sampled (an init strategy or a guide's set-up may draw it); an
``ImproperUniform`` cannot be sampled, and an unmasked wide base would have to be
subtracted again from the factor. The likelihood is never re-implemented in torch.

* ``nuts``: :class:`~pyro.infer.MCMC` with :class:`~pyro.infer.NUTS`, ``warmup`` adaptation
  steps and ``samples`` kept samples per update on all the lane's transitions, started at
  the last sample of the lane's previous chain (the prior draws after a reset).
* ``svi``: :class:`~pyro.infer.SVI` on :class:`~pyro.infer.Trace_ELBO` with Adam,
  ``svi_steps`` steps per update, the guide (``mean-field``:
  :class:`~pyro.infer.autoguide.AutoNormal`; ``flow``:
  :class:`~pyro.infer.autoguide.AutoNormalizingFlow` with the IAF of
  :class:`~pyro.infer.autoguide.AutoIAFNormal`, in float64) continuing from where the
  lane's previous update left it; the belief is ``samples`` draws from the guide. Each lane keeps its own
  parameter store (entered with :meth:`pyro.params.param_store.ParamStoreDict.scope`, which
  restores the caller's store on exit) and its own optimizer state.

Updates run with one torch thread (the caller's setting is restored after): the tensors
are tiny, and intra-op threads only add synchronization (an IAF step on a 3-dimensional
latent took 50 ms with two threads against 2 ms with one, on a busy 2-core machine).

The beliefs are equally weighted samples of ``z``. Randomness comes from the generator given
to ``reset``: each update seeds torch from it inside :func:`torch.random.fork_rng`, so runs
repeat and the process's global torch, numpy and ``random`` states are left untouched.

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.core import OpCounts
    >>> from metaplastic.energy_models.engines.base import InferenceSettings
    >>> from metaplastic.energy_models.history import History
    >>> from metaplastic.energy_models.model import EnergyModel
    >>> from metaplastic.energy_models.priors import BetaPrior
    >>> model = EnergyModel(metaplastic.make_tasks("bandits:k=2").latent(), BetaPrior(1.0, 1.0), 0.0, 0.0)
    >>> counts = OpCounts()
    >>> eng = SviEngine(model, 1, InferenceSettings(svi_steps=5, samples=8), counts)
    >>> eng.reset(np.random.default_rng(0))
    >>> h = History(1, 1, 1)
    >>> h.append(np.array([0]), np.zeros((1, 1)), np.zeros((1, 1)), np.array([1.0]), np.zeros((1, 1)))
    >>> eng.update(np.array([0]), h)
    >>> eng.belief(0).points.shape, counts.posterior_updates, counts.energy_evals > 0
    ((8, 2), 1, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.distributions.transforms import affine_autoregressive
from pyro.infer import MCMC, NUTS, SVI, Trace_ELBO
from pyro.infer.autoguide import AutoNormal, AutoNormalizingFlow, init_to_value
from pyro.optim import Adam

from metaplastic.core import OpCounts
from metaplastic.energy_models.engines.base import Belief
from metaplastic.energy_models.engines.langevin import SamplerEngine, langevin_reason
from metaplastic.energy_models.history import History
from metaplastic.energy_models.model import EnergyModel
from metaplastic.errors import ConfigError

#: SVI guides by ``InferenceSettings.guide``.
GUIDES = ("mean-field", "flow")
#: Adam's learning rate for SVI.
SVI_LR = 0.05
#: Samples of the guide per ELBO gradient (vectorized: one batched energy call per step).
ELBO_PARTICLES = 8
#: The name of the latent's sample site in the pyro model.
SITE = "u"


def pyro_reason(model: EnergyModel) -> str | None:
    """Why the pyro engines do not apply (``None`` if they do): where langevin does not,
    since they sample the same coordinates with the same energy."""
    why = langevin_reason(model)
    return None if why is None else f"engines nuts and svi apply where langevin does: {why}"


class LaneEnergy:
    """The Numba energy of one lane's transitions ``0..count-1``, evaluated row by row on
    float64 arrays, with tallies of the terms evaluated (``evals``, prior and law apart)
    and differentiated (``grads``)."""

    def __init__(self, energy: Any, prior_prm: np.ndarray, law_prm: np.ndarray, low: np.ndarray,
                 high: np.ndarray) -> None:
        """``energy`` from :func:`~metaplastic.energy_models.model.make_energy`, with the prior's
        and the law's parameters and the box's bounds; bound to no transitions yet."""
        self.energy = energy
        self.prior_prm, self.law_prm, self.low, self.high = prior_prm, law_prm, low, high
        self.data: tuple[np.ndarray, ...] = (np.zeros((1, 1)),) * 2 + (np.zeros(1), np.zeros((1, 1)))
        self.count = 0
        self.prior_evals = self.law_evals = self.prior_grads = self.law_grads = 0

    def bind(self, history: History, lane: int) -> None:
        """Evaluate on ``lane``'s transitions in ``history`` from now on."""
        self.data = (history.obs[lane], history.act[lane], history.rew[lane], history.nxt[lane])
        self.count = int(history.count[lane])

    def __call__(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``E`` and ``dE/du`` at each row of ``u (n, d)``."""
        e = np.empty(len(u))
        g = np.empty_like(u)
        for row in range(len(u)):
            e[row] = self.energy(u[row], self.prior_prm, self.law_prm, self.low, self.high, *self.data, 0,
                                 self.count, g[row])
        self.prior_evals += len(u)
        self.law_evals += len(u) * self.count
        return e, g

    def counted_grads(self, rows: int) -> None:
        """Tally the gradients of ``rows`` energies (each its prior and its law terms)."""
        self.prior_grads += rows
        self.law_grads += rows * self.count

    def drain(self) -> tuple[int, int, int, int]:
        """The tallies ``(prior_evals, law_evals, prior_grads, law_grads)``, then zero them."""
        out = (self.prior_evals, self.law_evals, self.prior_grads, self.law_grads)
        self.prior_evals = self.law_evals = self.prior_grads = self.law_grads = 0
        return out


class NumbaEnergy(torch.autograd.Function):
    """``E(u)`` of a :class:`LaneEnergy` for ``u (..., d)``: forward calls the Numba energy
    (float64) for each row, backward returns ``grad_output`` times its gradient."""

    @staticmethod
    def forward(ctx: Any, u: torch.Tensor, lane_energy: LaneEnergy) -> torch.Tensor:
        """The energy of each row of ``u``, in ``u``'s dtype."""
        flat = u.detach().to(torch.float64).reshape(-1, u.shape[-1]).numpy()
        e, g = lane_energy(np.ascontiguousarray(flat))
        ctx.lane_energy = lane_energy
        ctx.save_for_backward(torch.from_numpy(g).to(u.dtype).reshape(u.shape))
        return torch.from_numpy(e).to(u.dtype).reshape(u.shape[:-1])

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        """``grad_output * dE/du`` (the gradient was computed with the energy)."""
        (g,) = ctx.saved_tensors
        ctx.lane_energy.counted_grads(int(g[..., 0].numel()))
        return grad_output.unsqueeze(-1) * g, None


class PotentialModel:
    """The pyro model of a potential: a masked base site ``u`` over ``R^d`` and
    ``pyro.factor("energy", -E(u))`` with ``E`` the current :class:`LaneEnergy`."""

    def __init__(self, dim: int, lane_energy: LaneEnergy) -> None:
        """A model over ``R^dim`` whose potential is ``lane_energy`` (rebound per lane)."""
        self.dim = dim
        self.lane_energy = lane_energy

    def __call__(self) -> None:
        """Run the model (no arguments: the data are in the bound energy)."""
        zero = torch.zeros(self.dim, dtype=torch.float64)
        u = pyro.sample(SITE, dist.Normal(zero, 1.0).to_event(1).mask(False))
        pyro.factor("energy", -NumbaEnergy.apply(u, self.lane_energy))


def iaf_float64(dim: int) -> Any:
    """The flow guide's transform: one affine autoregressive flow (an IAF, as
    :class:`~pyro.infer.autoguide.AutoIAFNormal` builds it) in float64."""
    return affine_autoregressive(dim, hidden_dims=[3 * dim + 10]).double()


class PyroEngine(SamplerEngine):
    """What both pyro engines share: the bridged energy, the model, per-lane samples of
    ``u``, the prior at reset, seeding and op counting. Subclasses implement
    ``_infer(lane)``, which returns the lane's new samples of ``u`` (``(samples, d)``)."""

    reason = staticmethod(pyro_reason)

    def __init__(self, model: EnergyModel, num_lanes: int, settings: Any, counts: OpCounts):
        """An engine for ``num_lanes`` lanes of ``model`` (a ConfigError where it does not apply)."""
        super().__init__(model, num_lanes, settings, counts)
        self.lane_energy = LaneEnergy(self.energy, self.prior_prm, self.kernel.prm,
                                      np.asarray(self.low, dtype=np.float64), np.asarray(self.high, dtype=np.float64))
        self.pyro_model = PotentialModel(model.dim, self.lane_energy)
        #: Per lane, where its latest update started (site or parameter name -> value).
        self.started_from: list[dict[str, np.ndarray] | None] = [None] * self.num_lanes

    def reset(self, rng: np.random.Generator) -> None:
        """Every lane at the prior: ``samples`` prior draws of ``u`` each."""
        n, d = int(self.settings.samples), self.model.dim
        self.rng = rng
        self.U = [self.prior.sample_u(n, d, rng) for _ in range(self.num_lanes)]
        self.started_from = [None] * self.num_lanes

    def update(self, lanes: np.ndarray, history: History) -> None:
        """Infer each lane's posterior on all its transitions, warm-started."""
        lanes = np.asarray(lanes, dtype=np.int64)
        if not len(lanes):
            return
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for lane in lanes.tolist():
                self.lane_energy.bind(history, lane)
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(int(self.rng.integers(2**31)))
                    self.U[lane] = self._infer(lane)
        finally:
            torch.set_num_threads(threads)
        prior_evals, law_evals, prior_grads, law_grads = self.lane_energy.drain()
        # a prior term costs its MACs once, gradient included; a law term its own per evaluation and gradient
        self._count(law_evals, grads=law_grads, kernel=self.kernel, prior_macs=prior_evals * self.prior_macs,
                    updates=len(lanes))
        self.counts.energy_evals += prior_evals
        self.counts.grad_evals += prior_grads

    def _infer(self, lane: int) -> np.ndarray:
        """The lane's new samples of ``u``, its energy bound to its transitions."""
        raise NotImplementedError

    def belief(self, lane: int) -> Belief:
        """The lane's samples as ``z``, equally weighted."""
        u = self.U[lane]
        return Belief(points=self.model.to_z(u), weights=np.full(len(u), 1.0 / len(u)))


class NutsEngine(PyroEngine):
    """NUTS per lane and update, started at the last sample of the lane's previous chain
    (see the module doc)."""

    name = "nuts"

    def _infer(self, lane: int) -> np.ndarray:
        """``samples`` NUTS samples after ``warmup`` steps."""
        start = self.U[lane][-1].copy()
        self.started_from[lane] = {SITE: start}
        mcmc = MCMC(NUTS(self.pyro_model), num_samples=int(self.settings.samples),
                    warmup_steps=int(self.settings.warmup), initial_params={SITE: torch.from_numpy(start)},
                    disable_progbar=True)
        mcmc.run()
        return mcmc.get_samples()[SITE].detach().to(torch.float64).numpy().copy()


class SviEngine(PyroEngine):
    """SVI per lane, its guide and optimizer carried across updates (see the module doc)."""

    name = "svi"

    def __init__(self, model: EnergyModel, num_lanes: int, settings: Any, counts: OpCounts):
        """As :class:`PyroEngine`; a ConfigError for a guide not in :data:`GUIDES`."""
        if settings.guide not in GUIDES:
            raise ConfigError(f"energy: unknown SVI guide {settings.guide!r}; choose one of {', '.join(GUIDES)}")
        super().__init__(model, num_lanes, settings, counts)

    def reset(self, rng: np.random.Generator) -> None:
        """Every lane at the prior, with a fresh guide (see :meth:`PyroEngine.reset`); a
        mean-field guide starts at the prior draws' mean and average spread."""
        super().reset(rng)
        self.guides = [self._make_guide(u) for u in self.U]
        self.stores: list[dict[str, Any]] = [{"params": {}, "constraints": {}} for _ in range(self.num_lanes)]
        self.svis = [SVI(self.pyro_model, guide, Adam({"lr": SVI_LR}),
                         Trace_ELBO(num_particles=ELBO_PARTICLES, vectorize_particles=True,
                                    max_plate_nesting=0)) for guide in self.guides]

    def _make_guide(self, u: np.ndarray) -> Any:
        """A fresh guide for a lane whose prior draws are ``u``."""
        if self.settings.guide == "flow":
            return AutoNormalizingFlow(self.pyro_model, iaf_float64)
        start = torch.from_numpy(u.mean(axis=0))
        return AutoNormal(self.pyro_model, init_loc_fn=init_to_value(values={SITE: start}),
                          init_scale=float(u.std(axis=0).mean()))

    def guide_params(self, lane: int) -> dict[str, np.ndarray]:
        """The lane's guide parameters now (name -> constrained value); empty before the
        lane's first update."""
        with pyro.get_param_store().scope(self.stores[lane]) as state:
            return {name: pyro.param(name).detach().numpy().copy() for name in state["params"]}

    def _infer(self, lane: int) -> np.ndarray:
        """``svi_steps`` Adam steps from the lane's guide, then ``samples`` guide draws."""
        self.started_from[lane] = self.guide_params(lane)
        guide, svi = self.guides[lane], self.svis[lane]
        with pyro.get_param_store().scope(self.stores[lane]):
            for _ in range(int(self.settings.svi_steps)):
                svi.step()
            # the draws in one vectorized call: a plate over them (the model has no plates of its own)
            with torch.no_grad(), pyro.plate("draws", int(self.settings.samples), dim=-1):
                draws = guide()[SITE]
        return draws.to(torch.float64).numpy().copy()
