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
``~/.cache/metaplastic``), keyed by every input, so each is computed once. A cached file
carries the SHA-256 of its table (and the inputs it was computed for); one whose checksum
or inputs do not match (a corrupted or foreign file, even of the right shape) is
recomputed and replaced, never used.

Example:
    >>> t = gittins_table(0.9, max_pulls=5)
    >>> 0.5 < float(t[0, 0]) < 1.0      # optimism: more than the posterior mean 0.5
    True
    >>> bool(t[3, 0] > t[0, 0] > t[0, 3])
    True
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import zipfile
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
    key = f"v{TABLE_VERSION}_g{discount!r}_n{max_pulls}_d{depth}_G{GRID}"
    path = cache_dir() / "gittins" / f"{key}.npz"
    cached = _read_cached(path, key, (max_pulls + 1, max_pulls + 1))
    if cached is not None:
        return cached
    table = _compute(discount, max_pulls, depth, GRID)
    try:
        atomic_save_npz(path, {"index": table, "sha256": np.array(checksum(table)), "key": np.array(key)})
    except OSError:
        pass  # a read-only home still gets the in-memory cache
    return table


def checksum(table: np.ndarray) -> str:
    """The SHA-256 of a table: its dtype, shape and bytes (NaN entries included).

    Example:
        >>> checksum(np.zeros((2, 2))) == checksum(np.zeros((2, 2))) != checksum(np.zeros((2, 3)))
        True
    """
    t = np.ascontiguousarray(table)
    h = hashlib.sha256(f"{t.dtype.str}{t.shape}".encode("ascii"))
    h.update(t.tobytes())
    return h.hexdigest()


def _read_cached(path: Path, key: str, shape: tuple[int, int]) -> np.ndarray | None:
    """The cached table at ``path`` if it is whole: the right inputs, shape and dtype, and
    a matching checksum; ``None`` (recompute) otherwise."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            table, stored, stored_key = z["index"], str(z["sha256"]), str(z["key"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # unreadable, or written before checksums: recomputed and replaced
    if stored_key != key or table.shape != shape or table.dtype != np.float64 or checksum(table) != stored:
        return None  # corrupted or foreign: recomputed and replaced
    return table


def _compute(discount: float, max_pulls: int, depth: int, grid: int) -> np.ndarray:
    from metaplastic.baselines._gittins_kernel import calibrate

    lambdas = (np.arange(grid, dtype=np.float64) + 0.5) / grid
    return calibrate(float(discount), int(max_pulls), int(max_pulls + depth), lambdas)
