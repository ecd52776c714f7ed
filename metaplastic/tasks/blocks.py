"""Blocks: NLRL's blocks world (Jiang & Luo 2019, "Neural Logic Reinforcement Learning").

Blocks named ``a, b, c, ...`` (at most seven, ``a`` to ``g``) stand in columns on the
floor. A task's hidden rule is one of NLRL's three goals:

* ``stack``: every block in one single column (in any order);
* ``unstack``: every block on the floor;
* ``on``: block ``X`` directly on block ``Y``; the goal is observed as the fact
  ``goal_on(X,Y)`` (as in NLRL, where the goal predicate is given). For ``stack`` and
  ``unstack`` every ``goal_on`` fact is false, so those two must be told apart by reward.

The goal is drawn per task (weights ``stack``, ``unstack``, ``on``; equally likely by
default). A trial is ``n`` episodes of the same task, each starting from the task's initial
state, which never satisfies the goal.

**Actions**: ``move(X, Y)`` puts block ``X`` onto ``Y`` (a block or the floor).
``Discrete(M * (M + 1))`` with ``M = ood_blocks`` block slots (every split shares one
action space): action ``X * (M + 1) + Y`` moves the block in slot ``X`` onto the block in
slot ``Y``, or onto the floor when ``Y == M``. A move is carried out when ``X`` is a present
block with nothing on it and ``Y`` is the floor or another present block with nothing on
it; any other move (``X == Y``, a covered or absent block) leaves the state unchanged. Either
way the step pays -0.02, except the step after which the goal holds: it pays +1 and the
episode terminates. The episode truncates after ``steps`` steps (NLRL's cap: 50). A shortest
plan of ``k`` moves returns ``1 - 0.02 (k - 1)``.

**Observations** are symbolic facts: a fixed-size binary float32 vector whose coordinates
are named by :func:`schema` (in order; ``M`` slots named ``a, b, ...``):

* ``on(X,Y)`` for every ordered pair of distinct slots (``M (M - 1)``, row by row);
* ``on(X,floor)`` (``M``), ``top(X)``: nothing is on ``X`` (``M``), ``present(X)`` (``M``);
* ``floor(floor)``: NLRL's background fact, always true (1);
* ``goal_on(X,Y)`` for every ordered pair of distinct slots (``M (M - 1)``).

``M = 7`` (the default) gives 106 facts and 56 actions. The rule itself is never observed
beyond ``goal_on``; :meth:`Blocks.rules` gives it as plain data and
:meth:`Blocks.optimal_steps` the length of a shortest plan (breadth-first search over the
states; there are 73 states of 4 blocks and 37633 of 7).

**Initial states** (every split draws the goal first, then the state):

* ``train``: ``blocks`` blocks (``a`` to ``d`` by default) in a uniformly random
  configuration of columns (uniform over every state of that many blocks) that does not
  satisfy the goal; an ``on`` goal is a uniformly random ordered pair of distinct blocks;
* ``test``: as train, task seeds disjoint from train;
* ``ood``: one of three variants, drawn uniformly per task:

  - ``more_blocks``: ``blocks + 1`` to ``ood_blocks`` blocks (5 to 7 by default,
    uniformly), state and goal drawn as in train;
  - ``swap_top``: NLRL's "swap top 2": ``blocks`` blocks, NLRL's starting layout with its
    two top blocks swapped: for ``unstack`` and ``on`` the single column ``a, b, ..., d, c``
    (bottom to top); for ``stack`` the blocks on the floor with the two right ones
    swapped, NLRL's "swap right 2", which is the same facts as all blocks on the floor
    (columns are unordered);
  - ``two_columns`` (``stack`` and ``unstack``): NLRL's "2 columns", ``blocks`` blocks in
    two columns: the first half in reverse order, then the second half in order (4
    blocks: ``b, a`` and ``c, d``, bottom to top); ``swap_middle`` (``on``, whose goal
    ``on(a,b)`` that layout already satisfies): NLRL's "swap middle 2", the column
    ``a, c, b, d, ...``.

  An ``on`` task of ``swap_top`` or ``swap_middle`` has NLRL's goal ``on(a,b)``.
  The ``swap_top``/``two_columns``/``swap_middle`` layouts are NLRL's fixed test states;
  with ``blocks`` blocks they are also (rare) train states, so only ``more_blocks`` lies
  outside train's support (unseen blocks, facts and actions).

A task's params are plain data: ``{"task": "stack" | "unstack" | "on", "goal": (X, Y)
slots for on, else None, "columns": ((slot, ...), ...) bottom to top, sorted by bottom
block, "variant": "random" | "more_blocks" | "swap_top" | "two_columns" |
"swap_middle"}``; a task of ``n`` blocks uses slots ``0 .. n-1``.

Example:
    >>> import metaplastic
    >>> from metaplastic.core import Task
    >>> tasks = metaplastic.make_tasks("blocks")
    >>> task = Task("blocks", {"task": "on", "goal": (0, 1), "columns": ((0, 1, 2), (3,)),
    ...                        "variant": "random"}, seed=0)
    >>> tasks.rules([task]), tasks.optimal_steps(task)
    ([{'task': 'on', 'goal': ('a', 'b')}], 3)
    >>> env = tasks.make_env(task)
    >>> obs, info = env.reset(seed=0)
    >>> columns(tasks, obs), [f for f in true_facts(tasks, obs) if f.startswith(("on(", "goal"))]
    (['abc', 'd'], ['on(b,a)', 'on(c,b)', 'on(a,floor)', 'on(d,floor)', 'goal_on(a,b)'])
    >>> obs, reward, terminated, truncated, info = env.step(tasks.move("c", "d"))
    >>> obs, reward, terminated, truncated, info = env.step(tasks.move("b", "floor"))
    >>> columns(tasks, obs), reward, terminated
    (['a', 'b', 'dc'], -0.02, False)
    >>> obs, reward, terminated, truncated, info = env.step(tasks.move("a", "b"))
    >>> columns(tasks, obs), reward, terminated
    (['ba', 'dc'], 1.0, True)
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from metaplastic.core import Task
from metaplastic.errors import ConfigError
from metaplastic.params import Param
from metaplastic.tasks.base import TaskFamily

#: Block names, one per slot.
BLOCK_NAMES = ("a", "b", "c", "d", "e", "f", "g")
MAX_BLOCKS = len(BLOCK_NAMES)
GOAL_REWARD = 1.0
STEP_REWARD = -0.02
#: The goals, in the order of their codes.
KINDS = ("stack", "unstack", "on")
#: The ood variants of each goal (one is drawn uniformly per ood task).
OOD_VARIANTS = {"stack": ("more_blocks", "swap_top", "two_columns"),
                "unstack": ("more_blocks", "swap_top", "two_columns"),
                "on": ("more_blocks", "swap_top", "swap_middle")}
VARIANTS = ("random", "more_blocks", "swap_top", "two_columns", "swap_middle")
#: The groups of facts of an observation, in order (see :func:`schema`).
FACT_GROUPS = ("on", "on_floor", "top", "present", "floor", "goal_on")
#: ``below`` codes: what a block stands on is a slot, the floor or nothing (absent block).
FLOOR, ABSENT = -1, -2


# -- the planning core: a state is ``below``, a tuple of what each block stands on ----------
def successors(state: tuple[int, ...]) -> list[tuple[tuple[int, int], tuple[int, ...]]]:
    """Every state one carried-out move away, as ``((X, Y), next state)`` (``Y = -1``: the
    floor), in a fixed order.

    Example:
        >>> [move for move, _ in successors((-1, 0, -1))]   # b on a; c on the floor
        [(1, 2), (1, -1), (2, 1)]
    """
    covered = set(state)
    tops = [x for x in range(len(state)) if x not in covered]
    out = []
    for x in tops:
        for y in tops:
            if y != x and state[x] != y:
                out.append(((x, y), state[:x] + (y,) + state[x + 1:]))
        if state[x] != FLOOR:
            out.append(((x, FLOOR), state[:x] + (FLOOR,) + state[x + 1:]))
    return out


@lru_cache(maxsize=None)
def all_states(n: int) -> tuple[tuple[int, ...], ...]:
    """Every state of ``n`` blocks, sorted (1, 3, 13, 73, 501, 4051, 37633 for 1..7).

    Example:
        >>> [len(all_states(n)) for n in range(1, 6)]
        [1, 3, 13, 73, 501]
    """
    start = (FLOOR,) * n
    seen, queue = {start}, deque([start])
    while queue:
        for _, t in successors(queue.popleft()):
            if t not in seen:
                seen.add(t)
                queue.append(t)
    return tuple(sorted(seen))


def satisfied(task: str, goal: tuple[int, int] | None, state: tuple[int, ...]) -> bool:
    """Whether ``state`` satisfies the goal ``task`` (``goal``: the on pair).

    Example:
        >>> satisfied("stack", None, (-1, 0, 1)), satisfied("unstack", None, (-1, 0, 1))
        (True, False)
    """
    if task == "stack":
        return sum(b == FLOOR for b in state) == 1
    if task == "unstack":
        return all(b == FLOOR for b in state)
    return state[goal[0]] == goal[1]


def _relabel(task: str, goal: tuple[int, int] | None, n: int) -> tuple[int, ...]:
    """The slot permutation (old -> new) mapping an on goal to ``on(a,b)``, others kept in order."""
    if task != "on":
        return tuple(range(n))
    x, y = goal
    order = [x, y, *(i for i in range(n) if i not in (x, y))]
    perm = [0] * n
    for new, old in enumerate(order):
        perm[old] = new
    return tuple(perm)


def _apply(perm: tuple[int, ...], state: tuple[int, ...]) -> tuple[int, ...]:
    out = [0] * len(state)
    for x, b in enumerate(state):
        out[perm[x]] = perm[b] if b >= 0 else b
    return tuple(out)


@lru_cache(maxsize=None)
def _distances(n: int, task: str) -> dict[tuple[int, ...], int]:
    """The number of moves from every state of ``n`` blocks to the goal (``on``: ``on(a,b)``),
    by breadth-first search back from every goal state (a move is undone by one move)."""
    goal = (0, 1) if task == "on" else None
    dist = {s: 0 for s in all_states(n) if satisfied(task, goal, s)}
    queue = deque(dist)
    while queue:
        s = queue.popleft()
        d = dist[s] + 1
        for _, t in successors(s):
            if t not in dist:
                dist[t] = d
                queue.append(t)
    return dist


def distance(task: str, goal: tuple[int, int] | None, state: tuple[int, ...]) -> int:
    """The fewest moves that take ``state`` to the goal.

    Example:
        >>> distance("unstack", None, (-1, 0, 1, 2)), distance("stack", None, (-1, -1, -1, -1))
        (3, 3)
        >>> distance("on", (0, 1), (-1, 0, 1, 2))   # a, b, c, d bottom to top: d, c, b off, a onto b
        4
    """
    perm = _relabel(task, goal, len(state))
    return _distances(len(state), task)[_apply(perm, state)]


@lru_cache(maxsize=None)
def _first_move(n: int, task: str, state: tuple[int, ...]) -> tuple[int, int] | None:
    dist = _distances(n, task)
    d = dist[state]
    if d == 0:
        return None
    return next(move for move, t in successors(state) if dist[t] == d - 1)


def optimal_move(task: str, goal: tuple[int, int] | None, state: tuple[int, ...]) -> tuple[int, int] | None:
    """The first move ``(X, Y)`` (``Y = -1``: the floor) of a shortest plan from ``state``,
    or ``None`` when the goal holds. Plans are cached per state.

    Example:
        >>> optimal_move("on", (0, 1), (-1, 0, 1, -1))   # a, b, c and d: c first
        (2, 3)
    """
    perm = _relabel(task, goal, len(state))
    move = _first_move(len(state), task, _apply(perm, state))
    if move is None:
        return None
    inverse = {new: old for old, new in enumerate(perm)}
    return inverse[move[0]], (inverse[move[1]] if move[1] >= 0 else FLOOR)


def to_columns(state: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """The columns of a state, bottom to top, sorted by bottom block.

    Example:
        >>> to_columns((1, -1, -1, 2))
        ((1, 0), (2, 3))
    """
    above = {b: x for x, b in enumerate(state) if b >= 0}
    out = []
    for bottom in (x for x, b in enumerate(state) if b == FLOOR):
        column = [bottom]
        while column[-1] in above:
            column.append(above[column[-1]])
        out.append(tuple(column))
    return tuple(out)


def from_columns(columns: Any) -> tuple[int, ...]:
    """The state (``below`` per block) of columns of slots ``0 .. n-1``, bottom to top.

    Example:
        >>> from_columns(((1, 0), (2, 3)))
        (1, -1, -1, 2)
    """
    columns = [tuple(int(b) for b in c) for c in columns]
    blocks = sorted(b for c in columns for b in c)
    if blocks != list(range(len(blocks))) or any(not c for c in columns):
        raise ValueError(f"columns must hold the slots 0 .. n-1 once each, got {columns!r}")
    state = [0] * len(blocks)
    for column in columns:
        for i, b in enumerate(column):
            state[b] = column[i - 1] if i else FLOOR
    return tuple(state)


def nlrl_layout(variant: str, task: str, n: int) -> tuple[int, ...]:
    """NLRL's fixed test state of ``n`` blocks for ``variant`` (``swap_top``,
    ``two_columns``, ``swap_middle``) of goal ``task``.

    Example:
        >>> [to_columns(nlrl_layout(v, "unstack", 4)) for v in ("swap_top", "two_columns", "swap_middle")]
        [((0, 1, 3, 2),), ((1, 0), (2, 3)), ((0, 2, 1, 3),)]
        >>> to_columns(nlrl_layout("swap_top", "stack", 4))
        ((0,), (1,), (2,), (3,))
    """
    blocks = list(range(n))
    if variant == "two_columns":
        return from_columns((tuple(reversed(blocks[: n // 2])), tuple(blocks[n // 2:])))
    if variant == "swap_top" and task == "stack":
        return (FLOOR,) * n  # "swap right 2" of blocks on the floor: the same facts
    i, j = (n - 2, n - 1) if variant == "swap_top" else (1, 2)
    blocks[i], blocks[j] = blocks[j], blocks[i]
    return from_columns((tuple(blocks),))


# -- facts ----------------------------------------------------------------------------------
def schema(family: "Blocks") -> tuple[str, ...]:
    """The names of the observation's coordinates, in order: one fact each.

    Example:
        >>> import metaplastic
        >>> names = schema(metaplastic.make_tasks("blocks:blocks=3,ood_blocks=4"))
        >>> len(names)
        37
        >>> names[:4], names[12:14]
        (('on(a,b)', 'on(a,c)', 'on(a,d)', 'on(b,a)'), ('on(a,floor)', 'on(b,floor)'))
        >>> names[20:26]
        ('present(a)', 'present(b)', 'present(c)', 'present(d)', 'floor(floor)', 'goal_on(a,b)')
    """
    names = BLOCK_NAMES[: family.max_blocks]
    pairs = [(x, y) for x in names for y in names if x != y]
    return (*(f"on({x},{y})" for x, y in pairs),
            *(f"on({x},floor)" for x in names),
            *(f"top({x})" for x in names),
            *(f"present({x})" for x in names),
            "floor(floor)",
            *(f"goal_on({x},{y})" for x, y in pairs))


def true_facts(family: "Blocks", obs: Any) -> list[str]:
    """The names of the facts an observation (one, not a batch) holds true.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("blocks")
        >>> obs = np.zeros(tasks.observation_space.shape, dtype=np.float32)
        >>> obs[tasks.blocks["top"].start + 2] = 1.0
        >>> true_facts(tasks, obs)
        ['top(c)']
    """
    obs = np.asarray(obs).reshape(-1)
    names = schema(family)
    if obs.shape != (len(names),):
        raise ValueError(f"an observation of {family.name} has {len(names)} facts, got shape {np.shape(obs)}")
    return [name for name, v in zip(names, obs) if v > 0.5]


def below_of(family: "Blocks", obs: Any) -> np.ndarray:
    """What each slot's block stands on, decoded from observations ``(..., facts)``: an
    integer array ``(..., M)`` of slots, ``FLOOR`` (-1) or ``ABSENT`` (-2).

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("blocks")
        >>> env = tasks.make_env(tasks.sample(1, seed=0)[0])
        >>> below_of(tasks, env.reset(seed=0)[0]).tolist()   # c, d, b, a bottom to top
        [1, 3, -1, 2, -2, -2, -2]
    """
    obs = np.asarray(obs)
    m = family.max_blocks
    lead = obs.shape[:-1]
    on = obs[..., family.blocks["on"]].reshape(*lead, m, m - 1) > 0.5
    j = np.argmax(on, axis=-1)
    y = j + (j >= np.arange(m))  # column j of row x is slot j (j < x) or j + 1
    out = np.where(on.any(axis=-1), y, ABSENT)
    out = np.where(obs[..., family.blocks["on_floor"]] > 0.5, FLOOR, out)
    return np.where(obs[..., family.blocks["present"]] > 0.5, out, ABSENT).astype(np.int64)


def columns(family: "Blocks", obs: Any) -> list[str]:
    """The columns of one observation, bottom to top, as strings of block names.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("blocks")
        >>> env = tasks.make_env(tasks.sample(1, seed=0)[0])
        >>> columns(tasks, env.reset(seed=0)[0])
        ['cdba']
    """
    below = below_of(family, np.asarray(obs).reshape(-1))
    n = int((below != ABSENT).sum())
    return ["".join(BLOCK_NAMES[b] for b in c) for c in to_columns(tuple(int(b) for b in below[:n]))]


def _check_actions(actions: Any, shape: tuple[int, ...], n: int) -> np.ndarray:
    a = np.asarray(actions)
    if a.shape != shape or not np.issubdtype(a.dtype, np.integer) or a.min(initial=0) < 0 or a.max(initial=0) >= n:
        raise ValueError(f"actions must be integers in [0, {n}) of shape {shape}, got {actions!r}")
    return a.astype(np.int64)


class _Worlds:
    """The state and the goals of ``B`` blocks worlds, stepped at once (shared by both envs).

    ``init (B, M)`` holds each world's initial ``below`` (slot, ``FLOOR`` or ``ABSENT``),
    ``kind (B,)`` the goal's index in :data:`KINDS`, ``goal (B, 2)`` the on pair (-1 for
    stack and unstack).
    """

    def __init__(self, arrays: dict[str, np.ndarray], steps: int):
        self.init, self.kind, self.goal = arrays["init"], arrays["kind"], arrays["goal"]
        self.num, self.m = self.init.shape
        self.steps = int(steps)
        self.n_actions = self.m * (self.m + 1)
        self.rows = np.arange(self.num)
        self.offdiag = ~np.eye(self.m, dtype=bool)
        goal_on = np.zeros((self.num, self.m, self.m), dtype=bool)
        on = self.kind == KINDS.index("on")
        goal_on[self.rows[on], self.goal[on, 0], self.goal[on, 1]] = True
        self.static = np.concatenate([np.ones((self.num, 1), dtype=bool), goal_on[:, self.offdiag]], axis=1)
        self.n_facts = 2 * self.m * (self.m - 1) + 3 * self.m + 1
        self.present = (self.init != ABSENT).sum(axis=1)
        self.below = self.init.copy()
        self.t = np.zeros(self.num, dtype=np.int64)

    def reset(self, lanes: Any = slice(None)) -> None:
        self.below[lanes] = self.init[lanes]
        self.t[lanes] = 0

    def _top(self) -> np.ndarray:
        covered = (self.below[:, :, None] == np.arange(self.m)).any(axis=1)
        return (self.below != ABSENT) & ~covered

    def obs(self) -> np.ndarray:
        on = self.below[:, :, None] == np.arange(self.m)
        return np.concatenate([on[:, self.offdiag], self.below == FLOOR, self._top(), self.below != ABSENT,
                               self.static], axis=1, dtype=np.float32)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rewards, terminated, truncated of one step (``actions`` already checked)."""
        x, y = actions // (self.m + 1), actions % (self.m + 1)
        to_floor = y == self.m
        yc = np.minimum(y, self.m - 1)
        top = self._top()
        moves = top[self.rows, x] & (to_floor | ((yc != x) & top[self.rows, yc]))
        self.below[self.rows[moves], x[moves]] = np.where(to_floor, FLOOR, y)[moves]
        on_floor = (self.below == FLOOR).sum(axis=1)
        holds = np.select([self.kind == 0, self.kind == 1],
                          [on_floor == 1, on_floor == self.present],
                          self.below[self.rows, np.maximum(self.goal[:, 0], 0)] == self.goal[:, 1])
        self.t += 1
        truncated = (self.t >= self.steps) & ~holds
        return np.where(holds, GOAL_REWARD, STEP_REWARD), holds, truncated


