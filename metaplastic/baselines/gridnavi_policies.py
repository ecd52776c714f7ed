"""Reference policies for GridNavi: the exact goal belief, and the oracle that knows the goal.

Both walk shortest grid paths (Manhattan distance, no obstacles) with :func:`step_toward`,
choosing at random among the moves that shorten the path.

Example:
    >>> import metaplastic
    >>> r = metaplastic.evaluate("oracle", "gridnavi", n_tasks=20, seed=0)
    >>> bool(r.returns.min() > 0)
    True
"""

from __future__ import annotations

import numpy as np

from metaplastic.baselines.base import VectorPolicy, argmax_random_ties
from metaplastic.core import Task
from metaplastic.tasks.gridnavi import MOVES, move

_ACTIONS = np.arange(len(MOVES))
_RULED_OUT = -1e9


def step_toward(pos: np.ndarray, target: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """For each lane, an action on a shortest path from ``pos`` to ``target`` (both
    ``(B, 2)``); ties between such moves are broken at random, and on the target the
    action is 0 (stay).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> step_toward(np.array([[0, 0], [2, 2]]), np.array([[0, 3], [2, 2]]), 5, rng).tolist()
        [1, 0]
    """
    dist = np.abs(move(pos[:, None, :], _ACTIONS, size) - target[:, None, :]).sum(axis=-1)  # (B, actions)
    return argmax_random_ties(-(2 * dist + (_ACTIONS != 0)), rng)  # staying wins a tie in distance


def positions(obs: np.ndarray) -> np.ndarray:
    """Integer cells ``(B, 2)`` from float observations."""
    return np.rint(obs).astype(np.int64)


class OracleGridNaviPolicy(VectorPolicy):
    """Knows the goal (privileged): walks a shortest path to it, then stays on it.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("gridnavi")
        >>> agent = metaplastic.make("oracle").agent(tasks)
        >>> agent.reset(seed=0)
        >>> agent.reveal_task(metaplastic.core.Task("gridnavi", {"goal": (0, 3)}, seed=1))
        >>> agent.act([0.0, 0.0])
        1
    """

    privileged = True

    def _reveal(self, tasks: list[Task]) -> None:
        self.goal = self.tasks.goals(tasks)

    def _reveal_lanes(self, lanes: np.ndarray, tasks: list[Task]) -> None:
        self.goal[lanes] = self.tasks.goals(tasks)

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        return step_toward(positions(obs), self.goal, self.tasks.size, self.rng)


class BayesGridNaviPolicy(VectorPolicy):
    """The exact belief over goals, acted on greedily.

    Under the training prior the goal is uniform over the candidate cells; a visited cell
    that paid -0.1 is ruled out, and a cell that paid +1 is the goal. All candidates left
    are equally likely, so the policy walks toward the nearest one (ties at random) and,
    once the goal is known, to the goal, where it stays, in this and later episodes. If
    every candidate of the prior has been ruled out (possible only off the prior, e.g. on
    the ``ood`` split), the cells not yet visited become the candidates.

    This is exact inference with a nearest-candidate search: a sound reference, though a
    full plan over beliefs could order the search a little better.

    Example:
        >>> import metaplastic
        >>> r = metaplastic.evaluate("bayes-optimal", "gridnavi", n_tasks=20, seed=0)
        >>> r.returns.shape
        (20, 4)
    """

    def _reset(self) -> None:
        size = self.tasks.size
        self.cells = np.indices((size, size)).reshape(2, -1).T  # cell c is (x, y) = cells[c]
        prior = np.zeros(size * size, dtype=bool)
        prior[self._index(self.tasks.goal_cells("train"))] = True
        self.weight = np.where(prior, 2 * size, 0)  # above any distance: prior cells come first
        self.ruled_out = np.zeros((self.num_lanes, size * size), dtype=bool)
        self.ruled_out[:, 0] = True  # the start (0, 0) is never the goal

    def _index(self, cells: np.ndarray) -> np.ndarray:
        return cells[..., 0] * self.tasks.size + cells[..., 1]

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        pos = positions(obs)
        dist = np.abs(self.cells[None, :, :] - pos[:, None, :]).sum(axis=-1)  # (B, cells)
        score = np.where(self.ruled_out, _RULED_OUT, self.weight - dist)
        target = self.cells[argmax_random_ties(score, self.rng)]
        return step_toward(pos, target, self.tasks.size, self.rng)

    def _observe(self, obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        cell = self._index(positions(next_obs))
        found = active & (rewards > 0)
        missed = active & ~found
        self.ruled_out[found] = np.arange(self.ruled_out.shape[1]) != cell[found, None]
        self.ruled_out[np.flatnonzero(missed), cell[missed]] = True
