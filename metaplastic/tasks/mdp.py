"""Random tabular MDPs, the task family of RL²'s Table 2 (Duan et al. 2016).

A task is an MDP with ``n_states`` states and ``n_actions`` actions. Each pair ``(s, a)``
has a mean reward ``R[s, a] ~ Normal(reward_mean, reward_std)`` (the reward paid is that
mean plus unit-variance Gaussian noise) and a next-state distribution
``P[s, a, :] ~ Dirichlet(alpha, ..., alpha)`` (flat, ``alpha = 1``, by default). Every
episode starts in state 0 and is cut at ``horizon`` steps (``truncated=True``: a time
limit, not a terminal state); a trial is ``n`` episodes of the same MDP. The agent
observes the current state. The ``ood`` split draws the MDPs from another prior: mean
rewards twice as spread (``Normal(1, 2)``) and near-deterministic transitions
(``Dirichlet(0.1)``).

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("mdp:n=10")
    >>> task = tasks.sample(1, seed=0, split="test")[0]
    >>> env = tasks.make_env(task)
    >>> obs, info = env.reset(seed=0)
    >>> obs
    0
    >>> obs, reward, terminated, truncated, info = env.step(3)
    >>> 0 <= obs < 10, terminated, truncated
    (True, False, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from metaplastic.core import Task
from metaplastic.errors import ConfigError, LimitExceeded
from metaplastic.params import Param
from metaplastic.tasks.base import TaskFamily
from metaplastic.tasks.latent import Latent, TabularLaw, TabularSpace

#: Standard deviation of the Gaussian noise added to a reward's mean (RL²: unit variance).
REWARD_NOISE_STD = 1.0

#: The most transition probabilities (n_states² x n_actions) of one task: 8 MB as float64,
#: four times that as the Task's Python floats (RL² used 10² x 5 = 500).
MAX_TABLE_ENTRIES = 1_000_000


@dataclass(frozen=True)
class MDPPrior:
    """The prior an MDP of one split is drawn from (what a Bayesian agent may assume).

    R[s, a] ~ Normal(reward_mean, reward_std²); P[s, a, :] ~ Dirichlet(alpha · 1);
    a reward is R[s, a] + noise_std · ε, ε ~ Normal(0, 1).

    Example:
        >>> MDPPrior(reward_mean=1.0, reward_std=1.0, alpha=1.0).noise_std
        1.0
    """

    reward_mean: float  # mean of the mean rewards
    reward_std: float  # standard deviation of the mean rewards
    alpha: float  # concentration of the flat Dirichlet over next states
    noise_std: float = REWARD_NOISE_STD  # standard deviation of a reward around its mean


def _next_states(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling: row ``i`` of the cumulative distributions ``cum`` (``(B, S)``)
    at the uniform ``u[i]`` in (0, 1]."""
    return np.minimum((cum < u[:, None]).sum(axis=1), cum.shape[1] - 1)


class MDPEnv(gymnasium.Env):
    """One tabular MDP: start in state 0, ``horizon`` steps per episode, observe the state.

    Example:
        >>> import numpy as np
        >>> env = MDPEnv(np.zeros((2, 1)), np.array([[[0.0, 1.0]], [[1.0, 0.0]]]), horizon=2)
        >>> env.reset(seed=0)[0], env.step(0)[0], env.step(0)[3]
        (0, 1, True)
    """

    metadata = {"render_modes": []}

    def __init__(self, reward_mean: np.ndarray, transitions: np.ndarray, horizon: int):
        self.reward_mean = np.asarray(reward_mean, dtype=np.float64)
        self.transitions = np.asarray(transitions, dtype=np.float64)
        self._cum = np.cumsum(self.transitions, axis=-1)
        self.horizon = int(horizon)
        n_states, n_actions = self.reward_mean.shape
        self.observation_space = spaces.Discrete(n_states)
        self.action_space = spaces.Discrete(n_actions)
        self._state = 0
        self._t = self.horizon  # no episode running until reset

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._state, self._t = 0, 0
        return 0, {}

    def step(self, action):
        a = int(action)
        if not 0 <= a < self.action_space.n:
            raise ValueError(f"action {action!r} is not one of the {self.action_space.n} actions of this MDP")
        if self._t >= self.horizon:
            raise RuntimeError("the episode has ended (or not begun): call reset() before step()")
        s = self._state
        reward = float(self.reward_mean[s, a] + REWARD_NOISE_STD * self.np_random.standard_normal())
        self._state = int(_next_states(self._cum[s, a][None], 1.0 - self.np_random.random(1))[0])
        self._t += 1
        return self._state, reward, False, self._t >= self.horizon, {}


