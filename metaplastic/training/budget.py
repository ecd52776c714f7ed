"""Meta-training budgets: wall time (``"90s"``, ``"10m"``, ``"1.5h"``) or a number of
updates (``500`` or ``"500-updates"``), and the clock that counts against them.

Schedules (the learning rate's, the entropy bonus's) follow progress measured in updates,
never wall time, so that a run is reproducible: update ``u`` of a run whose *horizon* is
``H`` updates gets the schedule fraction ``u / H``. With an update budget ``H`` is the
budget. With a time budget the first update runs at fraction 0 (which needs no ``H``) and
its cost fixes ``H``: the updates that fit the budget at that cost. The run then makes
``H`` updates, whatever the wall time does, unless the wall time passes :data:`OVERRUN`
times the budget first (it then stops early, with ``updates < horizon`` recorded).
``H`` is saved with the progress (``horizon`` in ``progress.json``); a resumed run keeps
it, and ``--budget H`` (updates) reproduces the time-budgeted run exactly.

Limits: a budget is at most :data:`MAX_UPDATES` updates (10**9) or :data:`MAX_SECONDS` of
wall time (10 years); a larger one is a one-line :class:`~metaplastic.errors.LimitExceeded`.

Example:
    >>> Budget.parse("10m").seconds
    600.0
    >>> Budget.parse("500-updates").updates
    500
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from metaplastic.errors import ConfigError, LimitExceeded

_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)\s*$", re.IGNORECASE)
_UPDATES = re.compile(r"^\s*(\d+)\s*(?:-?\s*updates?)?\s*$", re.IGNORECASE)
_SCALE = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}

#: A time-budgeted run stops before its horizon only when its wall time passes this multiple
#: of the budget (the first update's cost was a poor estimate: a slower machine, a shared one).
OVERRUN = 1.25

#: The largest update budget (10**9 updates: years of training at the fastest backend's pace).
MAX_UPDATES = 10**9
#: The largest time budget, in seconds (10 years of 365 days).
MAX_SECONDS = 10 * 365 * 24 * 3600.0


def _updates(count: int | str, value: Any) -> int:
    """``count`` (an int, or the digits a budget string gave) as a number of updates, with a
    one-line :class:`LimitExceeded` above :data:`MAX_UPDATES` (checked on the digits before
    converting them, so that thousands of digits are no ``int()`` error)."""
    if isinstance(count, str):
        digits = "".join(str(int(c)) for c in count).lstrip("0") or "0"  # any script's digits, as ASCII
        count = MAX_UPDATES + 1 if len(digits) > len(str(MAX_UPDATES)) else int(digits)
    if count > MAX_UPDATES:
        raise LimitExceeded(f"budget {_short(value)} is above the limit of {MAX_UPDATES} updates; give fewer updates "
                            f"or a time (90s, 10m, 1.5h)")
    return count


def _short(value: Any) -> str:
    """``repr(value)``, cut to 60 characters (a budget of thousands of digits stays readable)."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's int-to-text digit limit
        return "a number of more than 4300 digits"
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Budget:
    """A limit on meta-training: ``seconds`` of wall time and/or ``updates``; whichever
    is reached first stops training."""

    seconds: float | None = None
    updates: int | None = None

    @classmethod
    def parse(cls, value: Any) -> "Budget":
        """Read a budget from a :class:`Budget`, an int (updates) or a string."""
        if isinstance(value, Budget):
            return value
        if isinstance(value, bool):
            raise ConfigError(f"budget must be a time such as 10m or a number of updates, got {value!r}")
        if isinstance(value, int):
            if value < 1:
                raise ConfigError(f"budget must be at least 1 update, got {_short(value)}")
            return cls(updates=_updates(value, value))
        if isinstance(value, str):
            m = _TIME.match(value)
            if m:
                seconds = float(m.group(1)) * _SCALE[m.group(2).lower()]
                if seconds <= 0:
                    raise ConfigError(f"budget {_short(value)} is no time at all; give e.g. 10m")
                if not seconds <= MAX_SECONDS:  # also inf, from thousands of digits
                    raise LimitExceeded(f"budget {_short(value)} is above the limit of {MAX_SECONDS:g} seconds "
                                        f"(10 years); give a shorter time such as 10m or 1.5h")
                return cls(seconds=seconds)
            m = _UPDATES.match(value)
            if m and _updates(m.group(1), value) >= 1:
                return cls(updates=_updates(m.group(1), value))
        raise ConfigError(f"budget {_short(value)} is neither a time (90s, 10m, 1.5h) nor a number of updates "
                          f"(500, 500-updates)")

    def clock(self, *, updates_done: int = 0, seconds_done: float = 0.0, horizon: int | None = None) -> "BudgetClock":
        """Start counting against this budget (``*_done``: what a resumed run already spent;
        ``horizon``: the horizon it saved, kept under a time budget)."""
        return BudgetClock(self, updates_done=updates_done, seconds_done=seconds_done, horizon=horizon)

    def first_update_sets_horizon(self, saved_horizon: int | None = None) -> bool:
        """Whether the first update's cost will fix the schedule horizon: a time budget
        without a horizon saved by an earlier run. A loop then does its start-up work
        (workers, first-call costs) before the clock starts.

        Example:
            >>> Budget.parse("10m").first_update_sets_horizon(), Budget.parse("10m").first_update_sets_horizon(40)
            (True, False)
        """
        return self.clock(horizon=saved_horizon).horizon is None

    def __str__(self) -> str:
        parts = []
        if self.seconds is not None:
            parts.append(f"{self.seconds:g}s")
        if self.updates is not None:
            parts.append(f"{self.updates} updates")
        return " or ".join(parts) or "unlimited"


