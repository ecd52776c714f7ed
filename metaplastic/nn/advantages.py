"""Generalized advantage estimation (Schulman et al. 2016) over trials whose lanes may skip
steps, shared by every torch outer loop (RL²'s A2C, MAML's inner policy gradient).

Example:
    >>> import torch
    >>> r = torch.tensor([[1.0], [0.0], [1.0]]); v = torch.zeros(3, 1); m = torch.ones(3, 1)
    >>> adv, ret = gae(r, v, m, gamma=1.0, lam=1.0)
    >>> ret[:, 0].tolist()
    [2.0, 1.0, 1.0]
"""

from __future__ import annotations

import torch


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, *, gamma: float, lam: float
        ) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and value targets, ``(T, B)`` each, skipping masked steps."""
    T = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    next_value = torch.zeros_like(rewards[0])
    next_adv = torch.zeros_like(rewards[0])
    for t in range(T - 1, -1, -1):
        m = mask[t]
        delta = rewards[t] + gamma * next_value - values[t]
        a = delta + gamma * lam * next_adv
        adv[t] = a * m
        next_value = torch.where(m > 0, values[t], next_value)
        next_adv = torch.where(m > 0, a, next_adv)
    return adv, adv + values
