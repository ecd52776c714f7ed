"""The likelihood of one transition given ``z``: each transition law a family declares
(:mod:`metaplastic.tasks.latent`) as a Numba kernel, with the operations it costs.

A kernel ``fn(z, obs, act, rew, nxt, prm, gz, need_grad) -> log p`` returns the log
likelihood of the transition ``obs --act--> rew, nxt`` at one latent value ``z`` and, when
``need_grad``, adds its gradient with respect to ``z`` to ``gz``. ``prm`` holds the law's
constants (see :func:`law_kernel`).

Deterministic laws are *tempered*: an outcome fixed by ``z`` is modelled with Gaussian
noise of scale ``noise`` (nav2d's reward, cart-pole's velocities), and gridnavi's goal hit
with a Gaussian bump of width ``relax`` around the goal (its *relaxed form*, for samplers
over a continuous goal). ``relax = 0`` is the exact law: a hit at the goal cell, a miss
elsewhere (log-likelihood 0 or -inf), which the ``exact`` engine enumerates.

Example:
    >>> import numpy as np
    >>> from metaplastic.tasks.latent import BernoulliArms
    >>> k = law_kernel(BernoulliArms(), noise=0.0, relax=0.0)
    >>> g = np.zeros(2)
    >>> round(k.fn(np.array([0.25, 0.5]), np.zeros(1), np.array([0.0]), 1.0, np.zeros(1), k.prm, g, True), 4)
    -1.3863
    >>> g.tolist()                           # d/dp log p = 1/p at the pulled arm
    [4.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from metaplastic.errors import ConfigError
from metaplastic.tasks.latent import BernoulliArms, CartPoleLaw, GoalCell, SquaredDistance

_TINY = 1e-12
_LOG_2PI = float(np.log(2.0 * np.pi))


@numba.njit(cache=True)
def bernoulli_arms(z, obs, act, rew, nxt, prm, gz, need_grad):
    a = int(act[0])
    p = min(max(z[a], _TINY), 1.0 - _TINY)
    if rew > 0.5:
        if need_grad:
            gz[a] += 1.0 / p
        return np.log(p)
    if need_grad:
        gz[a] -= 1.0 / (1.0 - p)
    return np.log(1.0 - p)


@numba.njit(cache=True)
def goal_cell(z, obs, act, rew, nxt, prm, gz, need_grad):
    # prm: goal_reward, step_reward, relax (0: the exact law)
    hit = abs(rew - prm[0]) < abs(rew - prm[1])
    relax = prm[2]
    d2 = 0.0
    for i in range(z.shape[0]):
        d2 += (nxt[i] - z[i]) ** 2
    if relax == 0.0:
        on_goal = d2 < 0.25
        return 0.0 if on_goal == hit else -np.inf
    ph = min(max(np.exp(-0.5 * d2 / relax**2), 1e-300), 1.0 - _TINY)
    if hit:
        if need_grad:
            for i in range(z.shape[0]):
                gz[i] += (nxt[i] - z[i]) / relax**2
        return np.log(ph)
    if need_grad:
        c = -ph / (1.0 - ph) / relax**2
        for i in range(z.shape[0]):
            gz[i] += c * (nxt[i] - z[i])
    return np.log1p(-ph)


@numba.njit(cache=True)
def squared_distance(z, obs, act, rew, nxt, prm, gz, need_grad):
    # prm: noise
    sigma = prm[0]
    d2 = 0.0
    for i in range(z.shape[0]):
        d2 += (nxt[i] - z[i]) ** 2
    resid = rew + d2
    if need_grad:
        c = 2.0 * resid / sigma**2
        for i in range(z.shape[0]):
            gz[i] += c * (nxt[i] - z[i])
    return -0.5 * (resid / sigma) ** 2 - np.log(sigma) - 0.5 * _LOG_2PI


@numba.njit(cache=True)
def _cartpole_velocities(z, obs, push, prm):
    """(x_dot', theta_dot') after one Euler step of gymnasium's equations."""
    length, masspole, masscart = z[0], z[1], z[2]
    gravity, tau, force_mag = prm[0], prm[1], prm[2]
    force = force_mag if push > 0.5 else -force_mag
    theta, theta_dot = obs[2], obs[3]
    cos, sin = np.cos(theta), np.sin(theta)
    total = masspole + masscart
    pml = masspole * length
    temp = (force + pml * theta_dot**2 * sin) / total
    theta_acc = (gravity * sin - cos * temp) / (length * (4.0 / 3.0 - masspole * cos**2 / total))
    x_acc = temp - pml * theta_acc * cos / total
    return obs[1] + tau * x_acc, theta_dot + tau * theta_acc


