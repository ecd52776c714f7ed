"""Advantage actor-critic over whole trials, with generalized advantage estimation.

RL² treats a trial as one long episode: returns flow across episode boundaries (what a
later episode earns rewards the exploration of an earlier one) and bootstrap to 0 at the
end of the trial. Steps where a lane did not decide (``mask`` false: its trial is over, or
its env was resetting) are skipped by the recursion and carry no loss.

Example:
    >>> import torch
    >>> r = torch.tensor([[1.0], [0.0], [1.0]]); v = torch.zeros(3, 1); m = torch.ones(3, 1)
    >>> adv, ret = gae(r, v, m, gamma=1.0, lam=1.0)
    >>> ret[:, 0].tolist()
    [2.0, 1.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class A2CLoss:
    """The scalar loss and its parts (for metrics)."""

    total: torch.Tensor
    policy: float
    value: float
    entropy: float


def a2c_loss(logp: torch.Tensor, values: torch.Tensor, entropy: torch.Tensor, rewards: torch.Tensor, mask: torch.Tensor,
             *, gamma: float, lam: float, vf_coef: float, ent_coef: float, normalize: bool = True) -> A2CLoss:
    """Policy-gradient loss with a learned baseline and an entropy bonus (all ``(T, B)``)."""
    with torch.no_grad():
        adv, ret = gae(rewards, values.detach(), mask, gamma=gamma, lam=lam)
        n = mask.sum().clamp_min(1.0)
        if normalize:
            mean = adv.sum() / n
            std = (((adv - mean) * mask).pow(2).sum() / n).sqrt().clamp_min(1e-6)
            adv = (adv - mean) / std * mask
    pg = -(logp * adv).sum() / n
    vf = ((values - ret).pow(2) * mask).sum() / n
    ent = (entropy * mask).sum() / n
    total = pg + vf_coef * vf - ent_coef * ent
    return A2CLoss(total, float(pg.detach()), float(vf.detach()), float(ent.detach()))
