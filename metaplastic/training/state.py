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

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

__all__ = ["TrainProgress", "TrainState"]


@dataclass
class TrainProgress:
    """Where a training run stands (saved with every checkpoint)."""

    updates: int = 0
    seconds: float = 0.0
    tasks_seen: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "TrainProgress":
        """The progress fields of a saved dict (other keys ignored; missing ones 0)."""
        d = d or {}
        return cls(updates=int(d.get("updates", 0)), seconds=float(d.get("seconds", 0.0)),
                   tasks_seen=int(d.get("tasks_seen", 0)))


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
        """The progress as a JSON-ready dict (``updates``, ``seconds``, ``tasks_seen``)."""
        return asdict(self.progress)
