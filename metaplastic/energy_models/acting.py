"""Acting rules: which latent value the family's oracle is shown, per lane, when a lane
draws (at each episode's start, or every ``resample_every`` steps).

* ``posterior-sampling`` (the default): a posterior draw. An oracle shown a draw is
  Thompson sampling on bandits and PSRL on MDPs.
* ``posterior-mean``: the posterior mean (certainty equivalence; for enumerated values,
  the most probable one).
* ``bayes-ucb``: for per-action coordinates (bandit arms), each coordinate's posterior
  quantile ``1 - 1/(t + 1)`` at the lane's ``t``-th draw (Kaufmann, Cappé & Garivier 2012,
  Bayes-UCB); the oracle then pulls the arm with the highest quantile.

Example:
    >>> sorted(ACTING)
    ['bayes-ucb', 'posterior-mean', 'posterior-sampling']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from metaplastic.energy_models.diagnostics import probs_on_values
from metaplastic.energy_models.model import EnergyModel
from metaplastic.errors import ConfigError
from metaplastic.tasks.latent import BoxSpace, EnumeratedSpace


def _sample(engine: Any, lanes: np.ndarray, draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return engine.sample(lanes, rng)


def _mean(engine: Any, lanes: np.ndarray, draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    space = engine.model.latent.space
    if isinstance(space, EnumeratedSpace):  # the most probable value (particles and samples counted at their nearest value)
        values = space.array()
        return np.stack([values[np.argmax(probs_on_values(engine.belief(int(lane)), values))] for lane in lanes])
    return engine.mean(lanes)


def _bayes_ucb(engine: Any, lanes: np.ndarray, draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return engine.quantile(lanes, 1.0 - 1.0 / (np.asarray(draws, dtype=np.float64) + 2.0))


def _per_action_only(model: EnergyModel) -> str | None:
    space = model.latent.space
    if isinstance(space, BoxSpace) and space.per_action:
        return None
    return "acting=bayes-ucb needs per-action coordinates (bandit arms); use posterior-sampling or posterior-mean"


@dataclass(frozen=True)
class ActingRule:
    """``choose(engine, lanes, draws, rng) -> z (len(lanes), d)``; ``draws[i]``: how many
    times lane ``lanes[i]`` drew before in this trial. ``reason(model)``: why the rule does
    not apply (``None`` if it does)."""

    choose: Callable[..., np.ndarray]
    reason: Callable[[EnergyModel], str | None] = lambda model: None


ACTING: Mapping[str, ActingRule] = {
    "posterior-sampling": ActingRule(_sample),
    "posterior-mean": ActingRule(_mean),
    "bayes-ucb": ActingRule(_bayes_ucb, _per_action_only),
}


def acting_rule(name: str, model: EnergyModel) -> ActingRule:
    """The rule ``name`` (one-line ConfigError when unknown or not applicable)."""
    if name not in ACTING:
        raise ConfigError(f"energy: unknown acting rule {name!r}; choose one of {', '.join(ACTING)}")
    why = ACTING[name].reason(model)
    if why:
        raise ConfigError(f"energy: {why}")
    return ACTING[name]
