"""The transitions each lane has seen in its current trial: the context of its energy."""

from __future__ import annotations

import numpy as np


def _flat(space_dim: int, values: np.ndarray, lanes: int) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(lanes, space_dim)


class History:
    """Per-lane arrays of observations, actions, rewards and next observations (float64),
    grown by doubling; ``count[lane]`` transitions are valid.

    Example:
        >>> import numpy as np
        >>> h = History(num_lanes=2, obs_dim=1, act_dim=1, capacity=1)
        >>> for _ in range(3):
        ...     h.append(np.array([1]), np.zeros((1, 1)), np.ones((1, 1)), np.array([1.0]), np.zeros((1, 1)))
        >>> h.count.tolist(), h.rew[1, :3].tolist()
        ([0, 3], [1.0, 1.0, 1.0])
    """

    def __init__(self, num_lanes: int, obs_dim: int, act_dim: int, capacity: int = 64):
        self.num_lanes, self.obs_dim, self.act_dim = int(num_lanes), int(obs_dim), int(act_dim)
        self._alloc(max(int(capacity), 1))
        self.count = np.zeros(self.num_lanes, dtype=np.int64)

    def _alloc(self, capacity: int) -> None:
        b = self.num_lanes
        self.obs = np.zeros((b, capacity, self.obs_dim))
        self.act = np.zeros((b, capacity, self.act_dim))
        self.rew = np.zeros((b, capacity))
        self.nxt = np.zeros((b, capacity, self.obs_dim))

    @property
    def capacity(self) -> int:
        return self.rew.shape[1]

    def reset(self) -> None:
        self.count[:] = 0

    def append(self, lanes: np.ndarray, obs: np.ndarray, act: np.ndarray, rew: np.ndarray, nxt: np.ndarray) -> None:
        """Add one transition to each of ``lanes`` (the other arrays have one row per lane in ``lanes``)."""
        n = len(lanes)
        if n == 0:
            return
        if self.count[lanes].max() >= self.capacity:
            old = (self.obs, self.act, self.rew, self.nxt)
            self._alloc(2 * self.capacity)
            for new, arr in zip((self.obs, self.act, self.rew, self.nxt), old):
                new[:, :arr.shape[1]] = arr
        t = self.count[lanes]
        self.obs[lanes, t] = _flat(self.obs_dim, obs, n)
        self.act[lanes, t] = _flat(self.act_dim, act, n)
        self.rew[lanes, t] = np.asarray(rew, dtype=np.float64).reshape(n)
        self.nxt[lanes, t] = _flat(self.obs_dim, nxt, n)
        self.count[lanes] += 1
