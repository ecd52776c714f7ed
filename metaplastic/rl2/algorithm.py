"""The ``rl2`` algorithm of the ``torch`` backend: builds the GRU actor-critic for a task
family, trains it with the shared RL² loop and makes batched agents."""

from __future__ import annotations

from typing import Any, Callable

import torch

from metaplastic.dense.gru import GRUActorCritic
from metaplastic.rl2.agents import RL2VectorAgent
from metaplastic.runtime.encoding import TrialInputEncoder
from metaplastic.errors import ConfigError
from metaplastic.rl2.loop import settings_from, train_rl2


class RL2Algorithm:
    """RL² for a :class:`~metaplastic.backends.torch.TorchLearner` (holds no state itself)."""

    def __init__(self, learner: Any):
        self.learner = learner
        self.config = learner.config

    def make_model(self, tasks: Any) -> torch.nn.Module:
        """A new (unseeded) policy for ``tasks``' spaces; subclasses swap the network."""
        enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
        return GRUActorCritic(enc.size, tasks.action_space, hidden=self.config["hidden"], cell=self.config["cell"])

    def build(self, tasks: Any) -> torch.nn.Module:
        torch.manual_seed(self.config["seed"])
        return self.make_model(tasks).to(self.learner.device)

    def check_compatible(self, model: torch.nn.Module, tasks: Any) -> None:
        with torch.random.fork_rng(devices=[]):
            other = self.make_model(tasks)
        if [p.shape for p in other.parameters()] != [p.shape for p in model.parameters()]:
            raise ConfigError(
                f"this learner was built for {self.learner.tasks_spec}, whose observation/action spaces differ "
                f"from {getattr(tasks, 'spec', tasks)}; make a new learner for that family"
            )

    def train(self, tasks: Any, *, budget: Any, seed: int, callback: Callable[..., Any] | None,
              show_progress: bool) -> dict[str, Any]:
        learner = self.learner
        with learner.training_session() as (optimizer, progress):
            train_rl2(learner.model, optimizer, tasks, budget=budget, seed=seed, settings=settings_from(self.config),
                      progress=progress, device=learner.device, callback=callback, show_progress=show_progress)
        return dict(learner.progress)

    def vector_agent(self, tasks: Any, num_lanes: int) -> RL2VectorAgent:
        enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
        return RL2VectorAgent(self.learner.model, enc, num_lanes, greedy=self.config["greedy"], device=self.learner.device)
