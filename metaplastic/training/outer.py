"""The outer loop every meta-learner shares: draw the randomness of update ``u`` from
``(seed, u)``, run one update at schedule fraction ``u / H``, check that it did not
diverge, count it against the budget, report metrics, show progress.

Because update ``u``'s randomness depends only on ``(seed, u)`` and its schedules only on
``u / H`` — ``H``, the run's *horizon* in updates, is the update budget, or under a time
budget is fixed by the first update's cost and saved with the progress (see
:mod:`metaplastic.training.budget`) — a run resumed from a checkpoint continues exactly as
it would have (up to the device's floating point), and a time-budgeted run is reproduced
exactly by ``--budget H``.

Divergence: a check inside an update (a non-finite loss or gradient norm, before the
optimizer steps) raises :class:`~metaplastic.errors.TrainingDiverged`; after each update
the loop runs the algorithm's ``check`` of the state (its parameters) and looks at the
``loss`` and ``grad_norm`` metrics. Either way the error names the update and is raised
before the update reaches a callback, so a checkpointing callback never sees a diverged
state.

The loop owns a :class:`~metaplastic.training.state.TrainState`: it advances the state's
progress and hands the state to callbacks that declare
:class:`~metaplastic.core.StatefulCallback` (to checkpoint it); plain callables get the
metrics only.

Example:
    >>> state = TrainState(seed=0, params=None, optimizer=None)
    >>> def update(rng, fraction):
    ...     return {"trial_return": float(rng.random())}, 8
    >>> run_outer_loop(update, label="demo", budget=3, state=state, show_progress=False).progress.updates
    3
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from metaplastic.core import StatefulCallback
from metaplastic.errors import TrainingDiverged
from metaplastic.training.budget import Budget
from metaplastic.training.divergence import at_update, nonfinite
from metaplastic.training.progress import progress_bar
from metaplastic.training.state import TrainProgress, TrainState

__all__ = ["run_outer_loop", "TrainProgress", "TrainState"]


def run_outer_loop(update: Callable[[np.random.Generator, float], tuple[dict[str, Any], int]], *, label: str, budget: Any,
                   state: TrainState, callback: Callable[..., Any] | None = None,
                   show_progress: bool = True, seed_framework: Callable[[int], Any] | None = None,
                   check: Callable[[TrainState], str | None] | None = None, hint: str = "") -> TrainState:
    """Call ``update(rng, schedule_fraction) -> (metrics, tasks_used)`` until the budget
    (counting ``state.progress`` already made) is spent, and return ``state``.

    ``schedule_fraction`` is ``u / H`` for update ``u`` (0-based) of a run with horizon ``H``
    (the update budget, or fixed after the first update under a time budget; saved as
    ``state.progress.horizon``): schedules that follow it are reproducible.
    ``callback`` gets each update's metrics with ``update``, ``elapsed_s`` and ``update_s``
    added (and the state, if it is a :class:`~metaplastic.core.StatefulCallback`).
    ``seed_framework`` (e.g. ``torch.manual_seed``) is called with a seed drawn from the
    update's generator. ``check(state)`` describes what of the state is not finite
    (``"the parameters are not finite (nan in 3 of 90 values)"``) or returns ``None``; it
    runs before the first update and after each. A non-finite state, ``loss`` or
    ``grad_norm`` metric, or a :class:`~metaplastic.errors.TrainingDiverged` from
    ``update`` raises :class:`~metaplastic.errors.TrainingDiverged` naming the update
    (``hint``, the likely cause, appended to what the loop finds itself) before any
    callback sees the update. numpy only: torch-free learners share this loop."""
    budget = Budget.parse(budget)
    seed, progress = state.seed, state.progress
    clock = budget.clock(updates_done=progress.updates, seconds_done=progress.seconds, horizon=progress.horizon)
    clock.calibrate()  # a resumed time-budgeted run saved before it had a horizon: from its average cost
    shown = int(clock.fraction() * 1000)
    with progress_bar(f"meta-train {label} ({budget})", total=1000, enabled=show_progress) as advance:
        advance(shown)
        if check is not None and not clock.done():
            found = check(state)
            if found is not None:
                raise TrainingDiverged(f"update {progress.updates + 1}: before it, {found}; the state training starts "
                                       "from (a checkpoint, an init run, the model given) is corrupt")
        while not clock.done():
            rng = np.random.default_rng([seed, progress.updates])
            framework_seed = int(rng.integers(2**62))
            if seed_framework is not None:
                seed_framework(framework_seed)
            t0 = time.perf_counter()
            try:
                metrics, tasks_used = update(rng, clock.fraction())
            except TrainingDiverged as exc:
                raise at_update(exc, progress.updates + 1, hint) from None
            found = check(state) if check is not None else None
            for key in ("loss", "grad_norm"):
                value = metrics.get(key)
                if found is None and isinstance(value, (int, float)) and not math.isfinite(value):
                    found = nonfinite(metrics[key], f"the {key.replace('_', ' ')}")
            if found is not None:
                raise TrainingDiverged(f"update {progress.updates + 1}: {found}" + (f"; {hint}" if hint else ""))
            clock.tick()
            clock.calibrate()
            progress.updates += 1
            progress.seconds = clock.elapsed
            progress.tasks_seen += tasks_used
            progress.horizon = clock.horizon
            metrics = {"update": progress.updates, "elapsed_s": round(progress.seconds, 3), **metrics,
                       "update_s": round(time.perf_counter() - t0, 4)}
            now = int(clock.fraction() * 1000)
            shown_fields = {k: f"{v:.3f}" for k, v in metrics.items() if k in ("trial_return", "post_adaptation_return")}
            advance(now - shown, update=progress.updates, **shown_fields)
            shown = now
            if isinstance(callback, StatefulCallback):
                callback.on_update(metrics, state)
            elif callback is not None:
                callback(metrics)
    return state
