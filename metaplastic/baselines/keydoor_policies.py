"""The oracle of KeyDoor: it knows the rule, picks up the goal door's opener and opens it.

Example:
    >>> import metaplastic
    >>> r = metaplastic.evaluate("oracle", "keydoor", n_tasks=10, seed=0, split="ood")
    >>> sorted(set(r.returns.round(6).ravel().tolist()))
    [0.99]
"""

from __future__ import annotations

import numpy as np

from metaplastic.baselines.base import VectorPolicy
from metaplastic.core import Task


class OracleKeyDoorPolicy(VectorPolicy):
    """Knows the rule (privileged): holds the goal door's opener key, else picks it up;
    holding it, tries the goal door. Two steps per episode, a return of ``1 - 0.01``.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("keydoor")
        >>> task = metaplastic.core.Task("keydoor", {"key_colours": (0, 1, 2), "door_colours": (2, 0, 1),
        ...                                          "opener": (2, 0, 0), "goal": 2}, seed=1)
        >>> agent = metaplastic.make("oracle").agent(tasks)
        >>> agent.reset(seed=0)
        >>> agent.reveal_task(task)
        >>> env = tasks.make_env(task)
        >>> obs, _ = env.reset(seed=0)
        >>> a = agent.act(obs); obs, r, term, _, _ = env.step(a); a, r, term   # the red key
        (0, -0.01, False)
        >>> a = agent.act(obs); obs, r, term, _, _ = env.step(a); a, r, term   # the green door (slot 2)
        (6, 1.0, True)
    """

    privileged = True

    def _reveal(self, tasks: list[Task]) -> None:
        self.key = np.zeros(self.num_lanes, dtype=np.int64)
        self.colour = np.zeros(self.num_lanes, dtype=np.int64)
        self.door = np.zeros(self.num_lanes, dtype=np.int64)
        self._reveal_lanes(np.arange(self.num_lanes), tasks)

    def _reveal_lanes(self, lanes: np.ndarray, tasks: list[Task]) -> None:
        a = self.tasks.arrays(tasks)
        rows = np.arange(len(tasks))
        self.door[lanes] = a["goal"]
        self.key[lanes] = a["opener"][rows, a["goal"]]
        self.colour[lanes] = a["key_colours"][rows, self.key[lanes]]

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        holding = obs[:, self.tasks.blocks["holding"]]
        has_key = holding[np.arange(self.num_lanes), self.colour] > 0.5
        return np.where(has_key, self.tasks.key_slots + self.door, self.key)
