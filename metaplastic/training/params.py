"""Hyperparameters every gradient-based outer loop of the library takes (RL², MAML),
declared once: the config keys mean the same in every backend that takes them.

Example:
    >>> [p.name for p in OPTIM_PARAMS]
    ['batch_tasks', 'lr', 'lr_schedule', 'max_grad_norm']
"""

from __future__ import annotations

from metaplastic.params import Param

__all__ = ["OPTIM_PARAMS", "lr_at"]

OPTIM_PARAMS = (
    Param("batch_tasks", int, 512, "tasks (one trial each) per update (at most 16384: 32x the default)", low=1,
          high=16_384),
    Param("lr", float, 3e-3, "Adam learning rate", low=0.0, low_exclusive=True),
    Param("lr_schedule", str, "constant", "learning rate over the budget: constant, or linear (from lr down to 0 "
          "at the end of the budget)", choices=("constant", "linear")),
    Param("max_grad_norm", float, 1.0, "gradient-norm clip", low=0.0, low_exclusive=True),
)


def lr_at(lr: float, schedule: str, fraction: float) -> float:
    """The learning rate when ``fraction`` of the budget is spent.

    Example:
        >>> lr_at(0.1, "linear", 0.25), lr_at(0.1, "constant", 0.25)
        (0.07500000000000001, 0.1)
    """
    return lr * (1.0 - fraction) if schedule == "linear" else lr
