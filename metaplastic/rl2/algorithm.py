"""RL² as an algorithm object, given a model factory: it builds the recurrent policy for a
task family, trains it with the shared RL² loop (:func:`~metaplastic.rl2.loop.train_rl2`)
and makes batched agents (:class:`~metaplastic.rl2.agents.RL2VectorAgent`). It holds no
training state: the state is created by :meth:`RL2.init_state` and passed in and out.

The dense GRU (``torch`` backend) and the spiking networks (``snntorch`` backend) differ
only in the factory they hand it.

Example:
    >>> import metaplastic
    >>> from metaplastic.dense.gru import GRUActorCritic
    >>> algo = RL2(lambda tasks, enc: GRUActorCritic(enc.size, tasks.action_space, hidden=4),
    ...            {"batch_tasks": 4, "lr": 0.01, "seed": 0})
    >>> tasks = metaplastic.make_tasks("bandits:k=2,n=3")
    >>> state = algo.init_state(algo.build(tasks), seed=0)
    >>> algo.train(state, tasks, budget=2, show_progress=False).progress.updates
    2
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from metaplastic.rl2.agents import RL2VectorAgent
from metaplastic.rl2.loop import train_rl2
from metaplastic.nn.activity import require_activity
from metaplastic.rl2.params import settings_from_config
from metaplastic.runtime.encoding import TrialInputEncoder
from metaplastic.training.state import TrainState

__all__ = ["RL2", "ModelFactory"]

#: ``factory(tasks, encoder) -> policy``: a new (unseeded) recurrent policy for the family.
ModelFactory = Callable[[Any, TrialInputEncoder], torch.nn.Module]


class RL2:
    """RL² for the models ``make_model`` builds, with the hyperparameters in ``config``."""

    def __init__(self, make_model: ModelFactory, config: Mapping[str, Any], device: str = "cpu"):
        self.make_model, self.config, self.device = make_model, config, device

    def _fresh(self, tasks: Any) -> torch.nn.Module:
        return self.make_model(tasks, TrialInputEncoder(tasks.observation_space, tasks.action_space))

    def build(self, tasks: Any) -> torch.nn.Module:
        """A new policy for ``tasks``' spaces, initialized from the config's seed."""
        torch.manual_seed(self.config["seed"])
        model = self._fresh(tasks).to(self.device)
        require_activity(model, self.config.get("energy_coef", 0.0))
        return model

    def fits(self, model: torch.nn.Module, tasks: Any) -> bool:
        """Whether ``model`` has the shapes this algorithm would build for ``tasks``."""
        with torch.random.fork_rng(devices=[]):
            other = self._fresh(tasks)
        return [p.shape for p in other.parameters()] == [p.shape for p in model.parameters()]

    def init_state(self, model: torch.nn.Module, *, seed: int, optimizer_state: Any = None,
                   progress: Any = None) -> TrainState:
        """The training state of ``model``: Adam at the config's ``lr`` (restored from
        ``optimizer_state`` when resuming) and the progress so far."""
        from metaplastic.training.state import TrainProgress

        optimizer = torch.optim.Adam(model.parameters(), lr=self.config["lr"])
        if optimizer_state is not None:
            optimizer.load_state_dict(optimizer_state)
        return TrainState(seed=seed, params=model, optimizer=optimizer, progress=progress or TrainProgress())

    def train(self, state: TrainState, tasks: Any, *, budget: Any, callback: Callable[..., Any] | None = None,
              show_progress: bool = True) -> TrainState:
        """RL² updates until ``budget``; returns ``state`` advanced."""
        return train_rl2(state, tasks, budget=budget, settings=settings_from_config(self.config), device=self.device,
                         callback=callback, show_progress=show_progress)

    def vector_agent(self, model: torch.nn.Module, tasks: Any, num_lanes: int) -> RL2VectorAgent:
        """``num_lanes`` agents running ``model``."""
        enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
        return RL2VectorAgent(model, enc, num_lanes, greedy=bool(self.config.get("greedy", False)), device=self.device)
