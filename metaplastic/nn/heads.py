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
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from metaplastic.errors import ConfigError
from metaplastic.runtime.sampling import clip_to_box, initial_log_std, sample_categorical, sample_gaussian


class CategoricalHead(nn.Module):
    """Logits over ``n`` discrete actions."""

    def __init__(self, n: int, features: int):
        super().__init__()
        self.linear = nn.Linear(features, n)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.linear(h), dim=-1)

    def sample(self, logp: torch.Tensor, rng: np.random.Generator, greedy: bool = False) -> np.ndarray:
        return sample_categorical(logp.detach().exp().cpu().double().numpy(), rng, greedy)

    def log_prob(self, logp: torch.Tensor, actions: Any) -> torch.Tensor:
        idx = actions.long() if torch.is_tensor(actions) else torch.as_tensor(np.asarray(actions, dtype=np.int64))
        idx = idx.to(logp.device).reshape(logp.shape[:-1])
        return logp.gather(-1, idx[..., None])[..., 0]

    def entropy(self, logp: torch.Tensor) -> torch.Tensor:
        return -(logp.exp() * logp).sum(dim=-1)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        return np.asarray(actions, dtype=np.int64)


class GaussianHead(nn.Module):
    """A diagonal Gaussian with a learned, state-independent log standard deviation
    (initially half of the action range's half-width, so exploration fits the bounds).

    ``forward`` returns ``[mean, log_std]`` per row, so the whole distribution is a
    function of the parameters (as MAML's functional inner loop needs); actions are
    clipped to the space's bounds when sent to the env.
    """

    def __init__(self, space: spaces.Box, features: int, init_log_std: float | None = None):
        super().__init__()
        if init_log_std is None:
            init_log_std = initial_log_std(space)
        self.space = space
        self.dim = int(np.prod(space.shape))
        self.mean = nn.Linear(features, self.dim)
        with torch.no_grad():  # start near a zero-mean policy, not one that drives to a bound
            self.mean.weight.mul_(0.01)
            self.mean.bias.zero_()
        self.log_std = nn.Parameter(torch.full((self.dim,), float(init_log_std)))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        mean = self.mean(h)
        return torch.cat([mean, self.log_std.expand_as(mean)], dim=-1)

    def sample(self, params: torch.Tensor, rng: np.random.Generator, greedy: bool = False) -> np.ndarray:
        p = params.detach().cpu().double().numpy()
        return sample_gaussian(p[:, : self.dim], p[:, self.dim :], rng, greedy)

    def log_prob(self, params: torch.Tensor, actions: Any) -> torch.Tensor:
        mean, log_std = params[..., : self.dim], params[..., self.dim :]
        a = torch.as_tensor(np.asarray(actions) if not torch.is_tensor(actions) else actions, dtype=mean.dtype,
                            device=mean.device).reshape(mean.shape)
        z = (a - mean) / log_std.exp()
        return (-0.5 * z.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)

    def entropy(self, params: torch.Tensor) -> torch.Tensor:
        return (params[..., self.dim :] + 0.5 * math.log(2 * math.pi * math.e)).sum(dim=-1)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        return clip_to_box(actions, self.space)


def make_head(space: spaces.Space, features: int) -> nn.Module:
    """The head for ``space`` (Discrete: categorical; Box: Gaussian)."""
    if isinstance(space, spaces.Discrete):
        return CategoricalHead(int(space.n), features)
    if isinstance(space, spaces.Box):
        return GaussianHead(space, features)
    raise ConfigError(f"action spaces of type {type(space).__name__} are not supported; use Discrete or Box")
