"""The ``energy`` backend: energy-based task inference, acted on by posterior sampling
(algorithm ``posterior-sampling``). The substance is :mod:`metaplastic.energy_models`.

Meta-training fits the prior over the family's hidden parameters to ``prior_tasks``
training tasks' labels (it reads their hidden parameters: that is what the outer loop
learns from; agents never see them). The likelihood is the family's declared closed-form
law, tempered by ``noise`` (and ``relax`` for gridnavi's relaxed goal) where it is
deterministic. Agents infer the posterior online with ``engine`` (``auto``: exact where the
latent allows it, else the Numba Langevin engine; both torch-free) and act by ``acting``.

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("energy", prior_tasks=4000)
    >>> state = learner.meta_train(metaplastic.make_tasks("bandits:k=3,n=20"), budget=1, seed=0, show_progress=False)
    >>> round(learner.model.prior.a, 1)
    1.0
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from metaplastic.backends.base import SEED_PARAM, VectorBackedLearner, fitted_tasks, single_fit, train_progress
from metaplastic.core import Agent, Capabilities, LatentFamily, TaskDistribution, VectorAgent
from metaplastic.energy_models.params import ENERGY_PARAMS, SETTINGS_KEYS
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runs.rundir import Checkpoint, RunDir

#: The task families whose latents and oracles the backend knows (others: a one-line error).
FAMILIES = ("bandits", "mdp", "gridnavi", "nav2d", "cartpole-dyn")



class EnergyLearner(VectorBackedLearner):
    """Energy-based task inference with a meta-learned prior; posterior-sampling agents."""

    name = "energy"
    capabilities = Capabilities(meta_train=True, algorithms=("posterior-sampling",), families=FAMILIES)
    config_params = (SEED_PARAM, *ENERGY_PARAMS)

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.model: Any = None
        self.tasks_spec: str | None = None

    # -- the model ---------------------------------------------------------------------------
    def _latent_family(self, tasks: TaskDistribution) -> Any:
        if not isinstance(tasks, LatentFamily) or tasks.name not in FAMILIES:
            raise ConfigError(f"backend energy does not apply to task family {tasks.name!r}: it declares no latent "
                              f"space it can infer; it applies to {', '.join(FAMILIES)}")
        return tasks

    def ensure_model(self, tasks: TaskDistribution) -> Any:
        """The fitted model (an uninformative prior before meta-training)."""
        from metaplastic.energy_models.model import default_model, mismatch
        from metaplastic.tasks.base import task_spec

        family = self._latent_family(tasks)
        if self.model is None:
            self.model = default_model(family.latent(), noise=self.config["noise"], relax=self.config["relax"])
            self.tasks_spec = task_spec(tasks)
        elif (why := mismatch(self.model, family.latent())) is not None:
            raise ConfigError(f"backend energy: this learner's prior was fitted to {self.tasks_spec!r} ({why}); "
                              f"meta-train it on {task_spec(tasks)!r}")
        return self.model

    def prepare(self, tasks: TaskDistribution) -> None:
        """Check that ``tasks`` declare a latent this backend infers, and build the agent's parts."""
        self.vector_agent(tasks, 1)

    def _settings(self) -> Any:
        from metaplastic.energy_models.engines.base import InferenceSettings

        return InferenceSettings(**{k: self.config[k] for k in SETTINGS_KEYS})

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> VectorAgent:
        from metaplastic.energy_models.agent import EnergyVectorAgent

        c = self.config
        return EnergyVectorAgent(tasks, self.ensure_model(tasks), num_lanes, engine=c["engine"], acting=c["acting"],
                                 settings=self._settings(), resample_every=c["resample_every"])

    def agent(self, tasks: TaskDistribution) -> Agent:
        """One agent; ``agent.posterior()`` is its current belief (for plotting)."""
        from metaplastic.energy_models.agent import EnergyAgent

        return EnergyAgent(self.vector_agent(tasks, 1), tasks.observation_space, tasks.action_space)

    # -- meta-training -------------------------------------------------------------------------
    def meta_train(self, tasks: TaskDistribution, *, budget: Any, seed: int,
                   callback: Callable[..., Any] | None = None, show_progress: bool = True, state: Any = None) -> Any:
        """Fit the prior to ``prior_tasks`` training tasks' hidden parameters (one update)."""
        from metaplastic.energy_models.model import fit_model
        from metaplastic.tasks.base import task_spec

        family = self._latent_family(tasks)
        start = time.perf_counter()
        c = self.config
        train = family.sample(c["prior_tasks"], seed=int(seed), split="train")
        self.model = fit_model(family, family.latent_labels(train), components=c["components"], floor=c["floor"],
                               noise=c["noise"], relax=c["relax"], rng=np.random.default_rng(int(seed)))
        self.tasks_spec = task_spec(tasks)
        return single_fit(seed, self.model, started=start, tasks_seen=len(train), callback=callback)

    # -- run directories -------------------------------------------------------------------------
    def _save_state(self, ckpt: Checkpoint) -> None:
        if self.model is not None:
            ckpt.save_npz(RunDir.ENERGY, self.model.arrays())
        ckpt.write_progress(tasks=self.tasks_spec, progress={})

    def _load_state(self, run: RunDir) -> None:
        from metaplastic.energy_models.model import model_from_arrays, model_keys

        train_progress(run)
        self.tasks_spec = run.tasks_spec()
        if not run.has(RunDir.ENERGY):
            return
        family = self._latent_family(fitted_tasks(run, "a prior"))
        latent = family.latent()
        try:
            self.model = model_from_arrays(latent, run.load_npz(RunDir.ENERGY, model_keys(latent)))
        except (ConfigError, KeyError, ValueError) as exc:
            raise RunDirError(f"{str(run.file(RunDir.ENERGY))!r} does not hold this family's prior ({exc}); the run "
                              "directory is corrupt or foreign") from None
