"""``ActivityCost``: a model that reports the differentiable activity of its last step, so
that an outer loop can penalize it (energy-aware meta-training, ``energy_coef``).

A spiking policy's activity is its firing rate in the step just taken: spikes emitted over
its sub-steps, per neuron and sub-step, through the surrogate gradient (so the penalty
lowers firing where the return allows). The RL² loss adds ``energy_coef`` times its mean
over the deciding lanes (:func:`metaplastic.rl2.a2c.a2c_loss`). Spikes drive every
event-driven operation a neuromorphic chip prices (synaptic events, spike energy), so the
rate is the part of the modelled energy that training can change.

Example:
    >>> import torch
    >>> class Toy(torch.nn.Module):
    ...     def activity(self):
    ...         return torch.ones(3)
    >>> isinstance(Toy(), ActivityCost), isinstance(torch.nn.Linear(1, 1), ActivityCost)
    (True, False)
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from metaplastic.errors import ConfigError

__all__ = ["ActivityCost", "require_activity"]


@runtime_checkable
class ActivityCost(Protocol):
    """``activity()``: (B,) firing rate of each lane in the last step, differentiable."""

    def activity(self) -> torch.Tensor: ...


def require_activity(model: object, energy_coef: float) -> None:
    """A one-line :class:`ConfigError` when ``energy_coef`` asks to penalize the activity of
    a model that reports none.

    Example:
        >>> require_activity(torch.nn.Linear(1, 1), 0.0)  # no penalty: any model
        >>> require_activity(torch.nn.Linear(1, 1), 0.1)
        Traceback (most recent call last):
        ...
        metaplastic.errors.ConfigError: energy_coef=0.1 penalizes a policy's firing rate, and this Linear reports none; use a spiking backend (snntorch) or energy_coef=0
    """
    if energy_coef > 0 and not isinstance(model, ActivityCost):
        raise ConfigError(f"energy_coef={energy_coef:g} penalizes a policy's firing rate, and this "
                          f"{type(model).__name__} reports none; use a spiking backend (snntorch) or energy_coef=0")
