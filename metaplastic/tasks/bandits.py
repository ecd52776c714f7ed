"""Bernoulli multi-armed bandits, the task family of RL²'s Table 1 (Duan et al. 2016).

A task is ``k`` arms with success probabilities ``p_i ~ Beta(a, b)`` (uniform by default);
a trial is ``n`` pulls, each pull an episode of one step, so the trial return is the total
reward. The agent observes a constant; all it learns comes from its rewards. The ``ood``
split draws the arms from another prior, ``Beta(ood_a, ood_b)`` (by default the U-shaped
``Beta(0.5, 0.5)``: arms nearer 0 or 1 than in training).

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    >>> task = tasks.sample(1, seed=0, split="test")[0]
    >>> env = tasks.make_env(task)
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(2)
    >>> terminated, reward in (0.0, 1.0)
    (True, True)
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from metaplastic.core import Task
from metaplastic.errors import ConfigError, LimitExceeded
from metaplastic.params import Param
from metaplastic.tasks.base import TaskFamily
from metaplastic.tasks.latent import BernoulliArms, BoxSpace, Latent

_OBS_SPACE = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)

#: The most arms x pulls of one trial (RL²'s largest setting is 50 x 500 = 25,000).
MAX_ARM_PULLS = 10_000_000


class BanditEnv(gymnasium.Env):
    """One Bernoulli bandit: every episode is a single pull of arm ``action``."""

    metadata = {"render_modes": []}

    def __init__(self, p: np.ndarray):
        self.p = np.asarray(p, dtype=np.float64)
        self.observation_space = _OBS_SPACE
        self.action_space = spaces.Discrete(len(self.p))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        a = int(action)
        if not 0 <= a < len(self.p):
            raise ValueError(f"action {action!r} is not an arm of this {len(self.p)}-armed bandit")
        reward = float(self.np_random.random() < self.p[a])
        return np.zeros(1, dtype=np.float32), reward, True, False, {}


class BanditVectorEnv(VectorEnv):
    """Many bandit tasks stepped at once in numpy (autoreset on the same step, since every
    episode is one pull).

    Example:
        >>> import metaplastic, numpy as np
        >>> tasks = metaplastic.make_tasks("bandits:k=3")
        >>> venv = tasks.make_vector_env(tasks.sample(4, seed=1))
        >>> obs, _ = venv.reset(seed=0)
        >>> obs, rew, term, trunc, _ = venv.step(np.array([0, 1, 2, 0]))
        >>> rew.shape, bool(term.all())
        ((4,), True)
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, p: np.ndarray):
        self.p = np.asarray(p, dtype=np.float64)
        self.num_envs, k = self.p.shape
        self.single_observation_space = _OBS_SPACE
        self.single_action_space = spaces.Discrete(k)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.num_envs, 1), dtype=np.float32)
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, k))
        self._rows = np.arange(self.num_envs)
        self._np_random = np.random.default_rng()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._np_random = np.random.default_rng(seed)
        return np.zeros((self.num_envs, 1), dtype=np.float32), {}

    def step(self, actions):
        a = np.asarray(actions, dtype=np.int64)
        if a.shape != (self.num_envs,) or a.min(initial=0) < 0 or a.max(initial=0) >= self.p.shape[1]:
            raise ValueError(f"actions must be {self.num_envs} arm indices in [0, {self.p.shape[1]})")
        rewards = (self._np_random.random(self.num_envs) < self.p[self._rows, a]).astype(np.float64)
        done = np.ones(self.num_envs, dtype=bool)
        obs = np.zeros((self.num_envs, 1), dtype=np.float32)
        return obs, rewards, done, np.zeros(self.num_envs, dtype=bool), {}


