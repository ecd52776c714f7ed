"""Meta-World (Yu et al. 2019, v3 environments of ``metaworld`` 3.x; extra ``metaworld``):
a Sawyer arm's manipulation tasks, as Meta-World's meta-learning benchmarks define them.

``metaworld:benchmark=ML1,env=reach-v3`` is one environment whose tasks differ in their
hidden goal (and object) positions: its ``train`` tasks are the benchmark's 50 train
goals, its ``test`` tasks its 50 test goals. ``metaworld:benchmark=ML10`` trains on 10
environments (50 goals each) and tests on 5 held-out ones. Meta-World defines no third
split, so this family has no ``ood``. Which goals are in which split is Meta-World's own
draw from ``benchmark_seed``.

A trial follows Meta-World's meta-learning evaluation (``metaworld.evaluation.
metalearning_evaluation``): ``adapt_episodes`` episodes on the task (10 there), then
``eval_episodes`` evaluation episodes (3 there) that are scored; an episode succeeds if
Meta-World's ``info["success"]`` is set at any of its steps, and the success rate over the
evaluation episodes is the headline metric (:class:`~metaplastic.core.SuccessFamily`). An
episode truncates after ``max_steps`` steps (500, Meta-World's ``max_path_length``); the
goal is hidden (the observation's last three entries are zero). The Meta-World version
and the reward function version are recorded with every result (:meth:`versions`).

Environments are expensive to build (~0.1 s each), so the family keeps the ones it built
and hands them out again (``set_task`` on a built env is cheap); an env is reused only
after the env or vector env holding it is closed.

Example (needs ``pip install 'metaplastic[metaworld]'``; a second or so)::

    tasks = metaplastic.make_tasks("metaworld:benchmark=ML1,env=reach-v3")
    env = tasks.make_env(tasks.sample(1, seed=0, split="test")[0])
    obs, info = env.reset(seed=0)          # obs.shape == (39,)
"""

from __future__ import annotations

import functools
import importlib.metadata
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from metaplastic.core import Task
from metaplastic.errors import ConfigError
from metaplastic.params import Param
from metaplastic.tasks.base import TaskFamily

__all__ = ["MetaWorld", "MetaWorldEnv"]

BENCHMARKS = ("ML1", "ML10")
MAX_PATH_LENGTH = 500  # Meta-World's episode length


def _metaworld() -> Any:
    try:
        import metaworld
    except ImportError:
        raise ConfigError("task family metaworld needs Meta-World; install it with: "
                          "pip install 'metaplastic[metaworld]'") from None
    return metaworld


@functools.lru_cache(maxsize=8)
def _benchmark(name: str, env: str, seed: int) -> Any:
    """Meta-World's benchmark object (its env classes and its train and test tasks)."""
    mw = _metaworld()
    if name == "ML1":
        return mw.ML1(env, seed=seed)
    return mw.ML10(seed=seed)


