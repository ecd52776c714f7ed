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
from math import isfinite
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


# -- the harness's boundary check ------------------------------------------------------------
# What an environment hands an agent is validated once, by the trial loops in
# :mod:`metaplastic.runtime.trials` and :mod:`metaplastic.runtime.vector`, for every backend
# (Gymnasium's passive env checker, but an error rather than a warning). The check only
# reads: the agent gets the environment's own object, unchanged.

_NUMBER_KINDS = frozenset("biuf")
_INTEGER_KINDS = frozenset("biu")


class ObservationCheck:
    """The boundary check of one observation space: :meth:`problem` for one observation,
    :meth:`batch_problem` for a batch with a leading lane axis (vectorized numpy, one pass).

    Each returns ``None`` when the input is fine, else what is wrong in a few words:
    NaN or infinity, a wrong shape, a dtype that cannot hold the space's values (a float
    ``Box`` takes any real numbers; an integer ``Box`` or ``Discrete`` takes integers), or a
    value outside the space's bounds. Other spaces fall back to ``space.contains``.

    Example:
        >>> from gymnasium import spaces
        >>> import numpy as np
        >>> check = ObservationCheck(spaces.Box(0.0, 1.0, (2,), dtype=np.float32))
        >>> check.problem(np.array([0.5, 0.25], dtype=np.float32)) is None
        True
        >>> check.problem(np.array([0.5, np.nan]))
        'contains NaN or infinity: [0.5 nan]'
        >>> check.batch_problem(np.array([[0.5, 0.5], [0.5, 2.0]]))
        (1, 'is outside the bounds [0. 0.] .. [1. 1.] of the space: [0.5 2. ]')
    """

    def __init__(self, space: spaces.Space):
        self.space = space
        self._kind = "other"
        if isinstance(space, spaces.Box):
            self._kind = "box"
            self._shape = tuple(space.shape)
            self._float = np.issubdtype(space.dtype, np.floating)
            self._kinds = _NUMBER_KINDS if self._float else _INTEGER_KINDS
            low, high = np.asarray(space.low), np.asarray(space.high)
            self._low = low if np.isfinite(low).any() else None     # None: no bound to check
            self._high = high if np.isfinite(high).any() else None
            # bounds equal in every coordinate compare with the batch's min and max (no temporaries)
            self._uniform = low.size > 0 and low.min() == low.max() and high.min() == high.max()
            self._lo, self._hi = (float(low.flat[0]), float(high.flat[0])) if self._uniform else (0.0, 0.0)
            # the same bounds clamped to finite numbers: ``lo <= min and max <= hi`` then also
            # rules out NaN (every comparison with it is false) and infinity, in two reductions
            big = float(np.finfo(np.float64).max)
            self._fast = self._uniform
            self._flo, self._fhi = max(self._lo, -big), min(self._hi, big)
        elif isinstance(space, spaces.Discrete):
            self._kind = "discrete"
            self._start, self._stop = int(space.start), int(space.start) + int(space.n)

    # -- one observation -----------------------------------------------------------------
    def problem(self, obs: Any) -> str | None:
        """What is wrong with one observation, or ``None``."""
        if self._kind == "box":
            if (self._fast and type(obs) is np.ndarray and obs.shape == self._shape
                    and obs.dtype.kind in self._kinds):  # the hot path: one call per step of a trial
                if obs.size == 1:
                    if self._flo <= obs.item() <= self._fhi:
                        return None
                elif self._flo <= obs.min() and obs.max() <= self._fhi:
                    return None
            return self._box_problem(obs, self._shape)
        if self._kind == "discrete":
            if isinstance(obs, (bool, np.bool_)) or not isinstance(obs, (int, np.integer)) and not (
                isinstance(obs, np.ndarray) and obs.shape == () and obs.dtype.kind in "iu"
            ):
                return f"is not an integer in [{self._start}, {self._stop}): {_show(obs)}"
            if not self._start <= int(obs) < self._stop:
                return f"is outside [{self._start}, {self._stop}): {int(obs)}"
            return None
        try:
            inside = bool(self.space.contains(obs))
        except Exception:  # noqa: BLE001 - a value the space cannot even compare is not in it
            inside = False
        return None if inside else f"is not in the observation space {self.space}: {_show(obs)}"

    # -- a batch -------------------------------------------------------------------------
    def batch_problem(self, obs: Any) -> tuple[int, str] | None:
        """``(lane, what is wrong)`` for the first bad lane of a batch, or ``None``.

        The lane is ``-1`` when the batch as a whole is malformed (its shape or dtype)."""
        if self._kind == "box" and self._fast and type(obs) is np.ndarray and obs.size:
            # the hot path: one call per batch step of every trial loop
            if (obs.dtype.kind in self._kinds and obs.shape[1:] == self._shape
                    and self._flo <= obs.min() and obs.max() <= self._fhi):
                return None
        if self._kind == "box":
            x = obs if isinstance(obs, np.ndarray) else _as_array(obs)
            if x is None or x.ndim == 0:
                return -1, f"is not an array of observations: {_show(obs)}"
            bad = self._box_problem(x, (x.shape[0], *self._shape))
            if bad is None:
                return None
            lanes = x.reshape(x.shape[0], -1) if x.shape[1:] == self._shape else None
            if lanes is None or x.dtype.kind not in self._kinds:
                return -1, bad
            for i in range(x.shape[0]):  # only on failure: find the first bad lane
                why = self._box_problem(x[i], self._shape)
                if why is not None:
                    return i, why
            return -1, bad
        if self._kind == "discrete":
            x = obs if isinstance(obs, np.ndarray) else _as_array(obs)
            if x is None or x.ndim != 1 or x.dtype.kind not in "iu":
                return -1, f"is not a 1-d integer array of observations: {_show(obs)}"
            if not x.size or (x.min() >= self._start and x.max() < self._stop):
                return None
            ok = (x >= self._start) & (x < self._stop)
            i = int(np.argmin(ok))
            return i, f"is outside [{self._start}, {self._stop}): {int(x[i])}"
        for i, one in enumerate(_lanes(obs)):
            why = self.problem(one)
            if why is not None:
                return i, why
        return None

    def _box_problem(self, obs: Any, shape: tuple[int, ...]) -> str | None:
        x = obs if isinstance(obs, np.ndarray) else _as_array(obs)
        if x is None or x.dtype.kind not in self._kinds:
            want = "real numbers" if self._float else "integers"
            got = type(obs).__name__ if x is None else f"dtype {x.dtype}"
            return f"is not an array of {want} ({got}): {_show(obs)}"
        if x.shape != shape:
            return f"has shape {x.shape}, expected {shape}: {_show(obs)}"
        if not x.size:
            return None
        lo, hi = x.min(), x.max()  # NaN propagates through both
        if x.dtype.kind == "f" and not (isfinite(lo) and isfinite(hi)):
            return f"contains NaN or infinity: {_show(obs)}"
        if self._uniform:
            out = lo < self._lo or hi > self._hi
        else:
            out = (self._low is not None and (x < self._low).any()) or (self._high is not None and (x > self._high).any())
        if out:
            return f"is outside the bounds {_show(self.space.low)} .. {_show(self.space.high)} of the space: {_show(obs)}"
        return None