class BudgetClock:
    """Tracks elapsed time, updates and the schedule horizon; ``done()`` when the budget is
    spent.

    ``horizon`` is the number of updates the schedules run over (see the module's
    docstring): an update budget's count; under a time budget the horizon saved by a
    resumed run, else ``None`` until :meth:`calibrate` fixes it after the first update.

    Example:
        >>> clock = Budget(updates=2).clock()
        >>> clock.fraction(), clock.horizon
        (0.0, 2)
        >>> clock.tick(); clock.done(), clock.fraction()
        (False, 0.5)
        >>> clock.tick(); clock.done()
        True
    """

    def __init__(self, budget: Budget, *, updates_done: int = 0, seconds_done: float = 0.0,
                 horizon: int | None = None):
        self.budget = budget
        self.updates = updates_done
        self._start = time.perf_counter() - seconds_done
        if budget.seconds is None:
            self.horizon = budget.updates
        elif horizon is not None and horizon >= 1:
            self.horizon = horizon if budget.updates is None else min(horizon, budget.updates)
        else:
            self.horizon = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def tick(self, n: int = 1) -> None:
        self.updates += n

    def calibrate(self) -> None:
        """Under a time budget, once an update has run and no horizon is set: fix the horizon
        at the updates that fit the budget at the average cost of those made so far (at
        least the updates made; at most an update budget given too)."""
        b = self.budget
        if self.horizon is not None or b.seconds is None or self.updates < 1:
            return
        per_update = max(self.elapsed / self.updates, 1e-9)
        horizon = max(self.updates, round(b.seconds / per_update))
        self.horizon = horizon if b.updates is None else min(horizon, b.updates)

    def done(self) -> bool:
        """The horizon is reached, or (a time budget) the wall time is past the budget —
        past :data:`OVERRUN` times the budget once the horizon is fixed."""
        b = self.budget
        if self.horizon is not None and self.updates >= self.horizon:
            return True
        if b.updates is not None and self.updates >= b.updates:
            return True
        if b.seconds is None:
            return False
        return self.elapsed >= b.seconds * (OVERRUN if self.horizon is not None else 1.0)

    def overran(self) -> bool:
        """Whether the run stops short of its horizon because the wall time ran over."""
        return self.horizon is not None and self.updates < self.horizon and self.done()

    def fraction(self) -> float:
        """How much of the horizon is spent, in [0, 1]: ``updates / horizon`` (0 while a time
        budget's horizon is not fixed yet, i.e. for the first update)."""
        if not self.horizon:
            return 0.0
        return min(1.0, self.updates / self.horizon)
