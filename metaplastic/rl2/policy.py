"""The interface a recurrent policy gives the shared RL² trainer and agents.

Example:
    >>> import torch
    >>> from gymnasium import spaces
    >>> from metaplastic.dense.gru import GRUActorCritic
    >>> pol = GRUActorCritic(input_size=9, action_space=spaces.Discrete(5), hidden=16)
    >>> state = pol.initial_state(3)
    >>> params, value, state = pol.step(torch.zeros(3, 9), state)
    >>> value.shape
    torch.Size([3])
"""

from __future__ import annotations

from typing import Any, Protocol

import torch

from metaplastic.core import OpCounts


class RecurrentPolicy(Protocol):
    """A recurrent actor-critic over RL²'s trial inputs.

    ``head`` is an action head from :mod:`metaplastic.nn.heads`. ``step`` maps a
    ``(B, input_size)`` input and the state to the head's distribution parameters, a
    ``(B,)`` value (``None`` with ``with_value=False``: agents do not run the
    training-only value head) and the next state. ``select_state`` keeps the old state where
    ``mask`` is false (lanes that did not decide). ``step_ops(active)`` counts what
    the last step executed in the lanes where ``active`` is true (called after the step,
    so a spiking network can count the spikes it actually delivered).
    """

    head: Any

    def initial_state(self, batch: int) -> Any: ...

    def step(self, x: torch.Tensor, state: Any, with_value: bool = True) -> tuple[torch.Tensor, Any, Any]: ...

    def select_state(self, mask: torch.Tensor, new: Any, old: Any) -> Any: ...

    def step_ops(self, active: Any) -> OpCounts: ...

    def parameters(self) -> Any: ...