def _as_array(obs: Any) -> np.ndarray | None:
    try:
        return np.asarray(obs)
    except (TypeError, ValueError):
        return None


def _lanes(obs: Any) -> list[Any]:
    if isinstance(obs, np.ndarray):
        return list(obs)
    if isinstance(obs, dict):  # a batched Dict space: one dict per lane
        n = len(next(iter(obs.values()))) if obs else 0
        return [{k: v[i] for k, v in obs.items()} for i in range(n)]
    if isinstance(obs, tuple):  # a batched Tuple space
        return list(zip(*obs))
    return list(obs)


def _show(x: Any) -> str:
    """A short, one-line rendering of a value for an error message."""
    if isinstance(x, np.ndarray):
        text = np.array2string(x, threshold=8, edgeitems=2, max_line_width=10**6)
    else:
        text = repr(x)
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


def reward_problem(reward: Any) -> str | None:
    """What is wrong with one reward (or a batch of them), or ``None``: it must be a finite
    real number.

    Example:
        >>> reward_problem(1.0) is None, reward_problem(float("nan"))
        (True, 'reward is not a finite number: nan')
    """
    try:
        r = np.asarray(reward, dtype=np.float64)
    except (TypeError, ValueError):
        return f"reward is not a number: {_show(reward)}"
    if isfinite(r.sum()) or np.isfinite(r).all():  # a NaN or infinity makes the sum one too
        return None
    return f"reward is not a finite number: {_show(reward if r.ndim == 0 else r[~np.isfinite(r)][:1][0])}"


def boundary_message(where: str, episode: int, step: int, what: str) -> str:
    """The one-line error of the boundary check: which task, which step, what is wrong.

    ``step`` 0 is the observation of the episode's ``reset``; step ``k`` the one returned by
    its ``k``-th ``step``.

    Example:
        >>> boundary_message("bandits:k=3,n=8, task seed 5", 0, 2, "contains NaN or infinity: [nan]")
        "bandits:k=3,n=8, task seed 5, episode 0, step 2: the environment's observation contains NaN or infinity: [nan] (checked before the agent sees it; fix the task family's environment)"
    """
    what = what if what.startswith("reward") else f"observation {what}"
    return (f"{where}, episode {episode}, step {step}: the environment's {what} "
            "(checked before the agent sees it; fix the task family's environment)")
