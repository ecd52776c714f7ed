"""RL²'s recurrent actor-critic (Duan et al. 2016): a GRU (or LSTM) over the trial inputs
(observation, previous action, previous reward, boundary flag) with an action head and a
value head; its state carries across the episodes of a trial and is reset between trials.

Example:
    >>> import metaplastic
    >>> from metaplastic.encoding import TrialInputEncoder
    >>> tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    >>> enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    >>> pol = GRUActorCritic(enc.size, tasks.action_space, hidden=32)
    >>> agent = RL2VectorAgent(pol, enc, num_lanes=4)
    >>> agent.reset([1, 2, 3, 4])
    >>> import numpy as np
    >>> agent.act(np.zeros((4, 1)), np.ones(4, bool)).shape
    (4,)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from metaplastic.bench.torch_ops import step_ops
from metaplastic.core import OpCounts
from metaplastic.encoding import TrialInputEncoder
from metaplastic.errors import ConfigError
from metaplastic.training.heads import make_head
from metaplastic.training.lanes import TrialLanes


class GRUActorCritic(nn.Module):
    """A recurrent actor-critic (:class:`~metaplastic.training.policy.RecurrentPolicy`)."""

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


class RL2VectorAgent:
    """``num_lanes`` RL² agents sharing one policy (a :class:`~metaplastic.core.VectorAgent`).

    Actions are sampled from the policy (``greedy=True``: its most likely action) with a
    generator seeded from the lane seeds, so decisions depend only on those seeds.
    """

    def __init__(self, policy: nn.Module, encoder: TrialInputEncoder, num_lanes: int, *, greedy: bool = False,
                 device: str | torch.device = "cpu"):
        self.policy, self.encoder, self.num_lanes, self.greedy = policy, encoder, int(num_lanes), greedy
        self.lanes = TrialLanes(policy, encoder, num_lanes, device)
        self.counts = OpCounts()
        self.rng = np.random.default_rng()
        self._last: np.ndarray | None = None

    def reset(self, seeds: Any) -> None:
        seeds = [int(s) for s in np.asarray(seeds, dtype=np.uint64).ravel()]
        if len(seeds) != self.num_lanes:
            raise ValueError(f"reset needs {self.num_lanes} seeds, got {len(seeds)}")
        self.rng = np.random.default_rng(np.random.SeedSequence(seeds))
        self.counts = OpCounts()
        with torch.no_grad():
            self.lanes.reset()

    def act(self, obs: Any, active: Any) -> np.ndarray:
        active = np.asarray(active, dtype=bool)
        with torch.no_grad():
            params, _ = self.lanes.step(np.asarray(obs), active, with_value=False)
        self.counts = self.counts + self.policy.step_ops(active)
        self.counts.decisions += int(active.sum())
        self._last = self.policy.head.to_env(self.policy.head.sample(params, self.rng, greedy=self.greedy))
        return self._last

    def observe(self, obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        done = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
        self.lanes.record(np.asarray(actions), np.asarray(rewards), done, np.asarray(active, dtype=bool))

    def end_episode(self, mask: Any) -> None:
        pass  # the boundary flag was recorded with the episode's last transition

    def ops(self) -> OpCounts:
        return OpCounts(**self.counts.as_dict())
