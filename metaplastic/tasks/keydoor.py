"""KeyDoor: a small room of coloured keys and doors whose hidden rule varies per task.

A room holds keys and doors, each of a distinct colour of a palette of ``colours``
(red, green, blue, yellow, purple, orange, white, black; the first ``colours`` of them).
The hidden rule of a task says which key opens which door (every door has exactly one
*opener* key; a key may open several doors) and which door is the *goal*. A trial is
``n`` episodes of at most ``steps`` steps in the same room, under the same rule.

**Actions** are slots: ``Discrete(S_k + S_d)`` with ``S_k = max(keys, ood_keys)`` key
slots and ``S_d = max(doors, ood_doors)`` door slots, so every split shares one action
space. Action ``i < S_k`` picks up the key in slot ``i`` (the agent holds one key at a
time; keys stay in their slots, ``holding(c)`` names the held one's colour; an empty
slot does nothing). Action ``S_k + j`` tries door slot ``j``: if the held key is the
door's opener the door opens (and stays open for the episode); if that door is the goal,
the reward is +1 and the episode terminates. Every other step pays -0.01 (an empty slot, a wrong key,
no key, an already open door included). The episode truncates after ``steps`` steps. An
oracle that knows the rule takes 2 steps per episode: its return is ``1 - 0.01`` each.

**Observations** are symbolic facts: a fixed-size binary float32 vector whose
coordinates are named by :func:`schema` (in order): ``key_present(i)``,
``key_colour(i,c)``, ``door_present(j)``, ``door_colour(j,c)``, ``holding(c)``,
``door_open(j)`` for every key slot ``i``, door slot ``j`` and palette colour ``c``.
The rule itself is never observed; :meth:`KeyDoor.rules` gives it as plain data.

**The distribution of rules** (a task of ``K`` keys and ``D`` doors):

* key colours: ``K`` distinct palette colours, in uniformly random slots;
* door colours: ``min(D, K)`` distinct key colours, plus (when ``D > K``) ``D - K``
  colours no key has, all in uniformly random slots; so with ``D <= K`` (the default)
  every door has a key of its own colour;
* the goal: uniform over the doors that have a key of their own colour;
* the opener of each non-goal door: its own colour's key with probability ``match``
  (colour matches are common), else a uniformly random key of another colour (a rare
  exception; when ``K = 1`` the only key); a door whose colour no key has is opened by a
  uniformly random key;
* the opener of the goal door: in ``train`` and ``test`` always its own colour's key
  (goal doors match); in ``ood`` always a uniformly random key of *another* colour, a
  combination never seen in training, in a bigger room (``ood_keys`` keys and
  ``ood_doors`` doors).

A task's params are plain data: ``{"key_colours": (palette index per key slot),
"door_colours": (palette index per door slot), "opener": (key slot per door slot),
"goal": door slot}``; slots past the task's ``K`` keys and ``D`` doors are empty.

Example:
    >>> import metaplastic
    >>> from metaplastic.core import Task
    >>> tasks = metaplastic.make_tasks("keydoor")
    >>> task = Task("keydoor", {"key_colours": (0, 1, 2), "door_colours": (2, 0, 1),
    ...                         "opener": (2, 0, 0), "goal": 1}, seed=0)
    >>> tasks.rules([task])
    [{'opener': {'blue': 'blue', 'red': 'red', 'green': 'red'}, 'goal': 'red'}]
    >>> env = tasks.make_env(task)
    >>> obs, info = env.reset(seed=0)
    >>> [f for f in true_facts(tasks, obs) if not f.startswith(("key_", "door_colour"))]
    ['door_present(0)', 'door_present(1)', 'door_present(2)']
    >>> obs, reward, terminated, truncated, info = env.step(0)   # pick up the red key
    >>> obs, reward, terminated, truncated, info = env.step(4 + 2)  # the green door: red opens it
    >>> [f for f in true_facts(tasks, obs) if f.startswith(("holding", "door_open"))], reward, terminated
    (['holding(red)', 'door_open(2)'], -0.01, False)
    >>> obs, reward, terminated, truncated, info = env.step(4 + 1)  # the red door, the goal
    >>> reward, terminated
    (1.0, True)
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from metaplastic.core import Task
from metaplastic.errors import ConfigError
from metaplastic.params import Param
from metaplastic.tasks.base import TaskFamily

#: The palette; a family of ``colours=c`` uses its first ``c`` names.
COLOUR_NAMES = ("red", "green", "blue", "yellow", "purple", "orange", "white", "black")
GOAL_REWARD = 1.0
STEP_REWARD = -0.01
#: The blocks of an observation, in order (see :func:`schema`).
BLOCKS = ("key_present", "key_colour", "door_present", "door_colour", "holding", "door_open")


def schema(family: "KeyDoor") -> tuple[str, ...]:
    """The names of the observation's coordinates, in order: one fact each.

    Example:
        >>> import metaplastic
        >>> names = schema(metaplastic.make_tasks("keydoor:colours=2,keys=1,doors=1,ood_keys=2,ood_doors=1"))
        >>> len(names)
        12
        >>> names[:4]
        ('key_present(0)', 'key_present(1)', 'key_colour(0,red)', 'key_colour(0,green)')
        >>> names[-4:]
        ('door_colour(0,green)', 'holding(red)', 'holding(green)', 'door_open(0)')
    """
    palette = COLOUR_NAMES[: family.n_colours]
    keys, doors = range(family.key_slots), range(family.door_slots)
    return (*(f"key_present({i})" for i in keys),
            *(f"key_colour({i},{c})" for i in keys for c in palette),
            *(f"door_present({j})" for j in doors),
            *(f"door_colour({j},{c})" for j in doors for c in palette),
            *(f"holding({c})" for c in palette),
            *(f"door_open({j})" for j in doors))


def true_facts(family: "KeyDoor", obs: Any) -> list[str]:
    """The names of the facts an observation (one, not a batch) holds true.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("keydoor")
        >>> obs = np.zeros(tasks.observation_space.shape, dtype=np.float32)
        >>> obs[tasks.blocks["holding"].start + 2] = 1.0
        >>> true_facts(tasks, obs)
        ['holding(blue)']
    """
    obs = np.asarray(obs).reshape(-1)
    names = schema(family)
    if obs.shape != (len(names),):
        raise ValueError(f"an observation of {family.name} has {len(names)} facts, got shape {np.shape(obs)}")
    return [name for name, v in zip(names, obs) if v > 0.5]


def _check_actions(actions: Any, shape: tuple[int, ...], n: int) -> np.ndarray:
    a = np.asarray(actions)
    if a.shape != shape or not np.issubdtype(a.dtype, np.integer) or a.min(initial=0) < 0 or a.max(initial=0) >= n:
        raise ValueError(f"actions must be integers in [0, {n}) of shape {shape}, got {actions!r}")
    return a.astype(np.int64)


class _Rooms:
    """The state and the rules of ``B`` rooms, stepped at once (shared by both envs).

    ``key_colours (B, S_k)`` and ``door_colours (B, S_d)`` hold palette indices, -1 in an
    empty slot; ``opener (B, S_d)`` the key slot opening each door (-1 for no door);
    ``goal (B,)`` the goal door's slot.
    """

    def __init__(self, arrays: dict[str, np.ndarray], n_colours: int, steps: int):
        self.key_colours, self.door_colours = arrays["key_colours"], arrays["door_colours"]
        self.opener, self.goal = arrays["opener"], arrays["goal"]
        self.num, self.key_slots = self.key_colours.shape
        self.door_slots = self.door_colours.shape[1]
        self.n_colours, self.steps = int(n_colours), int(steps)
        self.n_actions = self.key_slots + self.door_slots
        self.rows = np.arange(self.num)
        self.static = np.concatenate([
            self.key_colours >= 0, _one_hot(self.key_colours, n_colours).reshape(self.num, -1),
            self.door_colours >= 0, _one_hot(self.door_colours, n_colours).reshape(self.num, -1),
        ], axis=1).astype(np.float32)
        self.held = np.full(self.num, -1, dtype=np.int64)
        self.opened = np.zeros((self.num, self.door_slots), dtype=bool)
        self.t = np.zeros(self.num, dtype=np.int64)

    def reset(self, lanes: Any = slice(None)) -> None:
        self.held[lanes] = -1
        self.opened[lanes] = False
        self.t[lanes] = 0

    def obs(self) -> np.ndarray:
        held_colour = np.where(self.held >= 0, self.key_colours[self.rows, np.maximum(self.held, 0)], -1)
        return np.concatenate([self.static, _one_hot(held_colour, self.n_colours), self.opened], axis=1,
                              dtype=np.float32)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rewards, terminated, truncated of one step (``actions`` already checked)."""
        pick = actions < self.key_slots
        slot = np.minimum(actions, self.key_slots - 1)
        took = pick & (self.key_colours[self.rows, slot] >= 0)
        self.held = np.where(took, actions, self.held)
        door = np.clip(actions - self.key_slots, 0, self.door_slots - 1)
        opens = ~pick & (self.held >= 0) & (self.opener[self.rows, door] == self.held)
        self.opened[self.rows[opens], door[opens]] = True
        terminated = opens & (door == self.goal)
        self.t += 1
        truncated = (self.t >= self.steps) & ~terminated
        return np.where(terminated, GOAL_REWARD, STEP_REWARD), terminated, truncated


