"""2-D navigation, MAML's point robot (Finn et al. 2017).

A point starts every episode at the centre ``(0.5, 0.5)`` of the unit square (the paper's
square was [-0.5, 0.5]², centred on its origin) and moves by its action, a 2-D
displacement clipped to [-0.1, 0.1] per component. Reward after each step:
``-(distance to the goal)²``. The episode terminates within 0.01 of the goal and
truncates after ``max_steps`` steps; a trial is ``n`` episodes on the same goal. The
observation is the position. The goal is uniform in [0, 1]²; the ``ood`` split draws it
uniformly from [-0.5, 1.5]² outside the unit square.

Example:
    >>> import metaplastic, numpy as np
    >>> tasks = metaplastic.make_tasks("nav2d")
    >>> env = tasks.make_env(tasks.sample(1, seed=0, split="test")[0])
    >>> obs, info = env.reset(seed=0)
    >>> obs.tolist()
    [0.5, 0.5]
    >>> obs, reward, terminated, truncated, info = env.step(np.array([0.5, 0.0], dtype=np.float32))
    >>> round(float(obs[0]), 6), reward < 0   # the step was clipped to 0.1
    (0.6, True)
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
from metaplastic.tasks.latent import BoxSpace, Latent, SquaredDistance

START = np.array([0.5, 0.5])
MAX_ACTION = 0.1
GOAL_RADIUS = 0.01


def step_outcome(pos: np.ndarray, actions: Any, goal: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions after the clipped ``actions``, rewards ``-d²`` and whether ``d < 0.01``,
    ``d`` being the new distance to the goal (arrays of shape ``(..., 2)``).

    Example:
        >>> p, r, done = step_outcome(np.array([0.5, 0.5]), np.array([1.0, 0.0]), np.array([0.6, 0.5]))
        >>> p.tolist(), float(r), bool(done)
        ([0.6, 0.5], -0.0, True)
    """
    new = pos + np.clip(actions, -MAX_ACTION, MAX_ACTION)
    d2 = np.sum((new - goal) ** 2, axis=-1)
    return new, -d2, d2 < GOAL_RADIUS**2


