"""The oracle of CartPole with hidden dynamics: LQR on each lane's own linearized cart-pole.

For the state ``s = (x, x_dot, theta, theta_dot)`` and a force ``F``, gymnasium's
equations linearized at the upright rest (``theta = theta_dot = 0``) read, with total
mass ``M``, pole mass ``m``, half-length ``l`` and ``d = l (4/3 - m/M)``::

    theta_acc = (g / d) theta - F / (M d)
    x_acc     = -(m l g) / (M d) theta + F (1 + m l / (M d)) / M

Euler steps of ``tau`` give ``s' = A s + B F`` with ``A = I + tau A_c`` and
``B = tau B_c``. The gain ``K = (R + B'PB)^-1 B'PA`` comes from the discrete Riccati
equation ``P = Q + A'PA - A'PB K``, solved by iterating it from ``P = Q`` (numpy only).
The policy pushes right (action 1) when the LQR force ``-K s`` is positive.

Example:
    >>> import metaplastic
    >>> r = metaplastic.evaluate("oracle", "cartpole-dyn:max_steps=100", n_tasks=10, seed=0)
    >>> float(r.returns.min())
    100.0
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from metaplastic.baselines.base import VectorPolicy
from metaplastic.core import Task

#: State and force weights of the LQR cost sum(s'Qs + R F²).
Q = np.diag([1.0, 1.0, 10.0, 1.0])
R = 0.1
_N = 4  # state size
#: Multiply-accumulates of one Riccati iteration for one lane (see ``riccati_gain``).
RICCATI_MACS = 2 * _N**3 + 4 * _N**2 + 2 * _N


def linearized(physics: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The per-lane discrete-time ``A`` ``(lanes, 4, 4)`` and ``B`` ``(lanes, 4)`` of the Euler-stepped
    cart-pole linearized upright (``physics`` as from ``CartPoleDyn.physics``).

    Example:
        >>> import numpy as np
        >>> A, B = linearized({"length": np.array([0.5]), "masspole": np.array([0.1]), "masscart": np.array([1.0]),
        ...                    "gravity": np.array([9.8]), "tau": np.array([0.02]), "force_mag": np.array([10.0])})
        >>> A.shape, B.shape, bool(B[0, 3] < 0 < B[0, 1])
        ((1, 4, 4), (1, 4), True)
    """
    g, tau, l, m = (np.asarray(physics[k], dtype=np.float64) for k in ("gravity", "tau", "length", "masspole"))
    M = m + np.asarray(physics["masscart"], dtype=np.float64)
    d = l * (4.0 / 3.0 - m / M)
    lanes = len(M)
    A = np.tile(np.eye(_N), (lanes, 1, 1))
    A[:, 0, 1] = A[:, 2, 3] = tau
    A[:, 1, 2] = -tau * m * l * g / (M * d)
    A[:, 3, 2] = tau * g / d
    B = np.zeros((lanes, _N))
    B[:, 1] = tau * (1.0 + m * l / (M * d)) / M
    B[:, 3] = -tau / (M * d)
    return A, B


def riccati_gain(A: np.ndarray, B: np.ndarray, *, tol: float = 1e-10, max_iter: int = 20_000) -> tuple[np.ndarray, int]:
    """Per-lane LQR gains ``K`` ``(lanes, 4)`` and the number of Riccati iterations run.

    Example:
        >>> import numpy as np
        >>> K, iters = riccati_gain(np.eye(4)[None] * 0.9, np.ones((1, 4)))
        >>> K.shape, iters > 0
        ((1, 4), True)
    """
    P = np.broadcast_to(Q, A.shape).copy()
    At = A.transpose(0, 2, 1)
    for it in range(1, max_iter + 1):
        PA = P @ A                                           # n³
        PB = np.einsum("lij,lj->li", P, B)                   # n²
        S = R + np.einsum("li,li->l", B, PB)                 # n
        K = np.einsum("li,lij->lj", B, PA) / S[:, None]      # n² + n
        AtPB = np.einsum("lij,lj->li", At, PB)               # n²
        new = Q + At @ PA - AtPB[:, :, None] * K[:, None, :]  # n³ + n²
        done = np.abs(new - P).max() <= tol * max(1.0, np.abs(new).max())
        P = new
        if done:
            break
    return K, it


class OracleCartPolePolicy(VectorPolicy):
    """Knows each lane's pole and cart (privileged): bang-bang LQR on its linearization.

    Counts the multiply-accumulates it executes: the Riccati iterations when the tasks are
    revealed, and the 4 of the gain product ``K s`` per decision.

    Example:
        >>> import metaplastic
        >>> tasks = metaplastic.make_tasks("cartpole-dyn")
        >>> agent = metaplastic.make("oracle").agent(tasks)
        >>> agent.reset(seed=0)
        >>> agent.reveal_task(tasks.sample(1, seed=0)[0])
        >>> agent.act([0.0, 0.0, 0.05, 0.0])   # the pole leans right: push right
        1
    """

    privileged = True

    def _reveal(self, tasks: list[Task]) -> None:
        A, B = linearized(self.tasks.physics(tasks))
        self.gain, iterations = riccati_gain(A, B)
        self.counts.macs += iterations * RICCATI_MACS * len(tasks)

    def _reveal_lanes(self, lanes: np.ndarray, tasks: list[Task]) -> None:
        A, B = linearized(self.tasks.physics(tasks))
        self.gain[lanes], iterations = riccati_gain(A, B)
        self.counts.macs += iterations * RICCATI_MACS * len(tasks)

    def _act(self, obs: np.ndarray, active: np.ndarray) -> np.ndarray:
        force = -np.einsum("li,li->l", self.gain, obs)
        self.counts.macs += _N * int(active.sum())
        return (force > 0).astype(np.int64)
