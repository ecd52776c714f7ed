"""The oracle of 2-D navigation: it knows the goal and heads straight for it.

Example:
    >>> import metaplastic
    >>> r = metaplastic.evaluate("oracle", "nav2d", n_tasks=10, seed=0)
    >>> bool((r.returns > -1.0).all())
    True
"""

from __future__ import annotations

import numpy as np

from metaplastic.baselines.base import VectorPolicy
from metaplastic.core import Task
from metaplastic.tasks.nav2d import MAX_ACTION


class OracleNav2DPolicy(VectorPolicy):
    """Knows the goal (privileged): action = clip(goal - position, -0.1, 0.1).

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("nav2d")
        >>> agent = metaplastic.make("oracle").agent(tasks)
        >>> agent.reset(seed=0)
        >>> agent.reveal_task(metaplastic.core.Task("nav2d", {"goal": (0.9, 0.55)}, seed=1))
        >>> [round(float(a), 3) for a in agent.act([0.5, 0.5])]
        [0.1, 0.05]
    """

    privileged = True

    def _reveal(self, tasks: list[Task]) -> None:
        self.goal = self.tasks.goals(tasks)

    def _reveal_lanes(self, lanes: np.ndarray, tasks: list[Task]) -> None:
        self.goal[lanes] = self.tasks.goals(tasks)

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        return np.clip(self.goal - obs, -MAX_ACTION, MAX_ACTION).astype(np.float32)
