"""Divergence checks for torch models, written once for every gradient-based outer loop
(RL², MAML): :func:`check_step` before ``optimizer.step()`` (a non-finite loss or gradient
norm must not reach the weights) and :func:`nonfinite_parameters` after it (the outer
loop's ``check``). Both cost one device synchronisation. The messages and the numpy side
are :mod:`metaplastic.training.divergence`.

Example:
    >>> import torch
    >>> net = torch.nn.Linear(2, 1)
    >>> nonfinite_parameters(net) is None
    True
    >>> with torch.no_grad():
    ...     net.weight[0, 0] = float("nan")
    >>> nonfinite_parameters(net)
    'the parameters are not finite (nan in 1 of 3 values)'
    >>> check_step(torch.tensor(float("inf")), torch.tensor(1.0), "lr=1 is probably too large")
    Traceback (most recent call last):
    ...
    metaplastic.errors.TrainingDiverged: the loss is not finite (inf); lr=1 is probably too large
"""

from __future__ import annotations

import torch

from metaplastic.training.divergence import nonfinite, require_finite

__all__ = ["check_step", "nonfinite_parameters"]


def check_step(loss: torch.Tensor, grad_norm: torch.Tensor, hint: str = "") -> tuple[float, float]:
    """Raise :class:`~metaplastic.errors.TrainingDiverged` if the loss or the gradient norm
    (as ``clip_grad_norm_`` returns it: non-finite when any gradient is) is not finite;
    else return both as floats (exactly ``float(loss)``, ``float(grad_norm)``)."""
    loss_v, norm_v = torch.stack([loss.detach().double().reshape(()), grad_norm.detach().double().reshape(())]).tolist()
    require_finite(loss_v, "the loss", hint)
    require_finite(norm_v, "the gradient norm", hint)
    return loss_v, norm_v


def nonfinite_parameters(module: torch.nn.Module) -> str | None:
    """``"the parameters are not finite (<how>)"`` if a parameter of ``module`` holds a NaN
    or an infinity, else ``None``."""
    params = [p.detach() for p in module.parameters()]
    if not params or bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
        return None
    return nonfinite(torch.cat([p.reshape(-1) for p in params]).double().cpu().numpy(), "the parameters")
