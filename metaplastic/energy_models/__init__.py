"""Energy-based task inference: a meta-learned energy over a task family's hidden
parameters ``z``, inferred online from the transitions of the current trial, and acted on by
posterior sampling.

    E(z; context) = -log p(z) - Σ_t log p(r_t, s_t+1 | s_t, a_t, z)

* :mod:`~metaplastic.energy_models.priors`: the prior ``p(z)``, fitted to the training
  tasks' hidden parameters (meta-training reads these labels; agents never do).
* :mod:`~metaplastic.energy_models.laws`: the likelihood, the family's declared transition
  law (:mod:`metaplastic.tasks.latent`) as Numba kernels, tempered by Gaussian noise where
  the law is deterministic.
* :mod:`~metaplastic.energy_models.energy`: the two combined in the sampler's unconstrained
  coordinates.
* :mod:`~metaplastic.energy_models.engines`: inference engines behind one interface
  (``exact``, ``langevin``, ``nuts``, ``svi``), each warm-started by the previous posterior.
* :mod:`~metaplastic.energy_models.agent`: the agent that shows the family's oracle a
  posterior draw (posterior sampling) or another acting rule.

The package knows no registry; :mod:`metaplastic.backends.energy` is its adapter. Nothing
here imports torch except the pyro engines.
"""
