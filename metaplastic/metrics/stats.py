"""Means and 95% confidence intervals (Student t; Wilson for rates), the only statistics
reports need.

Example:
    >>> lo, hi = ci95([1.0, 2.0, 3.0, 4.0])
    >>> round(lo, 3), round(hi, 3)
    (0.446, 4.554)
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

# two-sided 95% Student t quantiles t_{0.975, df} for df = 1..10
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281)
_Z975 = 1.959963984540054


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (exact table to
    df=10, then the Cornish-Fisher expansion to third order, within 2e-4 there)."""
    if df < 1:
        return math.inf
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def sem(values: Sequence[float] | np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard error of the mean along ``axis`` (sample std, ddof=1; 0 for a single value)."""
    x = np.asarray(values, dtype=float)
    n = x.shape[axis]
    if n < 2:
        return np.zeros(np.delete(np.array(x.shape), axis)) if x.ndim > 1 else np.float64(0.0)
    return x.std(axis=axis, ddof=1) / math.sqrt(n)


def ci95_halfwidth(values: Sequence[float] | np.ndarray, axis: int = 0) -> np.ndarray:
    """Half-width of the 95% interval of the mean (infinite for a single value)."""
    x = np.asarray(values, dtype=float)
    n = x.shape[axis]
    return t975(n - 1) * sem(x, axis=axis) if n > 1 else np.full(np.delete(np.array(x.shape), axis), math.inf) if x.ndim > 1 else math.inf


def ci95(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """The 95% interval ``(lo, hi)`` of the mean of a 1-d sample."""
    x = np.asarray(values, dtype=float).ravel()
    m = float(x.mean())
    h = float(ci95_halfwidth(x))
    return m - h, m + h


def rate_ci95(rates: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """The 95% Wilson score interval of the mean of per-unit rates in [0, 1] (a success
    rate per task): inside [0, 1] where Student's t would leave it, and not of zero width
    when every rate is 0 or 1. Valid for fractional rates too: a variable in [0, 1] with
    mean p has variance at most p(1 - p), the Bernoulli variance the interval assumes, so
    it is conservative there. ``(nan, nan)`` for no rates.

    Example:
        >>> [round(x, 4) for x in rate_ci95([0.0] * 50)]
        [0.0, 0.0713]
        >>> [round(x, 3) for x in rate_ci95([1.0] * 3 + [0.0] * 47)]
        [0.021, 0.162]
    """
    x = np.asarray(rates, dtype=float).ravel()
    n = x.size
    if n == 0:
        return math.nan, math.nan
    p, z2 = float(x.mean()), _Z975**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z975 / (1 + z2 / n) * math.sqrt(max(p * (1 - p), 0.0) / n + z2 / (4 * n * n))
    lo = 0.0 if p == 0.0 else max(centre - half, 0.0)  # exact at the extremes (algebraically 0 and 1)
    hi = 1.0 if p == 1.0 else min(centre + half, 1.0)
    return lo, hi
