"""The ``random`` backend: uniform random actions, the floor of every normalized score.

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    >>> agent = metaplastic.make("random").agent(tasks)
    >>> agent.reset(seed=0)
    >>> 0 <= int(agent.act([0.0])) < 5
    True
"""

from __future__ import annotations

from typing import Any

from metaplastic.backends.base import BaseAgent, BaseLearner
from metaplastic.core import Agent, Capabilities, TaskDistribution


class RandomAgent(BaseAgent):
    """Samples its action space; reads nothing and adapts to nothing."""

    def _act(self, obs: Any) -> Any:
        return self.action_space.sample()


class RandomLearner(BaseLearner):
    """Uniform random actions over any action space (the score's zero point)."""

    name = "random"
    capabilities = Capabilities()

    def agent(self, tasks: TaskDistribution) -> Agent:
        return RandomAgent(tasks.observation_space, tasks.action_space)
