"""RL²'s recurrent actor-critic (Duan et al. 2016): a GRU (or LSTM) over the trial inputs
(observation, previous action, previous reward, boundary flag) with an action head and a
value head; its state carries across the episodes of a trial and is reset between trials.

The state is a named tuple: :class:`GRUState` ``(h)`` or :class:`LSTMState` ``(h, c)``.

Example:
    >>> import torch
    >>> from gymnasium import spaces
    >>> pol = GRUActorCritic(input_size=9, action_space=spaces.Discrete(5), hidden=16)
    >>> params, value, state = pol.step(torch.zeros(3, 9), pol.initial_state(3))
    >>> params.shape, value.shape, state.h.shape
    (torch.Size([3, 5]), torch.Size([3]), torch.Size([3, 16]))
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from metaplastic.nn.ops import step_ops
from metaplastic.core import OpCounts
from metaplastic.errors import ConfigError
from metaplastic.nn.heads import make_head


class GRUState(NamedTuple):
    """The state of a GRU core, per lane (B).

    Example:
        >>> GRUState(torch.zeros(2, 4)).advance(nn.GRUCell(3, 4), torch.zeros(2, 3)).h.shape
        torch.Size([2, 4])
    """

    h: torch.Tensor  # (B, hidden) hidden state

    def advance(self, core: nn.GRUCell, x: torch.Tensor) -> GRUState:
        """The state after ``core`` read ``x``."""
        return GRUState(core(x, self.h))


class LSTMState(NamedTuple):
    """The state of an LSTM core, per lane (B).

    Example:
        >>> z = torch.zeros(2, 4)
        >>> LSTMState(z, z).advance(nn.LSTMCell(3, 4), torch.zeros(2, 3)).c.shape
        torch.Size([2, 4])
    """

    h: torch.Tensor  # (B, hidden) hidden state
    c: torch.Tensor  # (B, hidden) cell state

    def advance(self, core: nn.LSTMCell, x: torch.Tensor) -> LSTMState:
        """The state after ``core`` read ``x``."""
        return LSTMState(*core(x, (self.h, self.c)))


# each recurrent core: its torch cell and its state
_CELLS: dict[str, tuple[type[nn.Module], type[GRUState] | type[LSTMState]]] = {
    "gru": (nn.GRUCell, GRUState),
    "lstm": (nn.LSTMCell, LSTMState),
}


class GRUActorCritic(nn.Module):
    """A recurrent actor-critic (:class:`~metaplastic.rl2.policy.RecurrentPolicy`)."""

    def __init__(self, input_size: int, action_space: spaces.Space, hidden: int = 128, cell: str = "gru"):
        super().__init__()
        if cell not in _CELLS:
            raise ConfigError(f"cell must be {' or '.join(_CELLS)}, got {cell!r}")
        self.cell_type, self.hidden = cell, int(hidden)
        core, self._state_type = _CELLS[cell]
        self.core = core(input_size, hidden)
        self.head = make_head(action_space, hidden)
        self.value = nn.Linear(hidden, 1)

    def _device(self) -> torch.device:
        return self.value.weight.device

    def initial_state(self, batch: int) -> GRUState | LSTMState:
        z = torch.zeros(batch, self.hidden, device=self._device())
        return self._state_type._make([z, *(z.clone() for _ in self._state_type._fields[1:])])

    def step(self, x: torch.Tensor, state: GRUState | LSTMState,
             with_value: bool = True) -> tuple[torch.Tensor, Any, GRUState | LSTMState]:
        state = state.advance(self.core, x)
        return self.head(state.h), self.value(state.h)[:, 0] if with_value else None, state

    def select_state(self, mask: torch.Tensor, new: GRUState | LSTMState,
                     old: GRUState | LSTMState) -> GRUState | LSTMState:
        """``new`` on the lanes where ``mask`` (B,) holds, ``old`` elsewhere."""
        m = mask[:, None]
        return type(new)._make(torch.where(m, n, o) for n, o in zip(new, old, strict=True))

    def step_ops(self, active: np.ndarray) -> OpCounts:
        """Ops of one decision: the recurrent core and the action head (the value head is
        training-only and not run by agents)."""
        head_layers = [m for m in self.head.modules() if isinstance(m, nn.Linear)]
        state_floats = self.hidden * len(self._state_type._fields)
        return step_ops([self.core, *head_layers], int(np.sum(active)), state_bytes=4 * state_floats)
