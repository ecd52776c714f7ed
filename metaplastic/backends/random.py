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

from metaplastic.backends.baselines import ANY_FAMILY, BaselineLearner


class RandomLearner(BaselineLearner):
    """Uniform random actions over any action space (the score's zero point)."""

    name = "random"
    implementations = {ANY_FAMILY: "metaplastic.baselines.random_policy:RandomPolicy"}
