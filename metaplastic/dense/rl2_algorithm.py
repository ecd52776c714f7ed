"""The ``rl2`` algorithm of the ``torch`` backend: builds the GRU actor-critic for a task
family, trains it with the shared RL² loop and makes batched agents."""

from __future__ import annotations

from typing import Any, Callable

import torch

from metaplastic.dense.rl2 import GRUActorCritic, RL2VectorAgent
from metaplastic.encoding import TrialInputEncoder
from metaplastic.errors import ConfigError
from metaplastic.training.loop import TrainProgress, settings_from, train_rl2


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
        learner, model = self.learner, self.learner.model
        settings = settings_from(self.config)
        optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
        if learner._optimizer_state is not None:
            optimizer.load_state_dict(learner._optimizer_state)
        progress = TrainProgress(**{k: learner.progress.get(k, 0) for k in ("updates", "seconds", "tasks_seen")})
        learner.optimizer = optimizer

        def on_update(metrics: dict[str, Any]) -> None:
            learner.progress = {"updates": progress.updates, "seconds": progress.seconds, "tasks_seen": progress.tasks_seen}
            if callback is not None:
                callback(metrics)

        model.train()
        try:
            train_rl2(model, optimizer, tasks, budget=budget, seed=seed, settings=settings, progress=progress,
                      device=learner.device, callback=on_update, show_progress=show_progress)
        finally:
            learner._optimizer_state = optimizer.state_dict()
            learner.optimizer = None
            model.eval()
        learner.progress = {"updates": progress.updates, "seconds": progress.seconds, "tasks_seen": progress.tasks_seen}
        return dict(learner.progress)

    def vector_agent(self, tasks: Any, num_lanes: int) -> RL2VectorAgent:
        enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
        return RL2VectorAgent(self.learner.model, enc, num_lanes, greedy=self.config["greedy"], device=self.learner.device)
