"""CartPole with hidden dynamics: gymnasium's cart-pole, its pole and cart drawn per task.

Each task draws the pole's half-length ``length`` (m), the pole's mass ``masspole`` (kg)
and the cart's mass ``masscart`` (kg) uniformly from ranges (parameters of the family);
everything else is gymnasium's ``CartPole-v1``: the same equations (Florian 2007, Euler
steps of ``tau`` = 0.02 s), observation ``(x, x_dot, theta, theta_dot)``, actions 0 (push
left) and 1 (push right) with a 10 N force, +1 a step, termination when the pole leans
more than 12° or the cart leaves [-2.4, 2.4]. Episodes truncate after ``max_steps`` steps;
a trial is ``n`` episodes on the same cart-pole. Train/test ranges: length U[0.25, 0.75],
masspole U[0.05, 0.2], masscart U[0.5, 1.5] (gymnasium's defaults 0.5, 0.1, 1.0 sit
inside); ``ood`` ranges lie outside them: length U[0.8, 1.2], masspole U[0.25, 0.4],
masscart U[1.6, 2.5].

The batched env is gymnasium's own ``CartPoleVectorEnv``, whose numpy physics take the
physical attributes as per-lane arrays; it resets a finished lane on the *next* step.

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("cartpole-dyn")
    >>> task = tasks.sample(1, seed=0, split="test")[0]
    >>> sorted(task.params)
    ['length', 'masscart', 'masspole']
    >>> env = tasks.make_env(task)
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(1)
    >>> obs.shape, reward
    ((4,), 1.0)
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv, CartPoleVectorEnv
from gymnasium.vector import AutoresetMode

from metaplastic.core import Task
from metaplastic.errors import ConfigError
from metaplastic.params import Param
from metaplastic.tasks.base import TaskFamily
from metaplastic.tasks.latent import BoxSpace, CartPoleLaw, Latent

#: The hidden parameters: (meaning, train/test range, ood range).
HIDDEN: Mapping[str, tuple[str, tuple[float, float], tuple[float, float]]] = {
    "length": ("half-length of the pole, m", (0.25, 0.75), (0.8, 1.2)),
    "masspole": ("mass of the pole, kg", (0.05, 0.2), (0.25, 0.4)),
    "masscart": ("mass of the cart, kg", (0.5, 1.5), (1.6, 2.5)),
}
#: The constants every task shares, read from gymnasium's CartPoleEnv.
FIXED = ("gravity", "tau", "force_mag")


@functools.cache
def fixed_constants() -> dict[str, float]:
    """gymnasium's shared constants: gravity (m/s²), tau (s per step), force_mag (N).

    Example:
        >>> fixed_constants()
        {'gravity': 9.8, 'tau': 0.02, 'force_mag': 10.0}
    """
    env = CartPoleEnv()
    return {k: float(getattr(env, k)) for k in FIXED}


def _set_physics(env: Any, physics: Mapping[str, Any]) -> None:
    """Give ``env`` (single or batched) its hidden parameters and the derived quantities."""
    for key in HIDDEN:
        setattr(env, key, physics[key])
    env.total_mass = env.masspole + env.masscart
    env.polemass_length = env.masspole * env.length


def _range_params() -> tuple[Param, ...]:
    out = []
    for prefix, split, which in (("", 1, "train/test"), ("ood_", 2, "ood")):
        for key, spec in HIDDEN.items():
            doc, bounds = spec[0], spec[split]
            for end, value in zip(("low", "high"), bounds):
                out.append(Param(f"{prefix}{key}_{end}", float, value, f"{doc}: {end} end of the {which} range",
                                 low=0.0, low_exclusive=True))
    return tuple(out)


class CartPoleDynEnv(CartPoleEnv):
    """gymnasium's ``CartPoleEnv`` with the given pole and cart, truncating after ``max_steps``."""

    def __init__(self, physics: Mapping[str, float], max_steps: int):
        super().__init__()
        _set_physics(self, {k: float(v) for k, v in physics.items()})
        self.max_steps = int(max_steps)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self.t = 0
        return super().reset(seed=seed, options=options)

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 (push left) or 1 (push right), got {action!r}")
        obs, reward, terminated, _, info = super().step(action)
        self.t += 1
        return obs, reward, terminated, self.t >= self.max_steps, info


class CartPoleDynVectorEnv(CartPoleVectorEnv):
    """gymnasium's ``CartPoleVectorEnv`` with one pole and cart per lane (arrays of
    ``length``, ``masspole``, ``masscart``); a finished lane resets on the next step.

    Example:
        >>> import metaplastic, numpy as np
        >>> tasks = metaplastic.make_tasks("cartpole-dyn")
        >>> venv = tasks.make_vector_env(tasks.sample(3, seed=0))
        >>> obs, _ = venv.reset(seed=0)
        >>> obs, rew, term, trunc, _ = venv.step(np.array([0, 1, 1]))
        >>> obs.shape, rew.tolist(), venv.length.shape
        ((3, 4), [1.0, 1.0, 1.0], (3,))
    """

    metadata = {**CartPoleVectorEnv.metadata, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, physics: Mapping[str, np.ndarray], max_steps: int):
        lanes = len(physics["length"])
        super().__init__(num_envs=lanes, max_episode_steps=int(max_steps))
        _set_physics(self, {k: np.asarray(v, dtype=np.float64).reshape(lanes) for k, v in physics.items()})

    def step(self, actions):
        a = np.asarray(actions)
        if not self.action_space.contains(a):
            raise ValueError(f"actions must be {self.num_envs} integers in {{0, 1}}, got {actions!r}")
        return super().step(a)


