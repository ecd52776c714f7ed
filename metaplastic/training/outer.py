"""The outer loop every meta-learner shares: draw the randomness of update ``u`` from
``(seed, u)``, run one update, count it against the budget, report metrics, show progress.

Because update ``u``'s randomness depends only on ``(seed, u)``, a run resumed from a
checkpoint continues exactly as it would have (up to the device's floating point).

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

import time
from typing import Any, Callable

import numpy as np

from metaplastic.core import StatefulCallback
from metaplastic.training.budget import Budget
from metaplastic.training.progress import progress_bar
from metaplastic.training.state import TrainProgress, TrainState

__all__ = ["run_outer_loop", "TrainProgress", "TrainState"]


def run_outer_loop(update: Callable[[np.random.Generator, float], tuple[dict[str, Any], int]], *, label: str, budget: Any,
                   state: TrainState, callback: Callable[..., Any] | None = None,
                   show_progress: bool = True, seed_framework: Callable[[int], Any] | None = None) -> TrainState:
    """Call ``update(rng, fraction_of_budget_spent) -> (metrics, tasks_used)`` until the
    budget (counting ``state.progress`` already made) is spent, and return ``state``.

    ``callback`` gets each update's metrics with ``update``, ``elapsed_s`` and ``update_s``
    added (and the state, if it is a :class:`~metaplastic.core.StatefulCallback`).
    ``seed_framework`` (e.g. ``torch.manual_seed``) is called with a seed drawn from the
    update's generator. numpy only: torch-free learners share this loop."""
    budget = Budget.parse(budget)
    seed, progress = state.seed, state.progress
    clock = budget.clock(updates_done=progress.updates, seconds_done=progress.seconds)
    shown = int(clock.fraction() * 1000)
    with progress_bar(f"meta-train {label} ({budget})", total=1000, enabled=show_progress) as advance:
        advance(shown)
        while not clock.done():
            rng = np.random.default_rng([seed, progress.updates])
            framework_seed = int(rng.integers(2**62))
            if seed_framework is not None:
                seed_framework(framework_seed)
            t0 = time.perf_counter()
            metrics, tasks_used = update(rng, clock.fraction())
            clock.tick()
            progress.updates += 1
            progress.seconds = clock.elapsed
            progress.tasks_seen += tasks_used
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