def _check_actions(actions: Any, shape: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.asarray(actions, dtype=np.float64)
    except (TypeError, ValueError):
        a = None
    if a is None or a.shape != shape or not np.all(np.isfinite(a)):
        raise ValueError(f"actions must be finite numbers of shape {shape}, got {actions!r}")
    return a


def _observation_space(max_steps: int, shape: tuple[int, ...] = (2,)) -> spaces.Box:
    """Positions reachable in ``max_steps`` steps from the start, with a margin of 1."""
    reach = MAX_ACTION * max_steps + 1.0
    return spaces.Box(START[0] - reach, START[0] + reach, shape=shape, dtype=np.float32)


_ACTION_SPACE = spaces.Box(-MAX_ACTION, MAX_ACTION, shape=(2,), dtype=np.float32)


class Nav2DEnv(gymnasium.Env):
    """One point-robot task: reach ``goal`` from the centre within ``max_steps`` steps."""

    metadata = {"render_modes": []}

    def __init__(self, goal: Any, max_steps: int):
        self.goal = np.asarray(goal, dtype=np.float64)
        self.max_steps = int(max_steps)
        self.observation_space = _observation_space(self.max_steps)
        self.action_space = _ACTION_SPACE
        self.pos = START.copy()
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos = START.copy()
        self.t = 0
        return self.pos.astype(np.float32), {}

    def step(self, action):
        self.pos, reward, terminated = step_outcome(self.pos, _check_actions(action, (2,)), self.goal)
        self.t += 1
        return self.pos.astype(np.float32), float(reward), bool(terminated), self.t >= self.max_steps, {}


class Nav2DVectorEnv(VectorEnv):
    """Many point-robot tasks stepped at once in numpy. A lane that terminates or truncates
    is reset on the same step; ``info["final_obs"]`` is the ``(B, 2)`` array of last
    observations, valid where ``info["_final_obs"]`` is true.

    Example:
        >>> import metaplastic, numpy as np
        >>> tasks = metaplastic.make_tasks("nav2d")
        >>> venv = tasks.make_vector_env(tasks.sample(3, seed=0))
        >>> obs, _ = venv.reset(seed=0)
        >>> obs, rew, term, trunc, info = venv.step(np.zeros((3, 2), dtype=np.float32))
        >>> obs.shape, rew.shape, bool(term.any() or trunc.any())
        ((3, 2), (3,), False)
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, goals: np.ndarray, max_steps: int):
        self.goals = np.asarray(goals, dtype=np.float64).reshape(-1, 2)
        self.num_envs = len(self.goals)
        self.max_steps = int(max_steps)
        self.single_observation_space = _observation_space(self.max_steps)
        self.single_action_space = _ACTION_SPACE
        self.observation_space = _observation_space(self.max_steps, (self.num_envs, 2))
        self.action_space = spaces.Box(-MAX_ACTION, MAX_ACTION, shape=(self.num_envs, 2), dtype=np.float32)
        self.pos = np.tile(START, (self.num_envs, 1))
        self.t = np.zeros(self.num_envs, dtype=np.int64)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos[:] = START
        self.t[:] = 0
        return self.pos.astype(np.float32), {}

    def step(self, actions):
        self.pos, rewards, terminated = step_outcome(self.pos, _check_actions(actions, (self.num_envs, 2)), self.goals)
        self.t += 1
        truncated = self.t >= self.max_steps
        done = terminated | truncated
        obs = self.pos.astype(np.float32)
        info: dict[str, Any] = {}
        if done.any():
            info = {"final_obs": obs, "_final_obs": done}
            self.pos[done] = START
            self.t[done] = 0
            obs = self.pos.astype(np.float32)
        return obs, rewards, terminated, truncated, info


class Nav2D(TaskFamily):
    """MAML's 2-D point robot: reach a hidden goal in the unit square, 4 episodes per trial."""

    name = "nav2d"
    params = (
        Param("max_steps", int, 100, "steps after which an episode truncates", low=1, high=100_000),
        Param("n", int, 4, "episodes per trial", low=1, high=10_000),
    )
    split_doc = {
        "train": "goal ~ U[0, 1]², start at the centre (0.5, 0.5)",
        "test": "as train, task seeds disjoint from train",
        "ood": "goal uniform over [-0.5, 1.5]² outside the unit square (by rejection)",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.max_steps: int = self.config["max_steps"]
        self.episodes_per_trial = self.config["n"]
        self.observation_space = _observation_space(self.max_steps)
        self.action_space = _ACTION_SPACE

    def episode_steps(self) -> int:
        return self.config["max_steps"]

    def draw_params(self, rng: np.random.Generator, split: str) -> dict[str, Any]:
        if split != "ood":
            goal = rng.uniform(0.0, 1.0, size=2)
        else:
            goal = rng.uniform(-0.5, 1.5, size=2)
            while np.all((goal >= 0.0) & (goal <= 1.0)):  # rejection: 3/4 of draws land outside
                goal = rng.uniform(-0.5, 1.5, size=2)
        return {"goal": (float(goal[0]), float(goal[1]))}

    def goals(self, tasks: list[Task]) -> np.ndarray:
        """The ``(len(tasks), 2)`` goal positions (hidden; for oracles).

        Example:
            >>> import metaplastic
            >>> nav = metaplastic.make_tasks("nav2d")
            >>> nav.goals(nav.sample(5, seed=0)).shape
            (5, 2)
        """
        return np.array([self.check_task(t).params["goal"] for t in tasks], dtype=np.float64).reshape(len(tasks), 2)

    # -- latent (metaplastic.core.LatentFamily) ---------------------------------------------
    def latent(self) -> Latent:
        """``z`` = the goal, in [-0.5, 1.5]² (the train/test square and the ood frame)."""
        return Latent(names=("goal_x", "goal_y"), space=BoxSpace(low=(-0.5, -0.5), high=(1.5, 1.5)),
                      law=SquaredDistance())

    def latent_labels(self, tasks: list[Task]) -> np.ndarray:
        return self.goals(tasks)

    def latent_tasks(self, z: np.ndarray) -> list[Task]:
        return [Task(self.name, {"goal": (float(x), float(y))}, seed=0) for x, y in np.asarray(z).reshape(-1, 2)]

    def make_env(self, task: Task) -> Nav2DEnv:
        return Nav2DEnv(self.goals([task])[0], self.max_steps)

    def make_vector_env(self, tasks: list[Task]) -> Nav2DVectorEnv:
        return Nav2DVectorEnv(self.goals(tasks), self.max_steps)