def _one_hot(index: np.ndarray, n: int) -> np.ndarray:
    """``index (...)`` -> ``(..., n)`` booleans; -1 gives a row of zeros."""
    return index[..., None] == np.arange(n)


class KeyDoorEnv(gymnasium.Env):
    """One KeyDoor task: a room, its hidden rule, episodes of at most ``steps`` steps."""

    metadata = {"render_modes": []}

    def __init__(self, arrays: dict[str, np.ndarray], n_colours: int, steps: int):
        self.rooms = _Rooms(arrays, n_colours, steps)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.rooms.static.shape[1] + n_colours
                                                             + self.rooms.door_slots,), dtype=np.float32)
        self.action_space = spaces.Discrete(self.rooms.n_actions)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.rooms.reset()
        return self.rooms.obs()[0], {}

    def step(self, action):
        a = _check_actions(action, (), self.rooms.n_actions)
        rewards, terminated, truncated = self.rooms.step(a.reshape(1))
        return self.rooms.obs()[0], float(rewards[0]), bool(terminated[0]), bool(truncated[0]), {}


class KeyDoorVectorEnv(VectorEnv):
    """Many KeyDoor tasks stepped at once in numpy. A lane whose episode ends (the goal
    opened, or ``steps`` steps) is reset on the same step; ``info["final_obs"]`` is then
    the ``(B, facts)`` array of last observations, valid where ``info["_final_obs"]`` is true.

    Example:
        >>> import metaplastic, numpy as np
        >>> tasks = metaplastic.make_tasks("keydoor")
        >>> venv = tasks.make_vector_env(tasks.sample(3, seed=0))
        >>> obs, _ = venv.reset(seed=0)
        >>> obs.shape
        (3, 66)
        >>> obs, rew, term, trunc, info = venv.step(np.array([0, 1, 7]))
        >>> rew.tolist(), term.tolist()
        ([-0.01, -0.01, -0.01], [False, False, False])
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, arrays: dict[str, np.ndarray], n_colours: int, steps: int):
        self.rooms = _Rooms(arrays, n_colours, steps)
        self.num_envs = self.rooms.num
        facts = self.rooms.static.shape[1] + n_colours + self.rooms.door_slots
        self.single_observation_space = spaces.Box(0.0, 1.0, shape=(facts,), dtype=np.float32)
        self.single_action_space = spaces.Discrete(self.rooms.n_actions)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.num_envs, facts), dtype=np.float32)
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, self.rooms.n_actions))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.rooms.reset()
        return self.rooms.obs(), {}

    def step(self, actions):
        a = _check_actions(actions, (self.num_envs,), self.rooms.n_actions)
        rewards, terminated, truncated = self.rooms.step(a)
        obs = self.rooms.obs()
        info: dict[str, Any] = {}
        done = terminated | truncated
        if done.any():
            info = {"final_obs": obs, "_final_obs": done}
            self.rooms.reset(done)
            obs = self.rooms.obs()
        return obs, rewards, terminated, truncated, info


class KeyDoor(TaskFamily):
    """Coloured keys and doors: find which key opens the goal door (colours match, mostly)."""

    name = "keydoor"
    reference = "oracle"
    params = (
        Param("colours", int, 6, "palette size (red, green, blue, yellow, purple, orange, white, black)",
              low=2, high=len(COLOUR_NAMES)),
        Param("keys", int, 3, "keys in a train/test room (distinct colours; <= colours)", low=1,
              high=len(COLOUR_NAMES)),
        Param("doors", int, 3, "doors in a train/test room (distinct colours; <= colours)", low=1,
              high=len(COLOUR_NAMES)),
        Param("ood_keys", int, 4, "keys in an ood room (<= colours)", low=2, high=len(COLOUR_NAMES)),
        Param("ood_doors", int, 4, "doors in an ood room (<= colours)", low=1, high=len(COLOUR_NAMES)),
        Param("match", float, 0.85, "probability that a non-goal door is opened by the key of its own colour",
              low=0.0, high=1.0),
        Param("steps", int, 10, "steps per episode at most (the episode truncates then)", low=2, high=100_000),
        Param("n", int, 4, "episodes per trial", low=1, high=10_000),
    )
    split_doc = {
        "train": "`keys` keys and `doors` doors of distinct colours; a non-goal door opens with its own colour's key "
                 "with probability `match`, else with another key; the goal door always with its own colour's key",
        "test": "as train, task seeds disjoint from train",
        "ood": "`ood_keys` keys and `ood_doors` doors; non-goal doors as in train; the goal door never opens with its "
               "own colour's key (always another key), a rule never seen in training",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        c = self.config
        self.n_colours: int = c["colours"]
        self.key_slots: int = max(c["keys"], c["ood_keys"])
        self.door_slots: int = max(c["doors"], c["ood_doors"])
        self.steps: int = c["steps"]
        self.episodes_per_trial = c["n"]
        sizes = dict(zip(BLOCKS, (self.key_slots, self.key_slots * self.n_colours, self.door_slots,
                                  self.door_slots * self.n_colours, self.n_colours, self.door_slots)))
        starts = np.cumsum([0, *sizes.values()])
        #: block name -> the slice of the observation it occupies
        self.blocks: dict[str, slice] = {b: slice(int(s), int(s + n))
                                         for b, s, n in zip(BLOCKS, starts, sizes.values())}
        self.observation_space = spaces.Box(0.0, 1.0, shape=(int(starts[-1]),), dtype=np.float32)
        self.action_space = spaces.Discrete(self.key_slots + self.door_slots)

    def _validate(self) -> None:
        c = self.config
        for key in ("keys", "doors", "ood_keys", "ood_doors"):
            if c[key] > c["colours"]:
                raise ConfigError(f"{self.name}: {key}={c[key]} needs as many colours, but colours={c['colours']}; "
                                  f"raise colours or lower {key}")

    def episode_steps(self) -> int:
        return self.config["steps"]

    def sizes(self, split: str = "train") -> tuple[int, int]:
        """``(keys, doors)`` in a room of ``split``.

        Example:
            >>> import metaplastic
            >>> metaplastic.make_tasks("keydoor").sizes("ood")
            (4, 4)
        """
        c = self.config
        return (c["ood_keys"], c["ood_doors"]) if self.check_split(split) == "ood" else (c["keys"], c["doors"])

    def draw_params(self, rng: np.random.Generator, split: str) -> dict[str, Any]:
        n_keys, n_doors = self.sizes(split)
        keys = rng.choice(self.n_colours, size=n_keys, replace=False)
        shared = rng.choice(keys, size=min(n_doors, n_keys), replace=False)
        others = rng.choice(np.setdiff1d(np.arange(self.n_colours), keys), size=n_doors - len(shared), replace=False)
        doors = rng.permutation(np.concatenate([shared, others]))
        own = [int(np.flatnonzero(keys == d)[0]) if d in keys else -1 for d in doors]  # key slot of each door's colour
        goal = int(rng.choice([j for j in range(n_doors) if own[j] >= 0]))
        opener = []
        for j, k in enumerate(own):
            other = [i for i in range(n_keys) if i != k]
            if k < 0:
                opener.append(int(rng.integers(n_keys)))
            elif j == goal:
                opener.append(int(rng.choice(other)) if split == "ood" else k)
            elif not other or rng.random() < self.config["match"]:
                opener.append(k)
            else:
                opener.append(int(rng.choice(other)))
        return {"key_colours": tuple(int(k) for k in keys), "door_colours": tuple(int(d) for d in doors),
                "opener": tuple(opener), "goal": goal}

    def arrays(self, tasks: list[Task]) -> dict[str, np.ndarray]:
        """The tasks' rooms and rules as padded integer arrays (hidden; for envs and oracles):
        ``key_colours (B, S_k)``, ``door_colours (B, S_d)`` (palette indices, -1 in empty
        slots), ``opener (B, S_d)`` (key slot, -1 for no door) and ``goal (B,)``."""
        b = len(tasks)
        out = {"key_colours": np.full((b, self.key_slots), -1, dtype=np.int64),
               "door_colours": np.full((b, self.door_slots), -1, dtype=np.int64),
               "opener": np.full((b, self.door_slots), -1, dtype=np.int64),
               "goal": np.zeros(b, dtype=np.int64)}
        for i, task in enumerate(tasks):
            p = self.check_task(task).params
            keys, doors, opener = p["key_colours"], p["door_colours"], p["opener"]
            if (len(keys) > self.key_slots or len(doors) > self.door_slots or len(opener) != len(doors)
                    or not 0 <= p["goal"] < len(doors) or not all(0 <= k < len(keys) for k in opener)
                    or not all(0 <= c < self.n_colours for c in (*keys, *doors))):
                raise ConfigError(f"{self.name}: task {task.seed} does not fit this family ({self.spec}): {dict(p)}")
            out["key_colours"][i, : len(keys)] = keys
            out["door_colours"][i, : len(doors)] = doors
            out["opener"][i, : len(opener)] = opener
            out["goal"][i] = p["goal"]
        return out

    def rules(self, tasks: list[Task]) -> list[dict[str, Any]]:
        """Each task's hidden rule as plain data, by colour name: ``{"opener": {door colour:
        key colour}, "goal": door colour}`` (hidden; for symbolic learners' scoring)."""
        out = []
        for task in tasks:
            p = self.check_task(task).params
            keys, doors = p["key_colours"], p["door_colours"]
            out.append({"opener": {COLOUR_NAMES[d]: COLOUR_NAMES[keys[k]] for d, k in zip(doors, p["opener"])},
                        "goal": COLOUR_NAMES[doors[p["goal"]]]})
        return out

    def make_env(self, task: Task) -> KeyDoorEnv:
        return KeyDoorEnv(self.arrays([task]), self.n_colours, self.steps)

    def make_vector_env(self, tasks: list[Task]) -> KeyDoorVectorEnv:
        return KeyDoorVectorEnv(self.arrays(tasks), self.n_colours, self.steps)
