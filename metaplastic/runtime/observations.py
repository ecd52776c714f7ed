"""Checking what crosses the agent's door, in both directions of one trial loop:

* :class:`ObservationCheck` is the harness's check of what an environment produces (exact
  bounds; a one-line :class:`~metaplastic.errors.InvalidObservation` naming task, episode
  and step, raised by :mod:`metaplastic.runtime.trials` and :mod:`metaplastic.runtime.vector`);
* :class:`AgentInputs` is the agent's own check of what it is handed (``act``'s observation,
  ``observe``'s transition), used by every built-in backend through
  :class:`~metaplastic.runtime.vector.SingleLaneAgent`: a one-line
  :class:`~metaplastic.errors.InvalidInput` naming the field, the value and the space.

What an agent accepts (:class:`AgentInputs`):

* an observation in the observation space: for a ``Box``, an array of its shape, finite,
  within its bounds up to :data:`BOUND_TOLERANCE` (relative and absolute: ``x`` is accepted
  when ``low - tol*(1+|low|) <= x <= high + tol*(1+|high|)``, so float32 rounding of a
  value on a bound passes); ``Discrete``, ``MultiBinary`` and other spaces exactly;
* an action in the action space: for a ``Discrete``, an integer ``start <= a < start + n``
  (not a bool, not a float); for a ``Box``, its shape and bounds as above;
* a reward that is a finite real number (``int``/``float`` or a numpy one; not a bool);
* ``terminated`` and ``truncated`` that are booleans (``bool`` or ``numpy.bool_``).

Example:
    >>> from gymnasium import spaces
    >>> import numpy as np
    >>> check_observation(spaces.Box(0, 1, (2,)), [0.5, 0.25]).tolist()
    [0.5, 0.25]
"""

from __future__ import annotations

from math import isfinite
from typing import Any

import numpy as np
from gymnasium import spaces

from metaplastic.errors import InvalidInput, InvalidObservation

#: The tolerance (relative and absolute) of an agent's check of ``Box`` bounds: a value
#: ``x`` is inside when ``low - tol*(1+|low|) <= x <= high + tol*(1+|high|)``. Discrete,
#: MultiBinary and other spaces are checked exactly.
BOUND_TOLERANCE = 1e-6


def check_observation(space: spaces.Space, obs: Any) -> Any:
    """Return ``obs`` as the space's array type (a new float64 array for a ``Box``, an
    ``int`` for a ``Discrete``; the input is not mutated), or raise a one-line
    :class:`~metaplastic.errors.InvalidObservation` (bounds with :data:`BOUND_TOLERANCE`).

    Example:
        >>> check_observation(spaces.Discrete(3), np.int64(2))
        2
        >>> check_observation(spaces.Box(0, 1, (1,)), [5.0])
        Traceback (most recent call last):
        ...
        metaplastic.errors.InvalidObservation: observation=[5.0] is not in the observation space Box(0.0, 1.0, (1,), float32) (an array of shape (1,) of finite real numbers in [0, 1], bounds tolerance 1e-06): it is outside the bounds [0.] .. [1.] of the space
    """
    return AgentInputs(space).observation(obs, field="observation", error=InvalidObservation)


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
    ``tolerance`` widens a ``Box``'s finite bounds by ``tolerance * (1 + |bound|)`` (the
    harness checks exactly; :class:`AgentInputs` passes :data:`BOUND_TOLERANCE`).

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

    def __init__(self, space: spaces.Space, *, tolerance: float = 0.0):
        self.space = space
        self.tolerance = float(tolerance)
        self._kind = "other"
        if isinstance(space, spaces.Box):
            self._kind = "box"
            self._shape = tuple(space.shape)
            self._float = np.issubdtype(space.dtype, np.floating)
            self._kinds = _NUMBER_KINDS if self._float else _INTEGER_KINDS
            low, high = np.asarray(space.low), np.asarray(space.high)
            if self.tolerance:  # widen finite bounds by tol * (1 + |bound|): relative and absolute
                low = low.astype(np.float64) - self.tolerance * (1.0 + np.abs(low.astype(np.float64)))
                high = high.astype(np.float64) + self.tolerance * (1.0 + np.abs(high.astype(np.float64)))
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


# -- the agent's own check -------------------------------------------------------------------
# What an agent is handed through the Agent contract (act's observation, observe's
# transition) may come from anyone, not only from the trial loops: a user's own loop, a
# replay, a test. Every built-in backend's agent checks it here, once, through
# SingleLaneAgent; the fast paths below cost well under a microsecond per field.


