"""Numba kernel of the Gittins calibration (see :mod:`metaplastic.baselines.gittins`)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def calibrate(discount: float, max_pulls: int, levels: int, lambdas: np.ndarray) -> np.ndarray:
    """Indices of all states with ``s + f <= max_pulls`` by sweeping ``lambdas`` upward."""
    n = max_pulls + 1
    index = np.full((n, n), np.nan)
    prev_adv = np.full((n, n), np.nan)
    V = np.empty(levels + 2)
    Vn = np.empty(levels + 2)
    inv = 1.0 / (1.0 - discount)
    for j in range(lambdas.shape[0]):
        lam = lambdas[j]
        retire = lam * inv
        # values at the truncation level m = levels: s in 0..levels
        for s in range(levels + 1):
            p = (s + 1.0) / (levels + 2.0)
            V[s] = max(lam, p) * inv
        for m in range(levels - 1, -1, -1):
            for s in range(m + 1):
                f = m - s
                p = (s + 1.0) / (m + 2.0)
                cont = p * (1.0 + discount * V[s + 1]) + (1.0 - p) * discount * V[s]
                Vn[s] = cont if cont > retire else retire
                if m <= max_pulls:
                    adv = cont - retire
                    if np.isnan(index[s, f]):
                        if adv <= 0.0:
                            pa = prev_adv[s, f]
                            if np.isnan(pa):
                                index[s, f] = lam
                            else:
                                lam0 = lambdas[j - 1]
                                index[s, f] = lam0 + (lam - lam0) * pa / (pa - adv)
                        else:
                            prev_adv[s, f] = adv
            for s in range(m + 1):
                V[s] = Vn[s]
    for s in range(n):
        for f in range(n - s):
            if np.isnan(index[s, f]):
                index[s, f] = lambdas[lambdas.shape[0] - 1]
    return index
