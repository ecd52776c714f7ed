"""Checking observations at the agent's door: NaN, wrong shape or out-of-space values get a
one-line :class:`~metaplastic.errors.InvalidObservation`, never a silent wrong decision.

Example:
    >>> from gymnasium import spaces
    >>> import numpy as np
    >>> check_observation(spaces.Box(0, 1, (2,)), [0.5, 0.25]).tolist()
    [0.5, 0.25]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from metaplastic.errors import InvalidObservation


def check_observation(space: spaces.Space, obs: Any) -> Any:
    """Return ``obs`` as the space's array type (a new array; the input is not mutated)."""
    if isinstance(space, spaces.Box):
        try:
            x = np.array(obs, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidObservation(f"observation {obs!r} is not numeric; expected an array of shape {space.shape}") from None
        if x.shape != space.shape:
            raise InvalidObservation(f"observation has shape {x.shape}, expected {space.shape}")
        if not (math.isfinite(x.item()) if x.size == 1 else np.isfinite(x).all()):
            raise InvalidObservation("observation contains NaN or infinity; check the environment's output")
        return x
    if isinstance(space, spaces.Discrete):
        if isinstance(obs, (bool, float)) or not isinstance(obs, (int, np.integer)) and not (
            isinstance(obs, np.ndarray) and obs.shape == () and np.issubdtype(obs.dtype, np.integer)
        ):
            raise InvalidObservation(f"observation {obs!r} is not an integer in [{space.start}, {space.start + space.n})")
        value, start = int(obs), int(space.start)
        if not start <= value < start + int(space.n):
            raise InvalidObservation(f"observation {value} is outside [{start}, {start + space.n})")
        return value
    if not space.contains(obs):
        raise InvalidObservation(f"observation {obs!r} is not in the observation space {space}")
    return obs
