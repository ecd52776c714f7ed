"""How a task family declares its hidden parameters ``z`` (an addition to the task-family
contract, :class:`metaplastic.core.LatentFamily`): the space ``z`` lives in, and the
family's transition law given ``z`` where it is known in closed form.

Both are frozen dataclasses (data, not strings): task inference dispatches on their types.
A family that does not declare a latent is not inferable; a backend that needs one says so
with a one-line error.

Example:
    >>> import metaplastic
    >>> lat = metaplastic.make_tasks("gridnavi").latent()
    >>> lat.names, lat.dim, type(lat.space).__name__, type(lat.law).__name__
    (('goal_x', 'goal_y'), 2, 'EnumeratedSpace', 'GoalCell')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Union

import numpy as np


# -- spaces -------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class BoxSpace:
    """``z`` is a real vector in the box ``[low, high]`` (every split's values inside).

    ``per_action``: coordinate ``i`` of ``z`` governs action ``i`` alone (a bandit's arms),
    so the posterior factorizes over coordinates.
    """

    low: tuple[float, ...]
    high: tuple[float, ...]
    per_action: bool = False

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.low, dtype=np.float64), np.asarray(self.high, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class EnumeratedSpace:
    """``z`` is one of finitely many ``values`` (rows), e.g. the cells of a grid.

    Example:
        >>> EnumeratedSpace(values=((0, 1), (1, 0))).array().shape
        (2, 2)
    """

    values: tuple[tuple[float, ...], ...]

    def array(self) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class TabularSpace:
    """``z`` is a tabular MDP: mean rewards ``R (S, A)`` then next-state probabilities
    ``P (S, A, S)``, flattened in that order (dimension ``S·A + S²·A``)."""

    n_states: int
    n_actions: int


LatentSpace = Union[BoxSpace, EnumeratedSpace, TabularSpace]


# -- transition laws given z (closed forms a family declares) --------------------------------
@dataclass(frozen=True)
class BernoulliArms:
    """Bandits: pulling arm ``a`` pays 1 with probability ``z[a]``, else 0."""

    deterministic: ClassVar[bool] = False


@dataclass(frozen=True)
class GoalCell:
    """Grid navigation: after a step, the reward is ``goal_reward`` if the new cell
    (``next_obs``) is the goal ``z``, else ``step_reward``. Deterministic given ``z``."""

    goal_reward: float
    step_reward: float
    deterministic: ClassVar[bool] = True


@dataclass(frozen=True)
class SquaredDistance:
    """Point navigation: the reward is ``-|next_obs - z|²``. Deterministic given ``z``."""

    deterministic: ClassVar[bool] = True


@dataclass(frozen=True)
class CartPoleLaw:
    """gymnasium's cart-pole Euler step with ``z = (length, masspole, masscart)`` and the
    shared ``gravity``, ``tau``, ``force_mag``: ``next_obs`` follows from ``obs`` and the
    push. Deterministic given ``z``."""

    gravity: float
    tau: float
    force_mag: float
    deterministic: ClassVar[bool] = True


@dataclass(frozen=True)
class TabularLaw:
    """Tabular MDPs: the reward of ``(s, a)`` is ``R[s, a]`` plus Gaussian noise of
    ``noise_std``; the next state is drawn from ``P[s, a]``."""

    noise_std: float
    deterministic: ClassVar[bool] = False


TransitionLaw = Union[BernoulliArms, GoalCell, SquaredDistance, CartPoleLaw, TabularLaw]


@dataclass(frozen=True, eq=False)
class Latent:
    """What a family declares of its hidden parameters: the coordinate ``names``, the
    ``space`` of ``z`` and the transition ``law`` given ``z`` (``None`` when the family has
    no closed form: a likelihood must then be learned)."""

    names: tuple[str, ...]
    space: LatentSpace
    law: Any = None

    @property
    def dim(self) -> int:
        if isinstance(self.space, TabularSpace):
            s, a = self.space.n_states, self.space.n_actions
            return s * a + s * s * a
        return len(self.names)
