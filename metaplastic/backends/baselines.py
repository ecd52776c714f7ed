"""The reference backends: classical baselines every learner is measured against.

Each backend name serves the task families listed in its ``implementations`` (family ->
``"module:VectorPolicy"``, imported when first used); on any other family it says so
through ``capabilities.families`` and a one-line error. All are vectorized: evaluation
runs them over a family's batched env.

Example:
    >>> import metaplastic
    >>> metaplastic.make("thompson").capabilities.families
    ('bandits',)
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar, Mapping

from metaplastic.backends.base import SEED_PARAM, VectorBackedLearner
from metaplastic.baselines.oracles import ORACLES
from metaplastic.core import Capabilities, TaskDistribution
from metaplastic.errors import ConfigError
from metaplastic.params import Param

_B = "metaplastic.baselines."
#: The key of ``implementations`` that serves every task family.
ANY_FAMILY = "*"


class BaselineLearner(VectorBackedLearner):
    """A reference backend: dispatches to the family's :class:`VectorPolicy` (no training)."""

    implementations: ClassVar[Mapping[str, str]] = {}
    privileged: ClassVar[bool] = False
    params: ClassVar[tuple[Param, ...]] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        families = () if ANY_FAMILY in cls.implementations else tuple(cls.implementations)
        cls.capabilities = Capabilities(families=families, privileged=cls.privileged)
        cls.config_params = (SEED_PARAM, *cls.params)

    def policy_class(self, tasks: TaskDistribution) -> type:
        family = tasks.name
        if ANY_FAMILY in self.implementations:
            family = ANY_FAMILY
        elif family not in self.implementations:
            raise ConfigError(
                f"backend {self.name!r} does not apply to task family {family!r}; it applies to {', '.join(self.implementations)}"
            )
        module, _, attr = self.implementations[family].partition(":")
        return getattr(importlib.import_module(module), attr)

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> Any:
        """``num_lanes`` agents stepped together (see :class:`~metaplastic.core.VectorAgent`)."""
        return self.policy_class(tasks)(tasks, num_lanes, self.config)


_EPSILON = Param("epsilon", float, 0.05, "probability of a uniformly random action", low=0.0, high=1.0)
_TIES = Param("ties", str, "first", "bandits: ties between equal arms go to the lowest index (first, as RL² Table 1) "
              "or a random one (random)", choices=("first", "random"))


class Greedy(BaselineLearner):
    """Greedy on posterior means: Beta(1,1) pseudo-counts (bandits), the mean MDP (mdp)."""

    name = "greedy"
    params = (_TIES,)
    implementations = {"bandits": _B + "bandit_index:GreedyPolicy", "mdp": _B + "mdp_planners:GreedyMDPPolicy"}


class EpsGreedy(BaselineLearner):
    """Greedy, but a uniformly random action with probability epsilon."""

    name = "eps-greedy"
    params = (_EPSILON, _TIES)
    implementations = {"bandits": _B + "bandit_index:EpsGreedyPolicy", "mdp": _B + "mdp_planners:EpsGreedyMDPPolicy"}


class UCB1(BaselineLearner):
    """UCB1 on Beta(1,1) pseudo-counts: mean + c * sqrt(2 ln t / n_i)."""

    name = "ucb1"
    params = (Param("c", float, 0.2, "exploration coefficient (RL² tuned c≈0.2)", low=0.0), _TIES)
    implementations = {"bandits": _B + "bandit_index:UCB1Policy"}


class Thompson(BaselineLearner):
    """Thompson sampling from the Beta posterior of each arm."""

    name = "thompson"
    implementations = {"bandits": _B + "bandit_index:ThompsonPolicy"}


class Gittins(BaselineLearner):
    """Gittins index policy, the index computed by calibration and cached on disk."""

    name = "gittins"
    params = (Param("discount", float, 0.98, "discount of the Gittins index", low=0.0, high=0.995, low_exclusive=True), _TIES)
    implementations = {"bandits": _B + "bandit_index:GittinsPolicy"}


class BayesOptimal(BaselineLearner):
    """Exact Bayes-optimal play: dynamic programming over posteriors (bandits, small
    horizons) or over the belief of goals (gridnavi)."""

    name = "bayes-optimal"
    implementations = {"bandits": _B + "bandit_bayes:BayesOptimalBanditPolicy",
                       "gridnavi": _B + "gridnavi_policies:BayesGridNaviPolicy"}


class PSRL(BaselineLearner):
    """Posterior sampling for RL: one MDP drawn from the posterior per episode, then planned."""

    name = "psrl"
    implementations = {"mdp": _B + "mdp_planners:PSRLPolicy"}


class Oracle(BaselineLearner):
    """Plays optimally with the task's hidden parameters: a ceiling, not a learner."""

    name = "oracle"
    privileged = True
    implementations = ORACLES
