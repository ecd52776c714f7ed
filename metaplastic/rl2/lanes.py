"""``TrialLanes``: the per-lane memory of an RL² policy across a trial — recurrent state,
previous action, previous reward and the episode-boundary flag — shared by the trainer
(with gradients) and by agents (without).

Example:
    >>> import numpy as np
    >>> from gymnasium import spaces
    >>> from metaplastic.dense.gru import GRUActorCritic
    >>> from metaplastic.runtime.encoding import TrialInputEncoder, TrialInputs
    >>> enc = TrialInputEncoder(spaces.Box(0, 1, (1,)), spaces.Discrete(3))
    >>> lanes = TrialLanes(GRUActorCritic(enc.size, spaces.Discrete(3), hidden=8), enc, 2)
    >>> lanes.reset()
    >>> params, value = lanes.step(np.zeros((2, 1)), np.array([True, True]))
    >>> lanes.record(np.array([0, 2]), np.array([1.0, 0.0]), np.array([True, True]), np.array([True, True]))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from metaplastic.runtime.encoding import TrialInputEncoder, TrialInputs


class TrialLanes:
    """``n`` lanes of one policy, each remembering its own trial."""

    def __init__(self, policy: Any, encoder: TrialInputEncoder, n: int, device: str | torch.device = "cpu"):
        self.policy, self.encoder, self.n, self.device = policy, encoder, int(n), torch.device(device)
        self.inputs = TrialInputs(encoder, n)

    def reset(self) -> None:
        """A new trial in every lane."""
        self.state = self.policy.initial_state(self.n)
        self.inputs.reset()

    def step(self, obs: Any, decide: np.ndarray, with_value: bool = True) -> tuple[torch.Tensor, Any]:
        """One policy step on every lane; only lanes in ``decide`` keep their new state.
        ``with_value=False`` (agents): the training-only value head is not run (value None)."""
        x = torch.tensor(self.inputs.assemble(obs), device=self.device)  # a copy: the buffer is reused
        params, value, new_state = self.policy.step(x, self.state, with_value=with_value)
        if decide.all():
            self.state = new_state
        else:
            mask = torch.as_tensor(decide, device=self.device)
            self.state = self.policy.select_state(mask, new_state, self.state)
        return params, value

    def record(self, actions: Any, rewards: Any, done: Any, decide: np.ndarray) -> None:
        """Remember what the deciding lanes did and got (the next step's inputs)."""
        self.inputs.record(actions, rewards, done, decide)
