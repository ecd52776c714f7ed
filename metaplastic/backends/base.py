"""Shared plumbing for built-in backends: config validation, run directories, seeding and
op counting. Third-party backends need not use it; the contract is in
:mod:`metaplastic.core`.

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("random", seed=3)
    >>> learner.config["seed"]
    3
"""

from __future__ import annotations

import copy
import os
from dataclasses import replace
from typing import Any, Callable, ClassVar

import gymnasium
import numpy as np

from metaplastic.core import Agent, Capabilities, OpCounts, TaskDistribution, Transition
from metaplastic.errors import MetaplasticError
from metaplastic.observations import check_observation
from metaplastic.params import Param, coerce, with_defaults
from metaplastic.rundir import read_config, write_config

SEED_PARAM = Param("seed", int, 0, "seed of the learner's own randomness", low=0)


class BaseAgent:
    """An agent that checks its observations, owns its RNG and counts its decisions.

    Subclasses implement ``_reset``, ``_act`` and optionally ``_observe`` /
    ``_end_episode``, adding what they execute to ``self.counts``.
    """

    def __init__(self, observation_space: gymnasium.Space, action_space: gymnasium.Space):
        self.observation_space = copy.deepcopy(observation_space)
        self.action_space = copy.deepcopy(action_space)
        self.counts = OpCounts()
        self.rng = np.random.default_rng()
        self._started = False

    def reset(self, *, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.action_space.seed(int(self.rng.integers(2**63 - 1)))
        self.counts = OpCounts()
        self._started = True
        self._reset()

    def act(self, obs: Any) -> Any:
        if not self._started:
            raise MetaplasticError("call agent.reset(seed=...) before agent.act(); a trial starts with reset")
        x = check_observation(self.observation_space, obs)
        self.counts.decisions += 1
        return self._act(x)

    def observe(self, transition: Transition) -> None:
        self._observe(transition)

    def end_episode(self) -> None:
        self._end_episode()

    def ops(self) -> OpCounts:
        return replace(self.counts)

    # -- to implement ------------------------------------------------------------------
    def _reset(self) -> None:
        pass

    def _act(self, obs: Any) -> Any:
        raise NotImplementedError

    def _observe(self, transition: Transition) -> None:
        pass

    def _end_episode(self) -> None:
        pass


class BaseLearner:
    """A meta-learner with declared config keys (``config_params``) and a run directory.

    ``save(path)`` writes ``config.json`` (``{"backend": name, "config": {...}}``) and then
    whatever ``_save_state`` adds; ``load(path)`` rebuilds from the config and calls
    ``_load_state``.
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    config_params: ClassVar[tuple[Param, ...]] = (SEED_PARAM,)

    def __init__(self, **config: Any) -> None:
        self.config: dict[str, Any] = with_defaults(
            self.config_params, coerce(f"backend {self.name}", self.config_params, config)
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config}>"

    def meta_train(
        self, tasks: TaskDistribution, *, budget: Any, seed: int, callback: Callable[..., Any] | None = None
    ) -> Any:
        if not self.capabilities.meta_train:
            raise MetaplasticError(
                f"backend {self.name!r} has no meta-training (capabilities.meta_train is False); evaluate it as it is"
            )
        raise NotImplementedError(f"backend {self.name!r} declares meta_train but does not implement it")

    def agent(self, tasks: TaskDistribution) -> Agent:
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> None:
        self._save_state(path)
        write_config(path, backend=self.name, config=self.config)  # last: marks the run complete

    @classmethod
    def load(cls, path: str | os.PathLike) -> "BaseLearner":
        doc = read_config(path, expect_backend=cls.name)
        try:
            learner = cls(**doc["config"])
        except MetaplasticError as exc:
            raise MetaplasticError(f"config.json in {str(path)!r} is invalid: {exc}") from None
        learner._load_state(path)
        return learner

    def _save_state(self, path: str | os.PathLike) -> None:
        pass

    def _load_state(self, path: str | os.PathLike) -> None:
        pass
