"""Gittins indices of Bernoulli arms with a Beta(1,1) prior, computed by calibration.

The index of a posterior state ``(s, f)`` under discount ``γ`` is the constant reward
``λ`` per step at which retiring forever and continuing to pull the arm (and retiring
later when better) are equally good (Gittins 1979; the "calibration" or retirement
formulation). For a grid of ``λ`` values, one backward dynamic programme over all
states with ``s + f ≤ max_pulls + depth``

    V(s, f) = max(λ / (1-γ),  p (1 + γ V(s+1, f)) + (1-p) γ V(s, f+1)),   p = (s+1)/(s+f+2)

gives every state's advantage of continuing; the index is where that advantage crosses
zero, located between grid points by linear interpolation. Beyond ``depth`` levels the
value is approximated by ``max(λ, p)/(1-γ)``; ``depth`` is chosen so that ``γ^depth <
1e-3``, which bounds the index error well below 1e-3.

Tables are cached in memory and on disk (``$METAPLASTIC_CACHE`` or
``~/.cache/metaplastic``), keyed by every input, so each is computed once.

Example:
    >>> t = gittins_table(0.9, max_pulls=5)
    >>> 0.5 < float(t[0, 0]) < 1.0      # optimism: more than the posterior mean 0.5
    True
    >>> bool(t[3, 0] > t[0, 0] > t[0, 3])
    True
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

import numpy as np

from metaplastic.errors import ConfigError
from metaplastic.runs.atomic import atomic_save_npz

GRID = 2000  # λ grid points in (0, 1)
TABLE_VERSION = 1


def cache_dir() -> Path:
    """Where computed tables are kept (``$METAPLASTIC_CACHE`` overrides)."""
    return Path(os.environ.get("METAPLASTIC_CACHE", Path.home() / ".cache" / "metaplastic"))


def _depth(discount: float) -> int:
    return int(math.ceil(math.log(1e-3) / math.log(discount)))


@functools.lru_cache(maxsize=16)
def gittins_table(discount: float, *, max_pulls: int) -> np.ndarray:
    """The ``(max_pulls+1, max_pulls+1)`` table of indices ``G[s, f]`` (valid for
    ``s + f <= max_pulls``; other entries are NaN)."""
    if not 0.0 < discount < 1.0:
        raise ConfigError(f"gittins: discount must be in (0, 1), got {discount}")
    depth = _depth(discount)
    if max_pulls + depth > 6000:
        raise ConfigError(
            f"gittins: discount {discount} with {max_pulls} pulls needs a table of depth {max_pulls + depth}; "
            "use a discount <= 0.995 or fewer pulls"
        )
    path = cache_dir() / "gittins" / f"v{TABLE_VERSION}_g{discount!r}_n{max_pulls}_d{depth}_G{GRID}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                table = z["index"]
            if table.shape == (max_pulls + 1, max_pulls + 1):
                return table
        except (OSError, ValueError, KeyError):
            pass  # a corrupt cache entry is recomputed and replaced
    table = _compute(discount, max_pulls, depth, GRID)
    try:
        atomic_save_npz(path, {"index": table})
    except OSError:
        pass  # a read-only home still gets the in-memory cache
    return table


def _compute(discount: float, max_pulls: int, depth: int, grid: int) -> np.ndarray:
    from metaplastic.baselines._gittins_kernel import calibrate

    lambdas = (np.arange(grid, dtype=np.float64) + 0.5) / grid
    return calibrate(float(discount), int(max_pulls), int(max_pulls + depth), lambdas)
