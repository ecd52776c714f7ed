"""Action sampling in numpy, from a caller's generator, shared by every runtime (torch,
snntorch, numba) so that the same probabilities and seed give the same actions.

Example:
    >>> import numpy as np
    >>> p = softmax(np.array([[0.0, 0.0, 10.0]]))
    >>> sample_categorical(p, np.random.default_rng(0), greedy=True).tolist()
    [2]
"""

from __future__ import annotations

from typing import Any

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(B, n)`` logits, in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def sample_categorical(p: np.ndarray, rng: np.random.Generator, greedy: bool = False) -> np.ndarray:
    """One action per row of probabilities ``p`` (B, n): inverse-CDF sampling with one
    uniform number per row (``greedy``: the most likely action, no draw)."""
    if greedy:
        return p.argmax(axis=1)
    u = rng.random((p.shape[0], 1))
    return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1)


def sample_gaussian(mean: np.ndarray, log_std: np.ndarray, rng: np.random.Generator,
                    greedy: bool = False) -> np.ndarray:
    """One action per row of a diagonal Gaussian: ``mean`` (B, d) plus ``exp(log_std)``
    (d,) or (B, d) times one standard normal number per entry, in float64 (``greedy``: the
    mean, no draw). Not clipped: the head's ``to_env`` clips to the action space's bounds.

    Example:
        >>> a = sample_gaussian(np.zeros((2, 3)), np.full(3, -20.0), np.random.default_rng(0))
        >>> a.shape, bool(np.abs(a).max() < 1e-8)
        ((2, 3), True)
    """
    mean = np.asarray(mean, dtype=np.float64)
    if greedy:
        return mean
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged policy's actions: callers check them
        return mean + np.exp(np.asarray(log_std, dtype=np.float64)) * rng.standard_normal(mean.shape)


def initial_log_std(space: Any) -> float:
    """Where a Gaussian head's log standard deviation starts for a Box ``space``: the log of
    half of the action range's mean half-width, so exploration fits the bounds (0 where a
    bound is infinite).

    Example:
        >>> from gymnasium import spaces
        >>> round(initial_log_std(spaces.Box(-1.0, 1.0, (2,))), 4)
        -0.6931
    """
    half = (np.asarray(space.high, dtype=np.float64) - np.asarray(space.low, dtype=np.float64)).reshape(-1) / 2
    return float(np.log(0.5 * np.mean(half))) if np.all(np.isfinite(half)) else 0.0


def clip_to_box(actions: np.ndarray, space: Any) -> np.ndarray:
    """Rows of flat continuous actions (B, d) as the Box ``space`` takes them: clipped to
    its bounds, shaped (B, *space.shape), in its dtype (float32 for an integer Box). The
    bounds are the space's own numbers, so clipping then casting stays inside them.

    Example:
        >>> from gymnasium import spaces
        >>> clip_to_box(np.array([[2.0, -3.0]]), spaces.Box(-1.0, 1.0, (2,))).tolist()
        [[1.0, -1.0]]
    """
    a = np.clip(np.asarray(actions), space.low.reshape(-1), space.high.reshape(-1))
    dtype = space.dtype if np.issubdtype(space.dtype, np.floating) else np.dtype(np.float32)
    return a.reshape((a.shape[0], *space.shape)).astype(dtype)


def lanes_rng(seeds: Any, num_lanes: int) -> np.random.Generator:
    """The generator of a vector agent's new trial, seeded by all ``num_lanes`` lane seeds
    (a ``ValueError`` for the wrong number of seeds).

    Example:
        >>> float(lanes_rng([1, 2], 2).random()) == float(lanes_rng(np.array([1, 2]), 2).random())
        True
    """
    seeds = np.asarray(seeds, dtype=np.uint64).ravel()
    if seeds.shape != (num_lanes,):
        raise ValueError(f"reset needs {num_lanes} seeds, got {seeds.shape[0]}")
    return np.random.default_rng(np.random.SeedSequence([int(s) for s in seeds]))