class MDPVectorEnv(VectorEnv):
    """Many tabular MDPs stepped at once in numpy. A lane whose episode reaches the
    horizon is truncated and reset on the same step (its last state in
    ``info["final_obs"]``, the lanes in ``info["_final_obs"]``).

    Example:
        >>> import metaplastic, numpy as np
        >>> tasks = metaplastic.make_tasks("mdp:horizon=2")
        >>> venv = tasks.make_vector_env(tasks.sample(3, seed=1))
        >>> obs, _ = venv.reset(seed=0)
        >>> obs.tolist()
        [0, 0, 0]
        >>> _ = venv.step(np.zeros(3, dtype=int))
        >>> obs, rew, term, trunc, info = venv.step(np.zeros(3, dtype=int))
        >>> obs.tolist(), bool(trunc.all()), bool(term.any()), info["final_obs"].shape
        ([0, 0, 0], True, False, (3,))
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, reward_mean: np.ndarray, transitions: np.ndarray, horizon: int):
        self.reward_mean = np.asarray(reward_mean, dtype=np.float64)
        self.transitions = np.asarray(transitions, dtype=np.float64)
        self.num_envs, n_states, n_actions = self.reward_mean.shape
        if self.transitions.shape != (self.num_envs, n_states, n_actions, n_states):
            raise ValueError(f"transitions must have shape {(self.num_envs, n_states, n_actions, n_states)}, got {self.transitions.shape}")
        self._cum = np.cumsum(self.transitions, axis=-1)
        self.horizon = int(horizon)
        self.single_observation_space = spaces.Discrete(n_states)
        self.single_action_space = spaces.Discrete(n_actions)
        self.observation_space = spaces.MultiDiscrete(np.full(self.num_envs, n_states))
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, n_actions))
        self._rows = np.arange(self.num_envs)
        self._state = np.zeros(self.num_envs, dtype=np.int64)
        self._t = np.zeros(self.num_envs, dtype=np.int64)
        self._np_random = np.random.default_rng()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._np_random = np.random.default_rng(seed)
        self._state[:] = 0
        self._t[:] = 0
        return self._state.copy(), {}

    def step(self, actions):
        a = np.asarray(actions, dtype=np.int64)
        n_actions = self.single_action_space.n
        if a.shape != (self.num_envs,) or a.min(initial=0) < 0 or a.max(initial=0) >= n_actions:
            raise ValueError(f"actions must be {self.num_envs} action indices in [0, {n_actions})")
        rng, s = self._np_random, self._state
        rewards = self.reward_mean[self._rows, s, a] + REWARD_NOISE_STD * rng.standard_normal(self.num_envs)
        self._state = _next_states(self._cum[self._rows, s, a], 1.0 - rng.random(self.num_envs))
        self._t += 1
        truncated = self._t >= self.horizon
        info: dict[str, Any] = {}
        if truncated.any():
            info = {"final_obs": self._state.copy(), "_final_obs": truncated.copy()}
            self._state[truncated] = 0
            self._t[truncated] = 0
        return self._state.copy(), rewards, np.zeros(self.num_envs, dtype=bool), truncated, info


def _nested_tuple(x: np.ndarray) -> Any:
    """An array as nested tuples of Python floats (JSON-friendly, immutable)."""
    return tuple(_nested_tuple(v) for v in x) if x.ndim > 1 else tuple(float(v) for v in x)


class TabularMDP(TaskFamily):
    """Random tabular MDPs: Gaussian rewards, Dirichlet transitions (RL² Table 2).

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("mdp:n=25")
        >>> tasks.episodes_per_trial, int(tasks.observation_space.n), int(tasks.action_space.n)
        (25, 10, 5)
        >>> tasks.transition_probs(tasks.sample(4, seed=0)).shape
        (4, 10, 5, 10)
    """

    name = "mdp"
    reference = "psrl"
    params = (
        Param("n", int, 10, "episodes per trial", low=1, high=10_000),
        Param("n_states", int, 10, "number of states (the observation is the current state)", low=1, high=1000),
        Param("n_actions", int, 5, "number of actions", low=1, high=100),
        Param("horizon", int, 10, "steps per episode (then truncated)", low=1, high=10_000),
        Param("reward_mean", float, 1.0, "mean of the mean rewards R(s,a) (train/test)"),
        Param("reward_std", float, 1.0, "standard deviation of the mean rewards R(s,a) (train/test)", low=0.0,
              low_exclusive=True),
        Param("alpha", float, 1.0, "flat Dirichlet concentration of the transitions (train/test)", low=0.0,
              low_exclusive=True),
        Param("ood_reward_mean", float, 1.0, "mean of the mean rewards in the ood split"),
        Param("ood_reward_std", float, 2.0, "standard deviation of the mean rewards in the ood split", low=0.0,
              low_exclusive=True),
        Param("ood_alpha", float, 0.1, "Dirichlet concentration of the transitions in the ood split "
              "(small: near-deterministic)", low=0.0, low_exclusive=True),
    )
    split_doc = {
        "train": "R(s,a) ~ Normal(reward_mean, reward_std²), P(·|s,a) ~ Dirichlet(alpha)",
        "test": "as train, task seeds disjoint from train",
        "ood": "R(s,a) ~ Normal(ood_reward_mean, ood_reward_std²), P(·|s,a) ~ Dirichlet(ood_alpha) "
               "(by default mean rewards twice as spread and near-deterministic transitions)",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        c = self.config
        self.n_states: int = c["n_states"]
        self.n_actions: int = c["n_actions"]
        self.horizon: int = c["horizon"]
        self.episodes_per_trial = c["n"]
        self.observation_space = spaces.Discrete(self.n_states)
        self.action_space = spaces.Discrete(self.n_actions)

    def _validate(self) -> None:
        if self.prior("train") == self.prior("ood"):
            raise ConfigError("mdp: the ood prior equals the training prior; set ood_reward_mean, ood_reward_std "
                              "or ood_alpha to shift it")
        s, a = self.config["n_states"], self.config["n_actions"]
        if s * s * a > MAX_TABLE_ENTRIES:  # one task's transition table
            raise LimitExceeded(f"mdp: n_states² x n_actions = {s}² x {a} = {s * s * a} transition probabilities per "
                                f"task is above the limit of {MAX_TABLE_ENTRIES}; use fewer states or actions")

    def episode_steps(self) -> int:
        return self.config["horizon"]

    def task_bytes(self) -> int:
        # S·A·(S+1) numbers: as Python floats in the Task (~32 bytes each), and as the
        # transition and cumulative arrays of a batched env (16 bytes)
        s, a = self.config["n_states"], self.config["n_actions"]
        return 48 * s * a * (s + 1) + 256

    def prior(self, split: str) -> MDPPrior:
        """The prior the MDPs of ``split`` are drawn from.

        Example:
            >>> import metaplastic
            >>> metaplastic.make_tasks("mdp").prior("ood").alpha
            0.1
        """
        self.check_split(split)
        c = self.config
        pre = "ood_" if split == "ood" else ""
        return MDPPrior(c[pre + "reward_mean"], c[pre + "reward_std"], c[pre + "alpha"])

    def sample_arrays(self, n: int, *, rng: np.random.Generator, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """Fast path for training: ``n`` MDPs straight from the prior, as arrays
        ``(n, S, A)`` of mean rewards and ``(n, S, A, S)`` of transitions, without
        building :class:`~metaplastic.core.Task` objects.

        Example:
            >>> import metaplastic, numpy as np
            >>> r, p = metaplastic.make_tasks("mdp").sample_arrays(3, rng=np.random.default_rng(0))
            >>> r.shape, p.shape, bool(np.allclose(p.sum(-1), 1))
            ((3, 10, 5), (3, 10, 5, 10), True)
        """
        return self._draw(rng, split, (int(n),))

    def _draw(self, rng: np.random.Generator, split: str, lead: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        pr = self.prior(split)
        shape = (*lead, self.n_states, self.n_actions)
        reward_mean = rng.normal(pr.reward_mean, pr.reward_std, size=shape)
        transitions = rng.dirichlet(np.full(self.n_states, pr.alpha), size=shape)
        return reward_mean, transitions

    def draw_params(self, rng: np.random.Generator, split: str) -> dict[str, Any]:
        reward_mean, transitions = self._draw(rng, split, ())
        return {"reward_mean": _nested_tuple(reward_mean), "transitions": _nested_tuple(transitions)}

    def _param_array(self, tasks: list[Task], key: str, shape: tuple[int, ...]) -> np.ndarray:
        arr = np.array([self.check_task(t).params[key] for t in tasks], dtype=np.float64)
        if arr.shape != (len(tasks), *shape):
            raise ConfigError(f"mdp: task parameter {key!r} has shape {arr.shape[1:]}, but this family "
                              f"({self.spec}) expects {shape}; build the env with the family that drew the task")
        return arr

    def reward_means(self, tasks: list[Task]) -> np.ndarray:
        """The ``(len(tasks), S, A)`` mean rewards (hidden; for oracles and scoring)."""
        return self._param_array(tasks, "reward_mean", (self.n_states, self.n_actions))

    def transition_probs(self, tasks: list[Task]) -> np.ndarray:
        """The ``(len(tasks), S, A, S)`` next-state probabilities (hidden; for oracles)."""
        return self._param_array(tasks, "transitions", (self.n_states, self.n_actions, self.n_states))

    # -- latent (metaplastic.core.LatentFamily) ---------------------------------------------
    def latent(self) -> Latent:
        """``z`` = the mean rewards ``R (S, A)`` then the transitions ``P (S, A, S)``, flattened."""
        s, a = self.n_states, self.n_actions
        names = tuple(f"R[{i},{j}]" for i in range(s) for j in range(a)) + tuple(
            f"P[{i},{j},{k}]" for i in range(s) for j in range(a) for k in range(s))
        return Latent(names=names, space=TabularSpace(s, a), law=TabularLaw(noise_std=REWARD_NOISE_STD))

    def latent_labels(self, tasks: list[Task]) -> np.ndarray:
        n = len(tasks)
        return np.concatenate([self.reward_means(tasks).reshape(n, -1), self.transition_probs(tasks).reshape(n, -1)], axis=1)

    def latent_tasks(self, z: np.ndarray) -> list[Task]:
        s, a = self.n_states, self.n_actions
        z = np.asarray(z, dtype=np.float64).reshape(-1, s * a + s * s * a)
        return [Task(self.name, {"reward_mean": _nested_tuple(row[:s * a].reshape(s, a)),
                                 "transitions": _nested_tuple(row[s * a:].reshape(s, a, s))}, seed=0) for row in z]

    def make_env(self, task: Task) -> MDPEnv:
        return MDPEnv(self.reward_means([task])[0], self.transition_probs([task])[0], self.horizon)

    def make_vector_env(self, tasks: list[Task]) -> MDPVectorEnv:
        return MDPVectorEnv(self.reward_means(tasks), self.transition_probs(tasks), self.horizon)