class CartPoleDyn(TaskFamily):
    """CartPole whose pole length, pole mass and cart mass are drawn per task."""

    name = "cartpole-dyn"
    params = (
        Param("max_steps", int, 500, "steps after which an episode truncates", low=1, high=100_000),
        Param("n", int, 2, "episodes per trial", low=1, high=10_000),
        *_range_params(),
    )
    split_doc = {
        "train": "length ~ U[length_low, length_high], masspole ~ U[masspole_low, masspole_high], "
                 "masscart ~ U[masscart_low, masscart_high] (defaults [0.25, 0.75], [0.05, 0.2], [0.5, 1.5])",
        "test": "as train, task seeds disjoint from train",
        "ood": "the same from the ood_* ranges (defaults [0.8, 1.2], [0.25, 0.4], [1.6, 2.5], outside the train ranges)",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.max_steps: int = self.config["max_steps"]
        self.episodes_per_trial = self.config["n"]
        reference = CartPoleEnv()
        self.observation_space = reference.observation_space
        self.action_space = reference.action_space

    def _validate(self) -> None:
        for split in ("train", "ood"):
            for key, (lo, hi) in self.ranges(split).items():
                if lo > hi:
                    prefix = "ood_" if split == "ood" else ""
                    raise ConfigError(f"cartpole-dyn: {prefix}{key}_low ({lo:g}) is above {prefix}{key}_high ({hi:g})")
        if self.ranges("train") == self.ranges("ood"):
            raise ConfigError("cartpole-dyn: the ood ranges equal the training ranges; set the ood_* ranges to shift them")

    def episode_steps(self) -> int:
        return self.config["max_steps"]

    def ranges(self, split: str) -> dict[str, tuple[float, float]]:
        """The uniform range ``(low, high)`` of each hidden parameter in ``split``.

        Example:
            >>> import metaplastic
            >>> metaplastic.make_tasks("cartpole-dyn").ranges("ood")["length"]
            (0.8, 1.2)
        """
        self.check_split(split)
        prefix = "ood_" if split == "ood" else ""
        return {k: (self.config[f"{prefix}{k}_low"], self.config[f"{prefix}{k}_high"]) for k in HIDDEN}

    def draw_params(self, rng: np.random.Generator, split: str) -> dict[str, Any]:
        return {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in self.ranges(split).items()}

    def physics(self, tasks: list[Task]) -> dict[str, np.ndarray]:
        """Per-task arrays, shape ``(len(tasks),)``, of every constant of the equations of
        motion: the hidden ``length``, ``masspole``, ``masscart`` and the shared
        ``gravity``, ``tau``, ``force_mag`` (hidden; for oracles).

        Example:
            >>> import metaplastic
            >>> cp = metaplastic.make_tasks("cartpole-dyn")
            >>> sorted(cp.physics(cp.sample(2, seed=0)))
            ['force_mag', 'gravity', 'length', 'masscart', 'masspole', 'tau']
        """
        for t in tasks:
            self.check_task(t)
        out = {k: np.array([t.params[k] for t in tasks], dtype=np.float64) for k in HIDDEN}
        out.update({k: np.full(len(tasks), v) for k, v in fixed_constants().items()})
        return out

    # -- latent (metaplastic.core.LatentFamily) ---------------------------------------------
    def latent(self) -> Latent:
        """``z`` = ``(length, masspole, masscart)``, in the box spanning the train and ood ranges."""
        ranges = [self.ranges(s) for s in ("train", "ood")]
        low = tuple(min(r[k][0] for r in ranges) for k in HIDDEN)
        high = tuple(max(r[k][1] for r in ranges) for k in HIDDEN)
        return Latent(names=tuple(HIDDEN), space=BoxSpace(low=low, high=high), law=CartPoleLaw(**fixed_constants()))

    def latent_labels(self, tasks: list[Task]) -> np.ndarray:
        physics = self.physics(tasks)
        return np.stack([physics[k] for k in HIDDEN], axis=1).reshape(len(tasks), len(HIDDEN))

    def latent_tasks(self, z: np.ndarray) -> list[Task]:
        return [Task(self.name, dict(zip(HIDDEN, (float(v) for v in row))), seed=0)
                for row in np.asarray(z).reshape(-1, len(HIDDEN))]

    def make_env(self, task: Task) -> CartPoleDynEnv:
        return CartPoleDynEnv({k: v[0] for k, v in self.physics([task]).items() if k in HIDDEN}, self.max_steps)

    def make_vector_env(self, tasks: list[Task]) -> CartPoleDynVectorEnv:
        return CartPoleDynVectorEnv({k: v for k, v in self.physics(tasks).items() if k in HIDDEN}, self.max_steps)
