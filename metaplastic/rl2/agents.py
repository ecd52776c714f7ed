"""RL² agents: ``num_lanes`` adaptive agents sharing one recurrent policy (any
:class:`~metaplastic.rl2.policy.RecurrentPolicy`: the dense GRU, a spiking network), each
remembering its own trial in its recurrent state.

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.dense.gru import GRUActorCritic
    >>> from metaplastic.runtime.encoding import TrialInputEncoder
    >>> tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    >>> enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    >>> agent = RL2VectorAgent(GRUActorCritic(enc.size, tasks.action_space, hidden=32), enc, num_lanes=4)
    >>> agent.reset([1, 2, 3, 4])
    >>> agent.act(np.zeros((4, 1)), np.ones(4, bool)).shape
    (4,)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from metaplastic.core import OpCounts
from metaplastic.rl2.lanes import TrialLanes
from metaplastic.runtime.encoding import TrialInputEncoder


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