@numba.njit(cache=True)
def _cartpole_loglik(z, obs, push, nxt, prm):
    xd, td = _cartpole_velocities(z, obs, push, prm)
    sigma = prm[3]
    return -0.5 * (((nxt[1] - xd) / sigma) ** 2 + ((nxt[3] - td) / sigma) ** 2) - 2.0 * np.log(sigma) - _LOG_2PI


@numba.njit(cache=True)
def cartpole(z, obs, act, rew, nxt, prm, gz, need_grad):
    # prm: gravity, tau, force_mag, noise. The gradient is a central difference (6 more
    # evaluations of the step, counted in its MACs).
    ll = _cartpole_loglik(z, obs, act[0], nxt, prm)
    if need_grad:
        zz = z.copy()
        for i in range(3):
            h = 1e-6 * max(1.0, abs(z[i]))
            zz[i] = z[i] + h
            up = _cartpole_loglik(zz, obs, act[0], nxt, prm)
            zz[i] = z[i] - h
            down = _cartpole_loglik(zz, obs, act[0], nxt, prm)
            zz[i] = z[i]
            gz[i] += (up - down) / (2.0 * h)
    return ll


@dataclass(frozen=True, eq=False)
class LawKernel:
    """A law's Numba kernel, its constants and its cost: ``macs`` per evaluation at one
    ``z``, ``grad_macs`` more when the gradient is taken."""

    fn: Any
    prm: np.ndarray
    macs: int
    grad_macs: int
    deterministic: bool


# Multiply-accumulates counted by reading each kernel above (a compare or an exp is one).
_CARTPOLE_MACS = 24

#: The tempering noise of each deterministic law when ``noise`` is 0 (the default): about
#: the spread of a first transition's evidence, so that samplers can follow it.
DEFAULT_NOISE: dict[type, float] = {SquaredDistance: 0.01, CartPoleLaw: 1e-3}


def law_kernel(law: Any, *, noise: float, relax: float) -> LawKernel:
    """The kernel of ``law`` with the tempering ``noise`` (deterministic rewards and
    velocities; 0: the law's :data:`DEFAULT_NOISE`) and ``relax`` (gridnavi's goal bump; 0
    for the exact law).

    Example:
        >>> from metaplastic.tasks.latent import SquaredDistance
        >>> law_kernel(SquaredDistance(), noise=0.01, relax=0.0).prm.tolist()
        [0.01]
    """
    noise = float(noise) or DEFAULT_NOISE.get(type(law), 0.0)
    if isinstance(law, BernoulliArms):
        return LawKernel(bernoulli_arms, np.zeros(1), 2, 1, False)
    if isinstance(law, GoalCell):
        return LawKernel(goal_cell, np.array([law.goal_reward, law.step_reward, float(relax)]), 6, 4, True)
    if isinstance(law, SquaredDistance):
        _positive("noise", noise, "nav2d's reward")
        return LawKernel(squared_distance, np.array([float(noise)]), 6, 4, True)
    if isinstance(law, CartPoleLaw):
        _positive("noise", noise, "cart-pole's velocities")
        return LawKernel(cartpole, np.array([law.gravity, law.tau, law.force_mag, float(noise)]), _CARTPOLE_MACS,
                         6 * _CARTPOLE_MACS, True)
    raise ConfigError(f"energy: no likelihood kernel for the transition law {type(law).__name__}; task inference "
                      "needs a law it knows (BernoulliArms, GoalCell, SquaredDistance, CartPoleLaw)")


def _positive(name: str, value: float, what: str) -> None:
    if not value > 0:
        raise ConfigError(f"energy: {name} must be > 0 to temper {what} (it is deterministic given z), got {value!r}")
