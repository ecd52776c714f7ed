"""Advantage actor-critic over whole trials, with generalized advantage estimation.

RL² treats a trial as one long episode: returns flow across episode boundaries (what a
later episode earns rewards the exploration of an earlier one) and bootstrap to 0 at the
end of the trial. Steps where a lane did not decide (``mask`` false: its trial is over, or
its env was resetting) are skipped by the recursion and carry no loss.

Example:
    >>> import torch
    >>> z = torch.zeros(3, 2, requires_grad=True)
    >>> loss = a2c_loss(z, z, z, torch.ones(3, 2), torch.ones(3, 2), gamma=0.9, lam=0.95, vf_coef=0.5, ent_coef=0.01)
    >>> loss.total.shape
    torch.Size([])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from metaplastic.nn.advantages import gae


@dataclass
class A2CLoss:
    """The scalar loss and its parts (for metrics)."""

    total: torch.Tensor
    policy: float
    value: float
    entropy: float
    activity: float | None = None  # mean firing rate over deciding lanes, when penalized


def a2c_loss(logp: torch.Tensor, values: torch.Tensor, entropy: torch.Tensor, rewards: torch.Tensor, mask: torch.Tensor,
             *, gamma: float, lam: float, vf_coef: float, ent_coef: float, normalize: bool = True,
             activity: torch.Tensor | None = None, energy_coef: float = 0.0) -> A2CLoss:
    """Policy-gradient loss with a learned baseline and an entropy bonus (all ``(T, B)``),
    plus ``energy_coef`` × the mean of ``activity`` (``(T, B)``, e.g. firing rates) over the
    deciding steps when given."""
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
    act = None
    if activity is not None:
        act = (activity * mask).sum() / n
        total = total + energy_coef * act
    return A2CLoss(total, float(pg.detach()), float(vf.detach()), float(ent.detach()),
                   None if act is None else float(act.detach()))
