"""The explicit state of an outer loop (optax's pattern): what is trained, how, how far it
has come and the seed that fixes its randomness. The loop owns it, hands it to callbacks
and to checkpointing, and returns it; nothing is parked on a learner for ``save`` to find.

The random state needs no field of its own: update ``u`` draws its randomness from
``(seed, u)`` (see :func:`metaplastic.training.outer.run_outer_loop`), so ``seed`` and
``progress.updates`` are the whole RNG state, and a resumed run continues exactly.

Example:
    >>> state = TrainState(seed=0, params=[0.0], optimizer=None)
    >>> state.progress.updates, state.as_dict()["updates"]
    (0, 0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from metaplastic.errors import RunDirError

__all__ = ["TrainProgress", "TrainState"]


@dataclass
class TrainProgress:
    """Where a training run stands (saved with every checkpoint).

    ``horizon``: the updates the run's schedules span (``None`` until a time-budgeted run
    has fixed it; see :mod:`metaplastic.training.budget`). ``metaplastic train --budget
    <horizon>`` reproduces the run; ``updates < horizon`` after a finished (not
    interrupted) run means its wall time ran past the budget and it stopped early.
    """

    updates: int = 0
    seconds: float = 0.0
    tasks_seen: int = 0
    horizon: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "TrainProgress":
        """The progress fields of a saved dict (other keys ignored; missing ones 0, a missing
        ``horizon`` ``None``: runs saved before it existed). A field of the wrong type or
        range is a one-line :class:`~metaplastic.errors.RunDirError`."""
        d = d or {}
        if not isinstance(d, Mapping):
            raise RunDirError(f"the saved progress must be a JSON object, got {type(d).__name__}")
        horizon = d.get("horizon")
        return cls(updates=_count(d, "updates"), seconds=_seconds(d), tasks_seen=_count(d, "tasks_seen"),
                   horizon=None if horizon is None else _count(d, "horizon", low=1))


def _count(d: Mapping[str, Any], key: str, low: int = 0) -> int:
    v = d.get(key, 0)
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise RunDirError(f"the saved progress's {key!r} must be a whole number >= {low}, got {v!r}")
    return v


def _seconds(d: Mapping[str, Any]) -> float:
    v = d.get("seconds", 0.0)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise RunDirError(f"the saved progress's 'seconds' must be a finite number >= 0, got {v!r}")
    return float(v)


@dataclass
class TrainState:
    """One outer loop's state.

    ``params``: what is trained (a torch module; an ES parameter map). ``optimizer``: how
    (a torch optimizer; an :class:`~metaplastic.training.es.EvolutionStrategy` holding the
    search mean and Adam moments). ``progress``: updates, seconds and tasks so far.
    """

    seed: int
    params: Any
    optimizer: Any
    progress: TrainProgress = field(default_factory=TrainProgress)

    def as_dict(self) -> dict[str, Any]:
        """The progress as a JSON-ready dict (``updates``, ``seconds``, ``tasks_seen``,
        ``horizon``): what checkpoints save and :meth:`TrainProgress.from_dict` reads."""
        return asdict(self.progress)
