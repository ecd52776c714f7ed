"""``VectorPolicy``: the base of every reference policy, one object driving ``B`` lanes.

A subclass implements ``_reset`` (clear per-lane state), ``_act(obs, active)`` and,
optionally, ``_observe`` and ``_end_episode``; it declares its config keys in
``params`` (merged by the backend adapter) and reads them from ``self.config``.
Randomness comes from ``self.rng``, seeded from all lane seeds (one lane: from its own
seed alone). A privileged policy (an oracle) reads tasks given to ``reveal_tasks``.

Example:
    >>> import metaplastic, numpy as np
    >>> tasks = metaplastic.make_tasks("bandits:k=3,n=4")
    >>> pol = metaplastic.make("random")  # any backend; VectorPolicy subclasses live beside this file
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from metaplastic.core import OpCounts, Task, TaskDistribution
from metaplastic.errors import MetaplasticError
from metaplastic.params import Param
from metaplastic.runtime.sampling import lanes_rng


class VectorPolicy:
    """Base class of reference policies (a :class:`~metaplastic.core.VectorAgent`)."""

    params: ClassVar[tuple[Param, ...]] = ()
    privileged: ClassVar[bool] = False

    def __init__(self, tasks: TaskDistribution, num_lanes: int, config: dict[str, Any]):
        self.tasks = tasks
        self.num_lanes = int(num_lanes)
        self.config = dict(config)
        self.counts = OpCounts()
        self.rng = np.random.default_rng()
        self.revealed: list[Task] | None = None

    def reset(self, seeds: Any) -> None:
        self.rng = lanes_rng(seeds, self.num_lanes)
        self.counts = OpCounts()
        self.revealed = None
        self._reset()

    def reveal_tasks(self, tasks: Sequence[Task]) -> None:
        """Give a privileged policy the tasks its lanes play (hidden parameters included)."""
        if len(tasks) != self.num_lanes:
            raise ValueError(f"reveal_tasks needs {self.num_lanes} tasks, got {len(tasks)}")
        self.revealed = list(tasks)
        self._reveal(self.revealed)

    def reveal_lanes(self, lanes: Any, tasks: Sequence[Task]) -> None:
        """Show the lanes ``lanes`` new tasks, the other lanes keeping theirs (after a first
        :meth:`reveal_tasks`). A policy shown tasks drawn from a posterior (rather than the
        true ones) is posterior sampling; this lets each lane redraw on its own schedule.

        Example:
            >>> import metaplastic, numpy as np
            >>> from metaplastic.baselines.nav2d_policies import OracleNav2DPolicy
            >>> tasks = metaplastic.make_tasks("nav2d")
            >>> pol = OracleNav2DPolicy(tasks, 2, {})
            >>> pol.reset([0, 1])
            >>> pol.reveal_tasks(tasks.latent_tasks(np.array([[0.9, 0.5], [0.1, 0.5]])))
            >>> pol.reveal_lanes([1], tasks.latent_tasks(np.array([[0.5, 0.9]])))
            >>> pol.act(np.full((2, 2), 0.5), np.ones(2, bool)).astype(float).round(2).tolist()
            [[0.1, 0.0], [0.0, 0.1]]
        """
        if self.revealed is None:
            raise MetaplasticError(f"{type(self).__name__}: call reveal_tasks(tasks) for every lane before reveal_lanes")
        lanes = np.asarray(lanes, dtype=np.int64).reshape(-1)
        tasks = list(tasks)
        if len(tasks) != len(lanes):
            raise ValueError(f"reveal_lanes needs one task per lane: {len(lanes)} lanes, {len(tasks)} tasks")
        for lane, task in zip(lanes, tasks):
            self.revealed[int(lane)] = task
        self._reveal_lanes(lanes, tasks)

    def act(self, obs: Any, active: Any) -> np.ndarray:
        if self.privileged and self.revealed is None:
            raise MetaplasticError(f"{type(self).__name__} is an oracle: call reveal_tasks(tasks) after reset")
        active = np.asarray(active, dtype=bool)
        self.counts.decisions += int(active.sum())
        return self._act(np.asarray(obs), active)

    def observe(self, obs: Any, actions: Any, rewards: Any, next_obs: Any, terminated: Any, truncated: Any,
                active: Any) -> None:
        self._observe(np.asarray(obs), np.asarray(actions), np.asarray(rewards, dtype=np.float64), np.asarray(next_obs),
                      np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool), np.asarray(active, dtype=bool))

    def end_episode(self, mask: Any) -> None:
        self._end_episode(np.asarray(mask, dtype=bool))

    def ops(self) -> OpCounts:
        return OpCounts(**self.counts.as_dict())

    # -- to implement ---------------------------------------------------------------------
    def _reset(self) -> None:
        pass

    def _reveal(self, tasks: list[Task]) -> None:
        pass

    def _reveal_lanes(self, lanes: np.ndarray, tasks: list[Task]) -> None:
        """Update the lanes ``lanes`` to ``tasks`` (default: everything again, from ``self.revealed``)."""
        self._reveal(self.revealed)

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _observe(self, obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        pass

    def _end_episode(self, mask: np.ndarray) -> None:
        pass


def argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax of a ``(B, n)`` array, ties broken uniformly at random."""
    noise = rng.random(values.shape)
    best = values >= values.max(axis=1, keepdims=True) - 1e-12
    return np.argmax(np.where(best, noise, -1.0), axis=1)
