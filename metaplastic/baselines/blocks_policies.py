"""The oracle of Blocks: it knows the goal and plays a shortest plan (breadth-first search).

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("blocks")
    >>> r = metaplastic.evaluate("oracle", tasks, n_tasks=20, seed=0)
    >>> best = [1 + 0.02 - 0.02 * tasks.optimal_steps(t) for t in tasks.sample(20, seed=0, split="test")]
    >>> bool(np.allclose(r.returns, np.array(best)[:, None]))
    True
"""

from __future__ import annotations

import numpy as np

from metaplastic.baselines.base import VectorPolicy
from metaplastic.core import Task
from metaplastic.tasks.blocks import ABSENT, below_of, optimal_move


class OracleBlocksPolicy(VectorPolicy):
    """Knows the goal (privileged): reads the state off the observation's ``on`` facts and
    takes the first move of a shortest plan to the goal (breadth-first search over the
    states of the task's blocks, plans cached per state). An episode of a task whose
    shortest plan is ``k`` moves returns ``1 - 0.02 (k - 1)``.

    Example:
        >>> import metaplastic
        >>> from metaplastic.core import Task
        >>> tasks = metaplastic.make_tasks("blocks")
        >>> task = Task("blocks", {"task": "unstack", "goal": None, "columns": ((0, 1, 2, 3),),
        ...                        "variant": "random"}, seed=1)
        >>> agent = metaplastic.make("oracle").agent(tasks)
        >>> agent.reset(seed=0)
        >>> agent.reveal_task(task)
        >>> env = tasks.make_env(task)
        >>> obs, _ = env.reset(seed=0)
        >>> rewards = []
        >>> for _ in range(3):
        ...     obs, r, term, _, _ = env.step(agent.act(obs))
        ...     rewards.append(r)
        >>> rewards, term
        ([-0.02, -0.02, 1.0], True)
    """

    privileged = True

    def _reveal(self, tasks: list[Task]) -> None:
        self.kind: list[str] = [""] * self.num_lanes
        self.goal: list[tuple[int, int] | None] = [None] * self.num_lanes
        self.n: list[int] = [0] * self.num_lanes
        self._reveal_lanes(np.arange(self.num_lanes), tasks)

    def _reveal_lanes(self, lanes: np.ndarray, tasks: list[Task]) -> None:
        for lane, rule, task in zip(lanes, self.tasks.rules(tasks), tasks):
            self.kind[int(lane)] = rule["task"]
            self.goal[int(lane)] = None if task.params["goal"] is None else tuple(int(g) for g in task.params["goal"])
            self.n[int(lane)] = sum(len(c) for c in task.params["columns"])

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        below = below_of(self.tasks, obs.reshape(self.num_lanes, -1))
        m = self.tasks.max_blocks
        actions = np.zeros(self.num_lanes, dtype=np.int64)
        for lane in np.flatnonzero(active):
            n = self.n[lane]
            row = below[lane]
            if (row[:n] == ABSENT).any() or (row[n:] != ABSENT).any():
                continue  # not this task's world (an inactive lane's leftover): any action
            move = optimal_move(self.kind[lane], self.goal[lane], tuple(int(b) for b in row[:n]))
            if move is not None:
                x, y = move
                actions[lane] = x * (m + 1) + (y if y >= 0 else m)
        return actions
