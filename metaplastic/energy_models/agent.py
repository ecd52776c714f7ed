"""The agent of energy-based task inference: it infers each lane's posterior over the
task's hidden parameters from the transitions of the trial, and acts as the family's oracle
would if shown the latent value its acting rule picks (a posterior draw by default).

A :class:`~metaplastic.core.VectorAgent`: lanes share no belief; their random draws come
from one generator seeded by all lane seeds (the project's convention), so the same seeds
and batch give the same actions. Lane ``i`` draws at the start of each episode (``resample_every = 0``) or also every ``resample_every`` steps, and,
where the engine can tell (enumerated latents), as soon as its current value is ruled out.

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.energy_models.engines.base import InferenceSettings
    >>> from metaplastic.energy_models.model import default_model
    >>> tasks = metaplastic.make_tasks("gridnavi")
    >>> model = default_model(tasks.latent(), noise=0.01, relax=0.25)
    >>> agent = EnergyVectorAgent(tasks, model, 3, engine="exact", acting="posterior-sampling",
    ...                           settings=InferenceSettings())
    >>> agent.reset([0, 1, 2])
    >>> agent.act(np.zeros((3, 2)), np.ones(3, bool)).shape
    (3,)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metaplastic.baselines.oracles import oracle_class
from metaplastic.core import OpCounts, TaskDistribution
from metaplastic.energy_models.acting import acting_rule
from metaplastic.energy_models.engines import make_engine
from metaplastic.energy_models.engines.base import Belief
from metaplastic.energy_models.history import History
from metaplastic.energy_models.model import EnergyModel
from metaplastic.runtime.sampling import lanes_rng
from metaplastic.runtime.vector import SingleLaneAgent


def _dim(space: Any) -> int:
    """Numbers per observation or action (a Discrete space's value is one number)."""
    return int(np.prod(space.shape)) if space.shape else 1


class EnergyVectorAgent:
    """``num_lanes`` posterior-inference agents stepped together (see the module doc)."""

    def __init__(self, tasks: TaskDistribution, model: EnergyModel, num_lanes: int, *, engine: str, acting: str,
                 settings: Any, resample_every: int = 0):
        self.tasks, self.model = tasks, model
        self.num_lanes = int(num_lanes)
        self.engine_name, self.settings = engine, settings
        self.rule = acting_rule(acting, model)
        self.resample_every = int(resample_every)
        self.counts = OpCounts()
        self.engine = make_engine(engine, model, self.num_lanes, settings, self.counts)
        self.oracle = oracle_class(tasks)(tasks, self.num_lanes, {"ties": "random"})
        self.history = History(self.num_lanes, _dim(tasks.observation_space), _dim(tasks.action_space))
        self.rng = np.random.default_rng()

    def reset(self, seeds: Any) -> None:
        self.rng = lanes_rng(seeds, self.num_lanes)
        self.counts = OpCounts()
        self.engine.counts = self.counts
        self.engine.reset(self.rng)
        self.history.reset()
        self.oracle.reset(seeds)
        self.need = np.ones(self.num_lanes, dtype=bool)
        self.draws = np.zeros(self.num_lanes, dtype=np.int64)
        self.since = np.zeros(self.num_lanes, dtype=np.int64)
        self.current = np.zeros((self.num_lanes, self.model.dim))

    def _draw(self, lanes: np.ndarray) -> None:
        z = self.rule.choose(self.engine, lanes, self.draws[lanes], self.rng)
        self.current[lanes] = z
        tasks = self.tasks.latent_tasks(z)
        if self.oracle.revealed is None:
            first = self.tasks.latent_tasks(self.current)
            self.oracle.reveal_tasks(first)
        else:
            self.oracle.reveal_lanes(lanes, tasks)
        self.draws[lanes] += 1
        self.since[lanes] = 0
        self.need[lanes] = False

    def act(self, obs: Any, active: Any) -> np.ndarray:
        active = np.asarray(active, dtype=bool)
        if self.oracle.revealed is None:
            self._draw(np.arange(self.num_lanes))
        else:
            todo = np.flatnonzero(self.need & active)
            if todo.size:
                self._draw(todo)
        return self.oracle.act(obs, active)

    def observe(self, obs: Any, actions: Any, rewards: Any, next_obs: Any, terminated: Any, truncated: Any,
                active: Any) -> None:
        active = np.asarray(active, dtype=bool)
        lanes = np.flatnonzero(active)
        if lanes.size:
            self.history.append(lanes, np.asarray(obs)[lanes], np.asarray(actions)[lanes], np.asarray(rewards)[lanes],
                                np.asarray(next_obs)[lanes])
            self.engine.update(lanes, self.history)
            self.since[lanes] += 1
            if self.resample_every:
                self.need[lanes] |= self.since[lanes] >= self.resample_every
            self.need[lanes] |= self.engine.ruled_out(lanes, self.current[lanes])
        self.oracle.observe(obs, actions, rewards, next_obs, terminated, truncated, active)

    def end_episode(self, mask: Any) -> None:
        mask = np.asarray(mask, dtype=bool)
        self.oracle.end_episode(mask)
        self.need |= mask

    def ops(self) -> OpCounts:
        return self.oracle.ops() + OpCounts(**self.counts.as_dict())

    def posterior(self, lane: int = 0) -> Belief:
        """Lane ``lane``'s current belief over ``z`` (weighted points, for plotting)."""
        return self.engine.belief(int(lane))


class EnergyAgent(SingleLaneAgent):
    """One agent (a :class:`~metaplastic.core.InferenceAgent`): ``posterior()`` is its belief."""

    def posterior(self) -> Belief:
        """The current belief over the task's hidden parameters."""
        return self.inner.posterior(0)