class BlocksEnv(gymnasium.Env):
    """One Blocks task: a world, its hidden goal, episodes of at most ``steps`` steps."""

    metadata = {"render_modes": []}

    def __init__(self, arrays: dict[str, np.ndarray], steps: int):
        self.worlds = _Worlds(arrays, steps)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.worlds.n_facts,), dtype=np.float32)
        self.action_space = spaces.Discrete(self.worlds.n_actions)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.worlds.reset()
        return self.worlds.obs()[0], {}

    def step(self, action):
        a = _check_actions(action, (), self.worlds.n_actions)
        rewards, terminated, truncated = self.worlds.step(a.reshape(1))
        return self.worlds.obs()[0], float(rewards[0]), bool(terminated[0]), bool(truncated[0]), {}


class BlocksVectorEnv(VectorEnv):
    """Many Blocks tasks stepped at once in numpy. A lane whose episode ends (the goal
    reached, or ``steps`` steps) is reset on the same step; ``info["final_obs"]`` is then
    the ``(B, facts)`` array of last observations, valid where ``info["_final_obs"]`` is true.

    Example:
        >>> import metaplastic, numpy as np
        >>> tasks = metaplastic.make_tasks("blocks")
        >>> venv = tasks.make_vector_env(tasks.sample(3, seed=0))
        >>> obs, _ = venv.reset(seed=0)
        >>> obs.shape
        (3, 106)
        >>> obs, rew, term, trunc, info = venv.step(np.array([0, 1, 7]))
        >>> rew.tolist(), term.tolist()
        ([-0.02, -0.02, -0.02], [False, False, False])
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, arrays: dict[str, np.ndarray], steps: int):
        self.worlds = _Worlds(arrays, steps)
        self.num_envs = self.worlds.num
        facts, n_actions = self.worlds.n_facts, self.worlds.n_actions
        self.single_observation_space = spaces.Box(0.0, 1.0, shape=(facts,), dtype=np.float32)
        self.single_action_space = spaces.Discrete(n_actions)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.num_envs, facts), dtype=np.float32)
        self.action_space = spaces.MultiDiscrete(np.full(self.num_envs, n_actions))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.worlds.reset()
        return self.worlds.obs(), {}

    def step(self, actions):
        a = _check_actions(actions, (self.num_envs,), self.worlds.n_actions)
        rewards, terminated, truncated = self.worlds.step(a)
        obs = self.worlds.obs()
        info: dict[str, Any] = {}
        done = terminated | truncated
        if done.any():
            info = {"final_obs": obs, "_final_obs": done}
            self.worlds.reset(done)
            obs = self.worlds.obs()
        return obs, rewards, terminated, truncated, info


class Blocks(TaskFamily):
    """NLRL's blocks world: stack, unstack or put one block on another (a hidden goal per task)."""

    name = "blocks"
    reference = "oracle"
    params = (
        Param("blocks", int, 4, "blocks in a train/test world (named a, b, c, ...)", low=3, high=MAX_BLOCKS - 1),
        Param("ood_blocks", int, 7, "most blocks in an ood world (more_blocks: blocks+1 .. ood_blocks); "
              "the observation has this many block slots", low=4, high=MAX_BLOCKS),
        Param("stack", float, 1.0, "relative weight of stack tasks (every block in one column)", low=0.0, high=1e6),
        Param("unstack", float, 1.0, "relative weight of unstack tasks (every block on the floor)", low=0.0, high=1e6),
        Param("on", float, 1.0, "relative weight of on tasks (block X on block Y; goal_on(X,Y) observed)",
              low=0.0, high=1e6),
        Param("steps", int, 50, "steps per episode at most (the episode truncates then)", low=1, high=100_000),
        Param("n", int, 2, "episodes per trial", low=1, high=10_000),
    )
    split_doc = {
        "train": "`blocks` blocks in a uniformly random state that does not satisfy the goal; the goal (stack, "
                 "unstack or on(X,Y), a random pair) drawn with weights `stack`, `unstack`, `on`",
        "test": "as train, task seeds disjoint from train",
        "ood": "one variant per task, uniformly: more_blocks (blocks+1 .. ood_blocks blocks, drawn as in train); "
               "swap_top (NLRL's start with its two top blocks swapped: column a,b,..,d,c; stack: all on the floor); "
               "two_columns for stack/unstack (columns b,a and c,d) or swap_middle for on (column a,c,b,d); "
               "on tasks of the fixed layouts have NLRL's goal on(a,b)",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        c = self.config
        self.max_blocks: int = c["ood_blocks"]
        self.steps: int = c["steps"]
        self.episodes_per_trial = c["n"]
        m = self.max_blocks
        sizes = dict(zip(FACT_GROUPS, (m * (m - 1), m, m, m, 1, m * (m - 1))))
        starts = np.cumsum([0, *sizes.values()])
        #: fact group name -> the slice of the observation it occupies (``blocks``, as in keydoor)
        self.blocks: dict[str, slice] = {g: slice(int(s), int(s + n))
                                         for g, s, n in zip(FACT_GROUPS, starts, sizes.values())}
        self.observation_space = spaces.Box(0.0, 1.0, shape=(int(starts[-1]),), dtype=np.float32)
        self.action_space = spaces.Discrete(m * (m + 1))
        weights = np.array([c[k] for k in KINDS], dtype=np.float64)
        self._weights = weights / weights.sum()

    def _validate(self) -> None:
        c = self.config
        if c["ood_blocks"] <= c["blocks"]:
            raise ConfigError(f"{self.name}: ood_blocks={c['ood_blocks']} must be above blocks={c['blocks']}; "
                              f"raise ood_blocks or lower blocks")
        if sum(c[k] for k in KINDS) <= 0:
            raise ConfigError(f"{self.name}: the weights stack, unstack and on are all 0; "
                              "give one of them a weight > 0")

    def episode_steps(self) -> int:
        return self.config["steps"]

    def move(self, x: str | int, y: str | int) -> int:
        """The action moving block ``x`` onto ``y`` (names or slots; ``"floor"`` for the floor).

        Example:
            >>> import metaplastic
            >>> tasks = metaplastic.make_tasks("blocks")
            >>> tasks.move("a", "b"), tasks.move("b", "floor"), tasks.move(1, 7)
            (1, 15, 15)
        """
        slot = {name: i for i, name in enumerate(BLOCK_NAMES[: self.max_blocks])}
        slot["floor"] = self.max_blocks
        xi, yi = (slot[v] if isinstance(v, str) else int(v) for v in (x, y))
        if not (0 <= xi < self.max_blocks and 0 <= yi <= self.max_blocks):
            raise ValueError(f"{self.name}: no move({x},{y}) with {self.max_blocks} block slots")
        return xi * (self.max_blocks + 1) + yi

    def draw_params(self, rng: np.random.Generator, split: str) -> dict[str, Any]:
        c = self.config
        task = KINDS[int(rng.choice(len(KINDS), p=self._weights))]
        variant = OOD_VARIANTS[task][int(rng.integers(3))] if split == "ood" else "random"
        if variant in ("random", "more_blocks"):
            n = c["blocks"] if variant == "random" else int(rng.integers(c["blocks"] + 1, c["ood_blocks"] + 1))
            goal = tuple(int(b) for b in rng.choice(n, size=2, replace=False)) if task == "on" else None
            states = all_states(n)
            while True:
                state = states[int(rng.integers(len(states)))]
                if not satisfied(task, goal, state):
                    break
        else:
            goal = (0, 1) if task == "on" else None
            state = nlrl_layout(variant, task, c["blocks"])
        return {"task": task, "goal": goal, "columns": to_columns(state), "variant": variant}

    def _state(self, task: Task) -> tuple[str, tuple[int, int] | None, tuple[int, ...]]:
        """``(goal kind, on pair, initial state)`` of a task, checked against this family."""
        p = self.check_task(task).params
        try:
            state = from_columns(p["columns"])
            kind, goal = p["task"], p["goal"]
            ok = kind in KINDS and 0 < len(state) <= self.max_blocks
            if kind == "on":
                ok = ok and len(goal) == 2
                goal = (int(goal[0]), int(goal[1]))
                ok = ok and goal[0] != goal[1] and all(0 <= g < len(state) for g in goal)
            else:
                ok = ok and goal is None
        except (KeyError, TypeError, ValueError, IndexError):
            ok = False
        if not ok or satisfied(kind, goal, state):
            raise ConfigError(f"{self.name}: task {task.seed} does not fit this family ({self.spec}): {dict(p)}")
        return kind, goal, state

    def arrays(self, tasks: list[Task]) -> dict[str, np.ndarray]:
        """The tasks' worlds and goals as padded integer arrays (hidden; for envs and oracles):
        ``init (B, M)`` (what each slot's block stands on at reset: a slot, ``FLOOR`` or
        ``ABSENT``), ``kind (B,)`` (index in :data:`KINDS`) and ``goal (B, 2)`` (the on pair, -1)."""
        b = len(tasks)
        out = {"init": np.full((b, self.max_blocks), ABSENT, dtype=np.int64),
               "kind": np.zeros(b, dtype=np.int64),
               "goal": np.full((b, 2), -1, dtype=np.int64)}
        for i, task in enumerate(tasks):
            kind, goal, state = self._state(task)
            out["init"][i, : len(state)] = state
            out["kind"][i] = KINDS.index(kind)
            if goal is not None:
                out["goal"][i] = goal
        return out

    def rules(self, tasks: list[Task]) -> list[dict[str, Any]]:
        """Each task's hidden goal as plain data: ``{"task": "stack" | "unstack" | "on",
        "goal": ("a", "b") for on, else None}`` (hidden; for symbolic learners' scoring)."""
        out = []
        for task in tasks:
            kind, goal, _ = self._state(task)
            out.append({"task": kind, "goal": None if goal is None else (BLOCK_NAMES[goal[0]], BLOCK_NAMES[goal[1]])})
        return out

    def optimal_steps(self, task: Task) -> int:
        """The fewest moves from the task's initial state to its goal (breadth-first search):
        an optimal episode returns ``1 - 0.02 (optimal_steps - 1)``."""
        kind, goal, state = self._state(task)
        return distance(kind, goal, state)

    def make_env(self, task: Task) -> BlocksEnv:
        return BlocksEnv(self.arrays([task]), self.steps)

    def make_vector_env(self, tasks: list[Task]) -> BlocksVectorEnv:
        return BlocksVectorEnv(self.arrays(tasks), self.steps)