class Bandits(TaskFamily):
    """Bernoulli k-armed bandits with arms drawn from a Beta prior (RL² Table 1)."""

    name = "bandits"
    reference = "gittins"
    params = (
        Param("k", int, 5, "number of arms", low=2, high=1000),
        Param("n", int, 10, "pulls per trial (each pull is an episode of one step)", low=1, high=100_000),
        Param("a", float, 1.0, "Beta prior of the arms, first shape (train/test)", low=0.0, low_exclusive=True),
        Param("b", float, 1.0, "Beta prior of the arms, second shape (train/test)", low=0.0, low_exclusive=True),
        Param("ood_a", float, 0.5, "Beta prior of the arms in the ood split, first shape", low=0.0, low_exclusive=True),
        Param("ood_b", float, 0.5, "Beta prior of the arms in the ood split, second shape", low=0.0, low_exclusive=True),
    )
    split_doc = {
        "train": "p_i ~ Beta(a, b)",
        "test": "p_i ~ Beta(a, b), task seeds disjoint from train",
        "ood": "p_i ~ Beta(ood_a, ood_b)",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.k: int = self.config["k"]
        self.episodes_per_trial = self.config["n"]
        self.observation_space = _OBS_SPACE
        self.action_space = spaces.Discrete(self.k)

    def _validate(self) -> None:
        c = self.config
        if (c["a"], c["b"]) == (c["ood_a"], c["ood_b"]):
            raise ConfigError("bandits: the ood prior equals the training prior; set ood_a/ood_b to shift it")
        if c["k"] * c["n"] > MAX_ARM_PULLS:  # a policy's work per trial grows as arms x pulls
            raise LimitExceeded(f"bandits: k x n = {c['k']} x {c['n']} = {c['k'] * c['n']} is above the limit of "
                                f"{MAX_ARM_PULLS} (arms x pulls per trial); use fewer arms or pulls")

    def episode_steps(self) -> int:
        return 1

    def task_bytes(self) -> int:
        return 48 * self.config["k"] + 256  # k floats in a tuple, and k in a batched env's array

    def prior(self, split: str) -> tuple[float, float]:
        """The Beta prior ``(a, b)`` the arms of ``split`` are drawn from."""
        self.check_split(split)
        c = self.config
        return (c["ood_a"], c["ood_b"]) if split == "ood" else (c["a"], c["b"])

    def draw_params(self, rng: np.random.Generator, split: str) -> dict[str, Any]:
        a, b = self.prior(split)
        return {"p": tuple(float(x) for x in rng.beta(a, b, size=self.k))}

    def arm_probs(self, tasks: list[Task]) -> np.ndarray:
        """The ``(len(tasks), k)`` matrix of arm probabilities (hidden; for oracles)."""
        return np.array([self.check_task(t).params["p"] for t in tasks], dtype=np.float64).reshape(len(tasks), self.k)

    def make_env(self, task: Task) -> BanditEnv:
        return BanditEnv(self.arm_probs([task])[0])

    def make_vector_env(self, tasks: list[Task]) -> BanditVectorEnv:
        return BanditVectorEnv(self.arm_probs(tasks))

    # -- latent (metaplastic.core.LatentFamily) ---------------------------------------------
    def latent(self) -> Latent:
        """``z`` = the arm probabilities, in [0, 1]^k, each governing its own arm."""
        return Latent(names=tuple(f"p{i}" for i in range(self.k)),
                      space=BoxSpace(low=(0.0,) * self.k, high=(1.0,) * self.k, per_action=True), law=BernoulliArms())

    def latent_labels(self, tasks: list[Task]) -> np.ndarray:
        return self.arm_probs(tasks)

    def latent_tasks(self, z: np.ndarray) -> list[Task]:
        return [Task(self.name, {"p": tuple(float(x) for x in row)}, seed=0) for row in np.asarray(z).reshape(-1, self.k)]

    def sample_probs(self, n: int, *, rng: np.random.Generator, split: str = "train") -> np.ndarray:
        """Fast path for training: ``(n, k)`` arm probabilities straight from the prior,
        without building :class:`~metaplastic.core.Task` objects."""
        a, b = self.prior(split)
        return rng.beta(a, b, size=(n, self.k))
