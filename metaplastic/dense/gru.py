"""RL²'s recurrent actor-critic (Duan et al. 2016): a GRU (or LSTM) over the trial inputs
(observation, previous action, previous reward, boundary flag) with an action head and a
value head; its state carries across the episodes of a trial and is reset between trials.

Example:
    >>> import torch
    >>> from gymnasium import spaces
    >>> pol = GRUActorCritic(input_size=9, action_space=spaces.Discrete(5), hidden=16)
    >>> params, value, state = pol.step(torch.zeros(3, 9), pol.initial_state(3))
    >>> params.shape, value.shape
    (torch.Size([3, 5]), torch.Size([3]))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from metaplastic.nn.ops import step_ops
from metaplastic.core import OpCounts
from metaplastic.errors import ConfigError
from metaplastic.nn.heads import make_head


class GRUActorCritic(nn.Module):
    """A recurrent actor-critic (:class:`~metaplastic.rl2.policy.RecurrentPolicy`)."""

    def __init__(self, input_size: int, action_space: spaces.Space, hidden: int = 128, cell: str = "gru"):
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ConfigError(f"cell must be gru or lstm, got {cell!r}")
        self.cell_type, self.hidden = cell, int(hidden)
        self.core = nn.GRUCell(input_size, hidden) if cell == "gru" else nn.LSTMCell(input_size, hidden)
        self.head = make_head(action_space, hidden)
        self.value = nn.Linear(hidden, 1)

    def _device(self) -> torch.device:
        return self.value.weight.device

    def initial_state(self, batch: int) -> Any:
        z = torch.zeros(batch, self.hidden, device=self._device())
        return z if self.cell_type == "gru" else (z, z.clone())

    def step(self, x: torch.Tensor, state: Any, with_value: bool = True) -> tuple[torch.Tensor, Any, Any]:
        state = self.core(x, state)
        h = state if self.cell_type == "gru" else state[0]
        return self.head(h), self.value(h)[:, 0] if with_value else None, state

    def select_state(self, mask: torch.Tensor, new: Any, old: Any) -> Any:
        m = mask[:, None]
        if self.cell_type == "gru":
            return torch.where(m, new, old)
        return tuple(torch.where(m, n, o) for n, o in zip(new, old))

    def step_ops(self, active: np.ndarray) -> OpCounts:
        """Ops of one decision: the recurrent core and the action head (the value head is
        training-only and not run by agents)."""
        head_layers = [m for m in self.head.modules() if isinstance(m, nn.Linear)]
        state_floats = self.hidden * (1 if self.cell_type == "gru" else 2)
        return step_ops([self.core, *head_layers], int(np.sum(active)), state_bytes=4 * state_floats)
