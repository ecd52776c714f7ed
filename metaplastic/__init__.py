"""metaplastic: meta-reinforcement learning on brain-inspired compute.

One backend-agnostic API meta-trains a learner on a distribution of tasks and measures
how fast its agents adapt to new ones, how long each decision takes and what it costs.

Example:
    >>> import metaplastic
    >>> res = metaplastic.evaluate(metaplastic.make("random"), metaplastic.make_tasks("bandits:k=5,n=10"),
    ...                            n_tasks=20, seed=0)
    >>> res.n_tasks
    20

``import metaplastic`` imports numpy and gymnasium only; backends load their heavy
dependencies (torch, pyro, lava) when :func:`make` builds them.
"""

from importlib.metadata import PackageNotFoundError, version

from metaplastic.api import available, backends, load, make, make_tasks, task_families
from metaplastic.evaluation import Evaluation, evaluate

try:
    __version__ = version("metaplastic")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "available",
    "backends",
    "evaluate",
    "Evaluation",
    "load",
    "make",
    "make_tasks",
    "task_families",
]
