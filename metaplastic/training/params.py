"""Hyperparameters every gradient-based outer loop of the library takes (RL², MAML),
declared once: the config keys mean the same in every backend that takes them.

Example:
    >>> [p.name for p in OPTIM_PARAMS]
    ['batch_tasks', 'lr', 'lr_schedule', 'max_grad_norm']
"""

from __future__ import annotations

from metaplastic.params import Param

__all__ = ["OPTIM_PARAMS", "EXECUTOR_PARAMS", "SHARD_PARAMS", "lr_at"]

OPTIM_PARAMS = (
    Param("batch_tasks", int, 512, "tasks (one trial each) per update (at most 16384: 32x the default)", low=1,
          high=16_384),
    Param("lr", float, 3e-3, "Adam learning rate", low=0.0, low_exclusive=True),
    Param("lr_schedule", str, "constant", "learning rate over the budget: constant, or linear (from lr down to 0 "
          "at the end of the budget)", choices=("constant", "linear")),
    Param("max_grad_norm", float, 1.0, "gradient-norm clip", low=0.0, low_exclusive=True),
)


#: Where an outer loop's jobs run (metaplastic.training.executors): an ES population's
#: members, or the shards of a gradient update's batch.
EXECUTOR_PARAMS = (
    Param("executor", str, "inprocess", "where the outer loop's jobs run (a name in "
          "metaplastic.training.executors.EXECUTORS: inprocess, process, ray (extra ray; RAY_ADDRESS or --ray-address "
          "joins a cluster, else a local one starts), or one registered there)"),
    Param("workers", int, 0, "workers of the process or ray executor (0: one per CPU core, or per CPU of the Ray "
          "cluster)", low=0),
)

#: The keys of a gradient method whose batch can be split over an executor (nn/shards.py).
SHARD_PARAMS = (
    Param("shards", int, 1, "split each update's batch of tasks into this many jobs on the executor (each plays "
          "its own tasks and returns its gradient; advantages are normalized per shard); the result depends on "
          "shards, never on the executor; 1 with executor=inprocess: the unsharded loop", low=1, high=4096),
    *EXECUTOR_PARAMS,
)


def lr_at(lr: float, schedule: str, fraction: float) -> float:
    """The learning rate when ``fraction`` of the budget is spent.

    Example:
        >>> lr_at(0.1, "linear", 0.25), lr_at(0.1, "constant", 0.25)
        (0.07500000000000001, 0.1)
    """
    return lr * (1.0 - fraction) if schedule == "linear" else lr
