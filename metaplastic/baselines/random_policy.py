"""Uniform random actions over any action space, for many lanes at once.

Example:
    >>> import metaplastic
    >>> r = metaplastic.evaluate("random", "bandits:k=5,n=10", n_tasks=100, seed=0)
    >>> 4.0 < r.return_mean < 6.0
    True
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from metaplastic.baselines.base import VectorPolicy


class RandomPolicy(VectorPolicy):
    """Samples the action space uniformly in every lane (Discrete and Box in numpy; any
    other space through its own ``sample``, seeded from this policy's generator)."""

    def _reset(self) -> None:
        space = self.tasks.action_space
        if not isinstance(space, (spaces.Discrete, spaces.Box)):
            import copy

            self._space = copy.deepcopy(space)
            self._space.seed(int(self.rng.integers(2**63 - 1)))

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        space, n = self.tasks.action_space, self.num_lanes
        if isinstance(space, spaces.Discrete):
            return space.start + self.rng.integers(0, space.n, size=n)
        if isinstance(space, spaces.Box):
            return self.rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(space.dtype)
        return np.array([self._space.sample() for _ in range(n)])
