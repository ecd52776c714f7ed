"""Divergence checks, written once for every outer loop: a non-finite loss, gradient norm,
parameter, fitness or search mean raises :class:`~metaplastic.errors.TrainingDiverged`
with a one-line message saying what is not finite, how (``nan``, ``inf in 3 of 64
values``) and the likely cause. numpy only; the torch models' checks
(:mod:`metaplastic.nn.finite`) build on it.

A check raised inside an update does not know the update's number:
:func:`~metaplastic.training.outer.run_outer_loop` catches it and names the update
(:func:`at_update`), before the update reaches any callback, so a diverged state is never
handed to a checkpointer. A check that does not know the likely cause either (a rollout's
actions) raises :class:`NonFinite`, and the loop adds the algorithm's hint.

Example:
    >>> import numpy as np
    >>> require_finite(np.array([1.0, np.inf]), "the search mean", "lr=10 is probably too large")
    Traceback (most recent call last):
    ...
    metaplastic.errors.TrainingDiverged: the search mean is not finite (inf in 1 of 2 values); lr=10 is probably too large
    >>> str(at_update(TrainingDiverged("the loss is not finite (nan)"), 3))
    'update 3: the loss is not finite (nan)'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metaplastic.errors import TrainingDiverged

__all__ = ["TrainingDiverged", "NonFinite", "FLOAT32_MAX", "describe_nonfinite", "nonfinite", "require_finite", "at_update",
           "lr_hint"]

_PREFIX = "update "


class NonFinite(TrainingDiverged):
    """A :class:`TrainingDiverged` whose message names no cause yet: the outer loop that
    catches it appends the algorithm's hint (see :func:`at_update`)."""


#: The largest float32: a float64 vector that becomes float32 weights must stay inside it.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def describe_nonfinite(values: Any, limit: float = np.inf) -> str:
    """How ``values`` (a number or an array) is not finite: ``nan``, ``-inf``, or for an
    array with more than one value ``nan and inf in 3 of 64 values`` (values beyond
    ``±limit`` count as not finite: ``beyond ±3.4e+38``)."""
    a = np.asarray(values, dtype=np.float64)
    if a.size == 1 and not np.isfinite(a).all():
        return str(float(a.reshape(())))
    with np.errstate(invalid="ignore"):
        beyond = np.isfinite(a) & (np.abs(a) > limit)
    kinds = [name for name, hit in (("nan", np.isnan(a).any()), ("inf", np.isinf(a).any()),
                                    (f"beyond ±{limit:.2g}", beyond.any())) if hit]
    return f"{' and '.join(kinds) or 'none'} in {int((~np.isfinite(a) | beyond).sum())} of {a.size} values"


def nonfinite(values: Any, what: str, limit: float = np.inf) -> str | None:
    """``"<what> is not finite (<how>)"`` if a value of ``values`` is not finite (or beyond
    ``±limit``, e.g. :data:`FLOAT32_MAX` for weights a float32 runtime will use), else
    ``None`` (``are``, for a plural ``what``: ``"the parameters"``, not ``"the loss"``)."""
    a = np.asarray(values, dtype=np.float64)
    if np.isfinite(a).all() and (limit == np.inf or not (np.abs(a) > limit).any()):
        return None
    verb = "are" if what.endswith("s") and not what.endswith("ss") else "is"
    return f"{what} {verb} not finite ({describe_nonfinite(a, limit)})"


def require_finite(values: Any, what: str, hint: str = "", limit: float = np.inf) -> None:
    """Raise :class:`TrainingDiverged` (``"<what> is not finite (<how>); <hint>"``) unless
    every value of ``values`` is finite (and within ``±limit``); without a ``hint``, a
    :class:`NonFinite`."""
    found = nonfinite(values, what, limit)
    if found is not None:
        raise TrainingDiverged(f"{found}; {hint}") if hint else NonFinite(found)


def at_update(exc: TrainingDiverged, update: int, hint: str = "") -> TrainingDiverged:
    """``exc`` naming the update (1-based, as ``metrics.jsonl``'s ``update``) it happened in
    (unless it names one already), with ``hint`` appended if it is a :class:`NonFinite`."""
    message = str(exc)
    if isinstance(exc, NonFinite) and hint:
        message = f"{message}; {hint}"
    return TrainingDiverged(message if message.startswith(_PREFIX) else f"{_PREFIX}{update}: {message}")


def lr_hint(lr: float, *also: str, inner_lr: float | None = None) -> str:
    """The likely cause of a gradient step that diverged: ``the learning rate lr=1e+30 is
    probably too large — lower lr`` (``or max_grad_norm``, ... for each of ``also``; with
    ``inner_lr``, an inner step's too).

    Example:
        >>> lr_hint(1e30, "max_grad_norm")
        'the learning rate lr=1e+30 is probably too large — lower lr or max_grad_norm'
        >>> lr_hint(0.1, "max_grad_norm", inner_lr=0.5)
        'the learning rate lr=0.1 or the inner step inner_lr=0.5 is probably too large — lower lr, inner_lr or max_grad_norm'
    """
    keys = ["lr", *(["inner_lr"] if inner_lr is not None else []), *also]
    what = f"the learning rate lr={lr:g}" + (f" or the inner step inner_lr={inner_lr:g}" if inner_lr is not None else "")
    lower = ", ".join(keys[:-1]) + f" or {keys[-1]}" if len(keys) > 1 else keys[0]
    return f"{what} is probably too large — lower {lower}"
