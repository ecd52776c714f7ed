"""The shared machinery of a task family: declared parameters, splits and task seeds.

Task seeds are disjoint between splits by construction: the two low bits of a task's
seed encode its split, so no ``train`` task is ever a ``test`` or ``ood`` task, whatever
the sampling seeds. A task's hidden parameters are drawn from its own seed, so a task is
reproducible from ``(family config, seed)`` alone.

Sizes are bounded (issue 13, Must 8), so a typo cannot start a run that never ends or
allocates until the machine runs out: each size parameter has a documented upper bound
(its ``high``, listed by ``metaplastic tasks``), a trial is at most
:data:`MAX_TRIAL_STEPS` decisions (episodes x steps per episode), and a family may bound
a product of its parameters (bandits: ``k x n``; mdp: ``n_states² x n_actions``). Going
over any of them is a one-line :class:`~metaplastic.errors.LimitExceeded` (a
:class:`~metaplastic.errors.ConfigError`).
:meth:`TaskFamily.task_bytes` estimates one task's memory, which ``evaluate`` checks
against the memory available.

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("bandits:k=3,n=5")
    >>> train = tasks.sample(4, seed=0, split="train")
    >>> test = tasks.sample(4, seed=0, split="test")
    >>> {t.seed for t in train} & {t.seed for t in test}
    set()
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import gymnasium
import numpy as np

from metaplastic.core import Task
from metaplastic.errors import ConfigError, LimitExceeded
from metaplastic.params import Param, coerce, format_spec, with_defaults

#: The splits a family offers (one without a split refuses it in one line: Meta-World has
#: no ood), and the code each leaves in a task seed's low bits.
SPLITS: Mapping[str, int] = {"train": 0, "test": 1, "ood": 2}
_SEED_HIGH = 2**61

#: The most decisions one trial may take (episodes x steps per episode): a thousand times
#: the published settings (RL² bandits n=500, MDPs n=100 x horizon 10; CartPole 2 x 500).
MAX_TRIAL_STEPS = 1_000_000


class TaskFamily:
    """Base class for task families (a :class:`~metaplastic.core.TaskDistribution`).

    A subclass sets ``name``, ``params`` (the declared :class:`~metaplastic.params.Param`
    tuple) and implements :meth:`draw_params` and :meth:`make_env`; it may offer a batched
    fast path with :meth:`make_vector_env`.
    """

    name: ClassVar[str] = ""
    #: the strongest classical baseline of the family, the reference of normalized scores
    reference: ClassVar[str] = "oracle"
    params: ClassVar[tuple[Param, ...]] = ()
    splits: ClassVar[tuple[str, ...]] = tuple(SPLITS)
    split_doc: ClassVar[Mapping[str, str]] = {}

    observation_space: gymnasium.Space
    action_space: gymnasium.Space
    episodes_per_trial: int

    def __init__(self, **params: Any) -> None:
        given = coerce(self.name, self.params, params)  # a size above its documented limit: LimitExceeded
        self.config: dict[str, Any] = with_defaults(self.params, given)
        self._validate()
        if isinstance(self.config.get("n"), int):  # every built-in family: n episodes per trial
            self.check_trial(self.config["n"])

    def _validate(self) -> None:
        """Cross-parameter checks (raise :class:`ConfigError`, or :class:`LimitExceeded`
        for a size over its limit)."""

    # -- limits ---------------------------------------------------------------------------
    def episode_steps(self) -> int | None:
        """The most steps one episode takes (its truncation), or ``None`` when the config
        does not bound it."""
        return None

    def task_bytes(self) -> int:
        """About how many bytes one task holds in memory: its :class:`~metaplastic.core.Task`
        (hidden parameters as Python objects) and its lane of a batched env."""
        return 1024

    def check_trial(self, episodes: int) -> None:
        """Refuse a trial of ``episodes`` episodes longer than :data:`MAX_TRIAL_STEPS`
        decisions (a one-line :class:`LimitExceeded`).

        Example:
            >>> import metaplastic
            >>> metaplastic.make_tasks("mdp:horizon=10").check_trial(200_000)
            Traceback (most recent call last):
            ...
            metaplastic.errors.LimitExceeded: mdp: a trial of 200000 episodes x 10 steps = 2000000 decisions is above the limit of 1000000 decisions per trial; use fewer or shorter episodes
        """
        steps = self.episode_steps()
        if steps is not None and episodes * steps > MAX_TRIAL_STEPS:
            raise LimitExceeded(
                f"{self.name}: a trial of {episodes} episodes x {steps} steps = {episodes * steps} decisions is above "
                f"the limit of {MAX_TRIAL_STEPS} decisions per trial; use fewer or shorter episodes")

    @property
    def spec(self) -> str:
        """The full spec string that rebuilds this distribution."""
        return format_spec(self.name, self.config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"

    def check_split(self, split: str) -> str:
        if split not in self.splits:
            raise ConfigError(f"{self.name}: unknown split {split!r}; use one of {', '.join(self.splits)}")
        return split

    def sample(self, n: int, *, seed: int, split: str = "train") -> list[Task]:
        """Draw ``n`` tasks of ``split`` reproducibly from ``seed``."""
        self.check_split(split)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ConfigError(f"{self.name}: the number of tasks must be an integer >= 0, got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"{self.name}: seed must be an integer >= 0, got {seed!r}")
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(SPLITS[split],)))
        highs = rng.integers(0, _SEED_HIGH, size=int(n))
        tasks = []
        for high in highs:
            task_seed = (int(high) << 2) | SPLITS[split]
            params = self.draw_params(np.random.default_rng(task_seed), split)
            tasks.append(Task(family=self.name, params=params, seed=task_seed))
        return tasks

    @staticmethod
    def split_of(task: Task) -> str:
        """The split a task was drawn from (decoded from its seed)."""
        code = task.seed & 3
        for name, c in SPLITS.items():
            if c == code:
                return name
        raise ConfigError(f"task seed {task.seed} encodes no split")

    def check_task(self, task: Task) -> Task:
        if not isinstance(task, Task):
            raise ConfigError(f"{self.name}: expected a metaplastic.core.Task, got {type(task).__name__}")
        if task.family != self.name:
            raise ConfigError(f"{self.name}: got a task of family {task.family!r}; build its env with that family")
        return task

    # -- to implement -------------------------------------------------------------------
    def draw_params(self, rng: np.random.Generator, split: str) -> dict[str, Any]:
        """The hidden parameters of one task of ``split``, drawn from ``rng``."""
        raise NotImplementedError

    def make_env(self, task: Task) -> gymnasium.Env:
        """A gymnasium env that plays ``task``."""
        raise NotImplementedError

    def make_vector_env(self, tasks: list[Task]) -> gymnasium.vector.VectorEnv:
        """A batched numpy env stepping every task at once (the training fast path)."""
        raise NotImplementedError(f"{self.name} has no batched fast path")

    # -- description ----------------------------------------------------------------------
    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Parameters, defaults and splits, for ``metaplastic tasks``."""
        return {
            "name": cls.name,
            "doc": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
            "params": [
                {"name": p.name, "type": p.type.__name__, "default": p.default, "range": p.describe_range(), "doc": p.doc}
                for p in cls.params
            ],
            "splits": {s: cls.split_doc.get(s, "") for s in cls.splits},
        }


def task_spec(tasks: Any) -> str:
    """The spec string that rebuilds ``tasks`` with ``make_tasks``: a :class:`TaskFamily`'s
    full ``spec``, else (a plugin's plain :class:`~metaplastic.core.TaskDistribution`) its name.

    Example:
        >>> import metaplastic
        >>> task_spec(metaplastic.make_tasks("bandits:k=3"))
        'bandits:k=3,n=10,a=1,b=1,ood_a=0.5,ood_b=0.5'
    """
    return tasks.spec if isinstance(tasks, TaskFamily) else tasks.name
