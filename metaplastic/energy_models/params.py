"""The config keys of energy-based task inference, declared once (torch-free: ``metaplastic
backends`` lists them without importing an engine).

Example:
    >>> [p.name for p in ENERGY_PARAMS][:3]
    ['algo', 'engine', 'acting']
"""

from __future__ import annotations

from metaplastic.params import Param

ENERGY_PARAMS = (
    Param("algo", str, "posterior-sampling", "meta-training algorithm: fit the prior to the training tasks, "
          "act by inference", choices=("posterior-sampling",)),
    Param("engine", str, "auto", "inference engine: auto (exact where the latent allows, else langevin), exact, "
          "langevin (Numba, torch-free), nuts, svi (pyro; extra 'pyro')",
          choices=("auto", "exact", "langevin", "nuts", "svi")),
    Param("acting", str, "posterior-sampling", "acting rule: posterior-sampling, posterior-mean, bayes-ucb (arms)",
          choices=("posterior-sampling", "posterior-mean", "bayes-ucb")),
    Param("resample_every", int, 0, "steps between posterior draws (0: one draw per episode)", low=0, high=1_000_000),
    Param("prior_tasks", int, 4096, "training tasks whose hidden parameters the prior is fitted to", low=2,
          high=1_000_000),
    Param("components", int, 8, "Gaussian components of a box latent's mixture prior", low=1, high=256),
    Param("floor", float, 1e-3, "prior mass spread uniformly over an enumerated latent's values (never-seen values "
          "stay possible)", low=0.0, high=1.0),
    Param("noise", float, 0.0, "standard deviation tempering a deterministic outcome (0: the law's default, 0.01 "
          "for nav2d's reward, 0.001 for cart-pole's velocities)", low=0.0, high=1e3),
    Param("relax", float, 0.25, "width of gridnavi's relaxed goal hit, in cells (samplers only)", low=0.0,
          low_exclusive=True, high=100.0),
    Param("grid", int, 64, "exact: grid points per side, or quadrature nodes per arm", low=2, high=4096),
    Param("particles", int, 256, "langevin: particles per lane", low=2, high=1_000_000),
    Param("moves", int, 2, "langevin: MALA moves after each resampling of the particles", low=0, high=1000),
    Param("step", float, 0.5, "langevin: initial MALA step, in units of the particles' spread", low=0.0,
          low_exclusive=True, high=10.0),
    Param("guide", str, "mean-field", "svi: guide (mean-field or flow)", choices=("mean-field", "flow")),
    Param("svi_steps", int, 50, "svi: optimizer steps per posterior update", low=1, high=100_000),
    Param("samples", int, 64, "nuts/svi: posterior samples kept per update", low=1, high=100_000),
    Param("warmup", int, 64, "nuts: warm-up steps per update", low=0, high=100_000),
)
#: The keys the engines read (:class:`~metaplastic.energy_models.engines.base.InferenceSettings`).
SETTINGS_KEYS = ("grid", "particles", "moves", "step", "guide", "svi_steps", "samples", "warmup")