class MetaWorldEnv(gymnasium.Env):
    """One Meta-World task with the family's spaces: truncates after ``max_steps`` steps;
    ``info["success"]`` is Meta-World's (set while the task is solved). Closing it returns
    the Meta-World env to the family's pool."""

    metadata = {"render_modes": []}

    def __init__(self, env: Any, *, max_steps: int, observation_space: spaces.Box, name: str = "", release: Any = None):
        self.env, self.name, self.max_steps, self._release = env, name, int(max_steps), release
        self.observation_space = observation_space
        self.action_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)  # Meta-World's reset ignores seeds: a task's episodes all start alike
        obs, info = self.env.reset()
        self.t = 0
        return np.asarray(obs, dtype=np.float64), dict(info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(np.asarray(action, dtype=np.float32))
        self.t += 1
        truncated = bool(truncated) or self.t >= self.max_steps
        return np.asarray(obs, dtype=np.float64), float(reward), bool(terminated), truncated, dict(info)

    def close(self) -> None:
        if self._release is not None:
            self._release(self.name, self.env)
            self._release = None


class MetaWorld(TaskFamily):
    """Meta-World's ML1 and ML10 meta-learning benchmarks (success rate as the metric)."""

    name = "metaworld"
    reference = "random"
    params = (
        Param("benchmark", str, "ML1", "Meta-World benchmark: ML1 (one environment, its train and test goals) or "
              "ML10 (10 train environments, 5 held-out test environments)", choices=BENCHMARKS),
        Param("env", str, "reach-v3", "ML1: the environment (a Meta-World v3 name, e.g. reach-v3, push-v3)"),
        Param("adapt_episodes", int, 10, "episodes a trial adapts on before it is scored (Meta-World: 10)", low=0,
              high=1000),
        Param("eval_episodes", int, 3, "scored episodes after adaptation (Meta-World: 3)", low=1, high=1000),
        Param("max_steps", int, MAX_PATH_LENGTH, "steps after which an episode truncates (Meta-World: 500)", low=1,
              high=MAX_PATH_LENGTH),
        Param("benchmark_seed", int, 0, "the benchmark's seed: which goals Meta-World puts in its train and test tasks",
              low=0, high=2**31 - 1),
        Param("reward_version", str, "v2", "Meta-World's reward function version", choices=("v1", "v2")),
    )
    splits = ("train", "test")
    split_doc = {
        "train": "the benchmark's train tasks (ML1: 50 goals; ML10: 50 goals in each of 10 environments)",
        "test": "the benchmark's test tasks (ML1: 50 other goals; ML10: 5 held-out environments, 50 goals each)",
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        c = self.config
        self.episodes_per_trial = c["adapt_episodes"] + c["eval_episodes"]
        self.check_trial(self.episodes_per_trial)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self._pool: dict[str, list[Any]] = {}
        self._space: spaces.Box | None = None

    def _validate(self) -> None:
        c = self.config
        mw = _metaworld()
        if c["benchmark"] == "ML1":
            names = sorted(mw.env_dict.ALL_V3_ENVIRONMENTS)
            if c["env"] not in names:
                near = [n for n in names if n.split("-")[0] == c["env"].split("-")[0]]
                raise ConfigError(f"metaworld: unknown environment {c['env']!r}"
                                  + (f"; did you mean {near[0]!r}?" if near else "") + f" (one of {len(names)} "
                                  "Meta-World v3 environments, e.g. reach-v3, push-v3, pick-place-v3)")

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pool": {}}  # built MuJoCo envs stay where they were built

    # -- Meta-World's objects -------------------------------------------------------------------
    def benchmark(self) -> Any:
        """Meta-World's benchmark object for this config (built once per process)."""
        c = self.config
        return _benchmark(c["benchmark"], c["env"], c["benchmark_seed"])

    def _mw_tasks(self, split: str) -> list[Any]:
        bench = self.benchmark()
        return list(bench.train_tasks if self.check_split(split) == "train" else bench.test_tasks)

    def _classes(self) -> dict[str, type]:
        bench = self.benchmark()
        return {**bench.train_classes, **bench.test_classes}

    def _acquire(self, env_name: str) -> Any:
        free = self._pool.setdefault(env_name, [])
        if free:
            return free.pop()
        return self._classes()[env_name](reward_function_version=self.config["reward_version"])

    def _release(self, env_name: str, env: Any) -> None:
        self._pool.setdefault(env_name, []).append(env)

    @property
    def observation_space(self) -> spaces.Box:  # type: ignore[override]
        """One space for every environment of the benchmark (the union of their bounds;
        some entries are unbounded in Meta-World)."""
        if self._space is None:
            lows, highs = [], []
            for name in self._classes():
                env = self._acquire(name)
                lows.append(np.asarray(env.observation_space.low, dtype=np.float64))
                highs.append(np.asarray(env.observation_space.high, dtype=np.float64))
                self._release(name, env)
            self._space = spaces.Box(np.minimum.reduce(lows), np.maximum.reduce(highs), dtype=np.float64)
        return self._space

    def versions(self) -> dict[str, str]:
        """What a result depends on beyond the spec: Meta-World's version and its reward
        function version (:class:`~metaplastic.core.Versioned`)."""
        return {"metaworld": importlib.metadata.version("metaworld"), "reward_version": self.config["reward_version"]}

    def scored_episodes(self) -> range:
        """The episodes of a trial whose success is scored: the evaluation episodes after
        adaptation (:class:`~metaplastic.core.SuccessFamily`)."""
        c = self.config
        return range(c["adapt_episodes"], c["adapt_episodes"] + c["eval_episodes"])

    # -- the family ------------------------------------------------------------------------------
    def episode_steps(self) -> int:
        return self.config["max_steps"]

    def task_bytes(self) -> int:
        return 8 * 1024 * 1024  # a built MuJoCo env (model, data) per lane

    def draw_params(self, rng: np.random.Generator, split: str) -> dict[str, Any]:
        listed = self._mw_tasks(split)
        i = int(rng.integers(len(listed)))
        return {"env": listed[i].env_name, "index": i}

    def _mw_task(self, task: Task) -> Any:
        self.check_task(task)
        listed = self._mw_tasks(self.split_of(task))
        i = int(task.params["index"])
        if not 0 <= i < len(listed) or listed[i].env_name != task.params["env"]:
            raise ConfigError(f"metaworld: task {task.params} is not in {self.spec}'s {self.split_of(task)} tasks; "
                              "sample tasks from this family")
        return listed[i]

    def make_env(self, task: Task) -> MetaWorldEnv:
        mw_task = self._mw_task(task)
        env = self._acquire(mw_task.env_name)
        env.set_task(mw_task)
        return MetaWorldEnv(env, max_steps=self.config["max_steps"], observation_space=self.observation_space,
                            name=mw_task.env_name, release=self._release)

    def make_vector_env(self, tasks: list[Task]) -> SyncVectorEnv:
        """The tasks' envs stepped one after another in this process (MuJoCo steps dominate),
        resetting a finished lane on the same step."""
        envs = [self.make_env(t) for t in tasks]
        return SyncVectorEnv([functools.partial(lambda e: e, e) for e in envs], copy=False,
                             autoreset_mode=AutoresetMode.SAME_STEP)