class AgentInputs:
    """The checks of one agent's inputs against its task's spaces: :meth:`observation`
    for ``act`` (returns the observation as the agent's array type), :meth:`transition`
    for ``observe``. A bad input is a one-line :class:`~metaplastic.errors.InvalidInput`
    naming the field, the value and the space; what is accepted is in the module's
    docstring (Box bounds up to :data:`BOUND_TOLERANCE`). Without an ``action_space``,
    actions are not checked.

    Example:
        >>> from metaplastic.core import Transition
        >>> check = AgentInputs(spaces.Box(0.0, 1.0, (1,), dtype=np.float32), spaces.Discrete(5))
        >>> check.observation(np.array([1.0 + 1e-7], dtype=np.float32)).dtype   # within the tolerance
        dtype('float64')
        >>> obs = np.zeros(1, dtype=np.float32)
        >>> check.transition(Transition(obs, -1, 1.0, obs, True, False))
        Traceback (most recent call last):
        ...
        metaplastic.errors.InvalidInput: observe: transition.action=-1 is not in the action space Discrete(5) (an integer 0 <= a < 5)
    """

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space | None = None):
        self.observation_space = observation_space
        self.action_space = action_space
        self._obs = ObservationCheck(observation_space, tolerance=BOUND_TOLERANCE)
        self._box = isinstance(observation_space, spaces.Box)
        self._act = None if action_space is None else ObservationCheck(action_space, tolerance=BOUND_TOLERANCE)
        self._discrete_actions = isinstance(action_space, spaces.Discrete)
        if self._discrete_actions:
            self._a0, self._a1 = int(action_space.start), int(action_space.start) + int(action_space.n)

    # -- act ------------------------------------------------------------------------------
    def observation(self, obs: Any, *, field: str = "act: obs", error: type[Exception] = InvalidInput) -> Any:
        """``obs`` checked and converted: a new float64 array for a ``Box``, an ``int`` for
        a ``Discrete``, the object itself otherwise."""
        if self._obs.problem(obs) is not None:
            raise error(self._message(field, obs, "observation", self.observation_space, self._obs, "x"))
        if self._box:
            return np.array(obs, dtype=np.float64)
        return int(obs) if self._obs._kind == "discrete" else obs

    # -- observe --------------------------------------------------------------------------
    def transition(self, t: Any) -> None:
        """Check every field of a :class:`~metaplastic.core.Transition`."""
        obs_check = self._obs
        if obs_check.problem(t.obs) is not None:
            raise InvalidInput(self._message("observe: transition.obs", t.obs, "observation", self.observation_space,
                                             obs_check, "x"))
        if obs_check.problem(t.next_obs) is not None:
            raise InvalidInput(self._message("observe: transition.next_obs", t.next_obs, "observation",
                                             self.observation_space, obs_check, "x"))
        a = t.action
        if self._discrete_actions and type(a) is int:  # the hot path: a plain int action
            if not self._a0 <= a < self._a1:
                raise InvalidInput(self._message("observe: transition.action", a, "action", self.action_space,
                                                 self._act, "a"))
        elif self._act is not None and self._act.problem(a) is not None:
            raise InvalidInput(self._message("observe: transition.action", a, "action", self.action_space, self._act, "a"))
        r = t.reward
        if not (type(r) is float and isfinite(r)) and not _finite_real(r):
            raise InvalidInput(f"observe: transition.reward={_show(r)} is not a finite real number "
                               "(an int or float, not NaN or infinity)")
        for name in ("terminated", "truncated"):
            flag = getattr(t, name)
            if type(flag) is not bool and not isinstance(flag, np.bool_):
                raise InvalidInput(f"observe: transition.{name}={_show(flag)} is not a boolean (bool or numpy.bool_)")

    # -- messages (only on failure) ---------------------------------------------------------
    @staticmethod
    def _message(field: str, value: Any, role: str, space: spaces.Space, check: ObservationCheck, sym: str) -> str:
        shown = _show(value)
        text = f"{field}={shown} is not in the {role} space {space} ({_requirement(space, sym)})"
        why = check.problem(value)
        if why and not isinstance(space, spaces.Discrete):
            why = why[: -len(shown) - 2] if why.endswith(f": {shown}") else why
            why = "is not numeric" if why.startswith("is not an array of real numbers") else why
            text += f": it {why}"
        return text


def _requirement(space: spaces.Space, sym: str) -> str:
    """What a space accepts, in words (for error messages)."""
    if isinstance(space, spaces.Discrete):
        start = int(space.start)
        return f"an integer {start} <= {sym} < {start + int(space.n)}"
    if isinstance(space, spaces.Box):
        kind = "real numbers" if np.issubdtype(space.dtype, np.floating) else "integers"
        low, high = np.asarray(space.low, dtype=np.float64), np.asarray(space.high, dtype=np.float64)
        what = f"an array of shape {tuple(space.shape)} of finite {kind}"
        if not (np.isfinite(low).any() or np.isfinite(high).any()):
            return what
        if low.size and low.min() == low.max() and high.min() == high.max():
            return f"{what} in [{low.flat[0]:g}, {high.flat[0]:g}], bounds tolerance {BOUND_TOLERANCE:g}"
        return f"{what} within the space's low .. high, bounds tolerance {BOUND_TOLERANCE:g}"
    return "a member of the space, exactly"


def _finite_real(r: Any) -> bool:
    """Whether a reward is a finite real number (a bool is not one)."""
    if isinstance(r, (bool, np.bool_)) or not isinstance(r, (int, float, np.integer, np.floating)):
        return False
    try:
        return isfinite(r)
    except OverflowError:  # an int beyond the float range
        return False
