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
