"""GridNavi, the grid world of VariBAD (Zintgraf et al. 2020).

The agent starts every episode in the corner ``(0, 0)`` of a ``size`` x ``size`` grid and
has ``steps`` steps to reach a hidden goal; a trial is ``n`` episodes on the same goal.
Actions: 0 stay, 1 up (y+1), 2 right (x+1), 3 down (y-1), 4 left (x-1); a move off the
grid leaves the agent in place. Reward after each step: +1 if the agent is on the goal,
-0.1 otherwise; reaching the goal does not end the episode (only the step limit does).
The observation is the agent's position ``(x, y)``. The goal is uniform over the cells
outside the start's 2x2 corner (21 cells on 5x5); the ``ood`` split puts it on one of the
start's 3 neighbours ``(0, 1), (1, 0), (1, 1)``, which never hold a goal in training.

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("gridnavi")
    >>> env = tasks.make_env(tasks.sample(1, seed=0, split="test")[0])
    >>> obs, info = env.reset(seed=0)
    >>> obs.tolist()
    [0.0, 0.0]
    >>> obs, reward, terminated, truncated, info = env.step(2)
    >>> obs.tolist(), reward
    ([1.0, 0.0], -0.1)
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from metaplastic.core import Task
from metaplastic.params import Param
from metaplastic.tasks.base import TaskFamily
from metaplastic.tasks.latent import EnumeratedSpace, GoalCell, Latent

#: Displacement ``(dx, dy)`` of each action: stay, up, right, down, left.
MOVES = np.array([[0, 0], [0, 1], [1, 0], [0, -1], [-1, 0]], dtype=np.int64)
GOAL_REWARD = 1.0
STEP_REWARD = -0.1


def move(pos: np.ndarray, actions: Any, size: int) -> np.ndarray:
    """Positions after ``actions`` (``pos`` is ``(..., 2)``); moves off the grid stay put.

    Example:
        >>> move(np.array([[0, 0], [4, 4]]), np.array([4, 1]), 5).tolist()
        [[0, 0], [4, 4]]
    """
    return np.clip(pos + MOVES[actions], 0, size - 1)


def reward_at(pos: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """The reward of standing on ``pos`` after a step: +1 on the goal, -0.1 elsewhere.

    Example:
        >>> reward_at(np.array([[2, 3], [0, 0]]), np.array([[2, 3], [1, 1]])).tolist()
        [1.0, -0.1]
    """
    return np.where(np.all(pos == goal, axis=-1), GOAL_REWARD, STEP_REWARD)


def _check_actions(actions: Any, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(actions)
    if a.shape != shape or not np.issubdtype(a.dtype, np.integer) or a.min(initial=0) < 0 or a.max(initial=0) >= len(MOVES):
        raise ValueError(f"actions must be integers in [0, {len(MOVES)}) of shape {shape}, got {actions!r}")
    return a.astype(np.int64)


class GridNaviEnv(gymnasium.Env):
    """One GridNavi task: a goal on a ``size`` x ``size`` grid, episodes of ``steps`` steps."""

    metadata = {"render_modes": []}

    def __init__(self, goal: Any, size: int, steps: int):
        self.goal = np.asarray(goal, dtype=np.int64)
        self.size, self.steps = int(size), int(steps)
        self.observation_space = spaces.Box(0.0, float(size - 1), shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(len(MOVES))
        self.pos = np.zeros(2, dtype=np.int64)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos = np.zeros(2, dtype=np.int64)
        self.t = 0
        return self.pos.astype(np.float32), {}

    def step(self, action):
        a = _check_actions(action, ())
        self.pos = move(self.pos, a, self.size)
        self.t += 1
        reward = float(reward_at(self.pos, self.goal))
        return self.pos.astype(np.float32), reward, False, self.t >= self.steps, {}


class GridNaviVectorEnv(VectorEnv):
    """Many GridNavi tasks stepped at once in numpy; every lane truncates after ``steps``
    steps and is reset on the same step. Then ``info["final_obs"]`` is the ``(B, 2)`` array of
    last observations, valid in the lanes where ``info["_final_obs"]`` is true.

    Example:
        >>> import metaplastic, numpy as np
        >>> tasks = metaplastic.make_tasks("gridnavi:steps=2")
        >>> venv = tasks.make_vector_env(tasks.sample(3, seed=0))
        >>> obs, _ = venv.reset(seed=0)
        >>> obs, rew, term, trunc, info = venv.step(np.array([1, 2, 0]))
        >>> obs.tolist(), bool(trunc.any())
        ([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]], False)
        >>> obs, rew, term, trunc, info = venv.step(np.array([1, 2, 0]))
        >>> obs.tolist(), info["final_obs"][0].tolist(), bool(trunc.all())
        ([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], [0.0, 2.0], True)
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, goals: np.ndarray, size: int, steps: int):
        self.goals = np.asarray(goals, dtype=np.int64).reshape(-1, 2)
        self.num_envs = len(self.goals)
        self.size, self.steps = int(size), int(steps)
        self.single_observation_space = spaces.Box(0.0, float(size - 1), shape=(2,), dtype=np.float32)
        self.single_action_space = spaces.Discrete(len(MOVES))
        self.observation_space = spaces.Box(0.0, float(size - 1), shape=(self.num_envs, 2), dtype=np.float32)
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, len(MOVES)))
        self.pos = np.zeros((self.num_envs, 2), dtype=np.int64)
        self.t = np.zeros(self.num_envs, dtype=np.int64)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos[:] = 0
        self.t[:] = 0
        return self.pos.astype(np.float32), {}

    def step(self, actions):
        a = _check_actions(actions, (self.num_envs,))
        self.pos = move(self.pos, a, self.size)
        self.t += 1
        rewards = reward_at(self.pos, self.goals)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = self.t >= self.steps
        obs = self.pos.astype(np.float32)
        info: dict[str, Any] = {}
        if truncated.any():
            info = {"final_obs": obs, "_final_obs": truncated}
            self.pos[truncated] = 0
            self.t[truncated] = 0
            obs = self.pos.astype(np.float32)
        return obs, rewards, terminated, truncated, info


