"""Action heads: from a feature vector to an action distribution, for Discrete and Box
action spaces. Sampling happens in numpy from a caller's generator (so an agent's
decisions depend only on its own seed); log-probabilities are computed in torch.

Example:
    >>> import numpy as np, torch
    >>> from gymnasium import spaces
    >>> head = make_head(spaces.Discrete(3), 8)
    >>> params = head(torch.zeros(2, 8))
    >>> a = head.sample(params, np.random.default_rng(0))
    >>> head.log_prob(params, a).shape
    torch.Size([2])
"""

from __future__ import annotations

import math

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from metaplastic.errors import ConfigError


class CategoricalHead(nn.Module):
    """Logits over ``n`` discrete actions."""

    def __init__(self, n: int, features: int):
        super().__init__()
        self.linear = nn.Linear(features, n)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.linear(h), dim=-1)

    def sample(self, logp: torch.Tensor, rng: np.random.Generator, greedy: bool = False) -> np.ndarray:
        p = logp.detach().exp().cpu().double().numpy()
        if greedy:
            return p.argmax(axis=1)
        u = rng.random((p.shape[0], 1))
        return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1)

    def log_prob(self, logp: torch.Tensor, actions: np.ndarray) -> torch.Tensor:
        idx = torch.as_tensor(np.asarray(actions, dtype=np.int64), device=logp.device)
        return logp.gather(1, idx[:, None])[:, 0]

    def entropy(self, logp: torch.Tensor) -> torch.Tensor:
        return -(logp.exp() * logp).sum(dim=-1)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        return np.asarray(actions, dtype=np.int64)


class GaussianHead(nn.Module):
    """A diagonal Gaussian with a learned, state-independent log standard deviation;
    actions are clipped to the space's bounds when sent to the env."""

    def __init__(self, space: spaces.Box, features: int, init_log_std: float = -0.5):
        super().__init__()
        self.shape = space.shape
        dim = int(np.prod(space.shape))
        self.mean = nn.Linear(features, dim)
        self.log_std = nn.Parameter(torch.full((dim,), float(init_log_std)))
        self.low, self.high = space.low.reshape(-1), space.high.reshape(-1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.mean(h)

    def sample(self, mean: torch.Tensor, rng: np.random.Generator, greedy: bool = False) -> np.ndarray:
        m = mean.detach().cpu().double().numpy()
        if greedy:
            return m
        return m + np.exp(self.log_std.detach().cpu().double().numpy()) * rng.standard_normal(m.shape)

    def log_prob(self, mean: torch.Tensor, actions: np.ndarray) -> torch.Tensor:
        a = torch.as_tensor(np.asarray(actions), dtype=mean.dtype, device=mean.device)
        z = (a - mean) / self.log_std.exp()
        return (-0.5 * z.pow(2) - self.log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)

    def entropy(self, mean: torch.Tensor) -> torch.Tensor:
        return (self.log_std + 0.5 * math.log(2 * math.pi * math.e)).sum().expand(mean.shape[0])

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        a = np.clip(np.asarray(actions), self.low, self.high)
        return a.reshape((a.shape[0], *self.shape)).astype(np.float32)


def make_head(space: spaces.Space, features: int) -> nn.Module:
    """The head for ``space`` (Discrete: categorical; Box: Gaussian)."""
    if isinstance(space, spaces.Discrete):
        return CategoricalHead(int(space.n), features)
    if isinstance(space, spaces.Box):
        return GaussianHead(space, features)
    raise ConfigError(f"action spaces of type {type(space).__name__} are not supported; use Discrete or Box")
