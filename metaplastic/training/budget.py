"""Meta-training budgets: wall time (``"90s"``, ``"10m"``, ``"1.5h"``) or a number of
updates (``500`` or ``"500-updates"``).

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

from metaplastic.errors import ConfigError

_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)\s*$", re.IGNORECASE)
_UPDATES = re.compile(r"^\s*(\d+)\s*(?:-?\s*updates?)?\s*$", re.IGNORECASE)
_SCALE = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


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
                raise ConfigError(f"budget must be at least 1 update, got {value}")
            return cls(updates=value)
        if isinstance(value, str):
            m = _TIME.match(value)
            if m:
                seconds = float(m.group(1)) * _SCALE[m.group(2).lower()]
                if seconds <= 0:
                    raise ConfigError(f"budget {value!r} is no time at all; give e.g. 10m")
                return cls(seconds=seconds)
            m = _UPDATES.match(value)
            if m and int(m.group(1)) >= 1:
                return cls(updates=int(m.group(1)))
        raise ConfigError(f"budget {value!r} is neither a time (90s, 10m, 1.5h) nor a number of updates (500, 500-updates)")

    def clock(self, *, updates_done: int = 0, seconds_done: float = 0.0) -> "BudgetClock":
        """Start counting against this budget (``*_done``: what a resumed run already spent)."""
        return BudgetClock(self, updates_done=updates_done, seconds_done=seconds_done)

    def __str__(self) -> str:
        parts = []
        if self.seconds is not None:
            parts.append(f"{self.seconds:g}s")
        if self.updates is not None:
            parts.append(f"{self.updates} updates")
        return " or ".join(parts) or "unlimited"


class BudgetClock:
    """Tracks elapsed time and updates; ``done()`` when the budget is spent.

    Example:
        >>> clock = Budget(updates=2).clock()
        >>> clock.tick(); clock.done()
        False
        >>> clock.tick(); clock.done()
        True
    """

    def __init__(self, budget: Budget, *, updates_done: int = 0, seconds_done: float = 0.0):
        self.budget = budget
        self.updates = updates_done
        self._start = time.perf_counter() - seconds_done

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def tick(self, n: int = 1) -> None:
        self.updates += n

    def done(self) -> bool:
        b = self.budget
        return (b.updates is not None and self.updates >= b.updates) or (b.seconds is not None and self.elapsed >= b.seconds)

    def fraction(self) -> float:
        """How much of the budget is spent, in [0, 1] (the larger of the two limits)."""
        parts = [0.0]
        if self.budget.updates:
            parts.append(self.updates / self.budget.updates)
        if self.budget.seconds:
            parts.append(self.elapsed / self.budget.seconds)
        return min(1.0, max(parts))