class GridNavi(TaskFamily):
    """VariBAD's GridNavi: find a hidden goal on a 5x5 grid in 15-step episodes, 4 per trial."""

    name = "gridnavi"
    reference = "bayes-optimal"
    params = (
        Param("size", int, 5, "side of the square grid, in cells", low=3, high=1000),
        Param("steps", int, 15, "steps per episode (the episode truncates then)", low=1, high=100_000),
        Param("n", int, 4, "episodes per trial", low=1, high=10_000),
    )
    split_doc = {
        "train": "goal uniform over the cells outside the start's 2x2 corner (21 on 5x5)",
        "test": "as train, task seeds disjoint from train",
        "ood": "goal uniform over the start's 3 neighbours (0,1), (1,0), (1,1), never a goal in training",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.size: int = self.config["size"]
        self.steps: int = self.config["steps"]
        self.episodes_per_trial = self.config["n"]
        self.observation_space = spaces.Box(0.0, float(self.size - 1), shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(len(MOVES))

    def episode_steps(self) -> int:
        return self.config["steps"]

    def goal_cells(self, split: str = "train") -> np.ndarray:
        """The ``(m, 2)`` cells ``(x, y)`` a goal of ``split`` is drawn from, uniformly.

        Example:
            >>> import metaplastic
            >>> g = metaplastic.make_tasks("gridnavi")
            >>> len(g.goal_cells("train")), g.goal_cells("ood").tolist()
            (21, [[0, 1], [1, 0], [1, 1]])
        """
        self.check_split(split)
        cells = np.indices((self.size, self.size)).reshape(2, -1).T
        corner = (cells <= 1).all(axis=1)
        start = (cells == 0).all(axis=1)
        return cells[corner & ~start] if split == "ood" else cells[~corner]

    def draw_params(self, rng: np.random.Generator, split: str) -> dict[str, Any]:
        cells = self.goal_cells(split)
        x, y = cells[rng.integers(len(cells))]
        return {"goal": (int(x), int(y))}

    def goals(self, tasks: list[Task]) -> np.ndarray:
        """The ``(len(tasks), 2)`` integer goal cells (hidden; for oracles)."""
        return np.array([self.check_task(t).params["goal"] for t in tasks], dtype=np.int64).reshape(len(tasks), 2)

    # -- latent (metaplastic.core.LatentFamily) ---------------------------------------------
    def latent(self) -> Latent:
        """``z`` = the goal cell ``(x, y)``, one of the grid's cells (every split's goals)."""
        cells = np.indices((self.size, self.size)).reshape(2, -1).T
        return Latent(names=("goal_x", "goal_y"), space=EnumeratedSpace(tuple(tuple(float(v) for v in c) for c in cells)),
                      law=GoalCell(goal_reward=GOAL_REWARD, step_reward=STEP_REWARD))

    def latent_labels(self, tasks: list[Task]) -> np.ndarray:
        return self.goals(tasks).astype(np.float64)

    def latent_tasks(self, z: np.ndarray) -> list[Task]:
        cells = np.clip(np.rint(np.asarray(z, dtype=np.float64).reshape(-1, 2)), 0, self.size - 1).astype(np.int64)
        return [Task(self.name, {"goal": (int(x), int(y))}, seed=0) for x, y in cells]

    def make_env(self, task: Task) -> GridNaviEnv:
        return GridNaviEnv(self.goals([task])[0], self.size, self.steps)

    def make_vector_env(self, tasks: list[Task]) -> GridNaviVectorEnv:
        return GridNaviVectorEnv(self.goals(tasks), self.size, self.steps)
