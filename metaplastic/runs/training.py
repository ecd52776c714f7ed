"""Training runs: what ``metaplastic train`` does with a run directory — start it, or resume
it from its last checkpoint when rerun with the same options — and the callback that
writes ``metrics.jsonl`` and checkpoints while the outer loop runs.

Resuming exactly needs the learner's :class:`~metaplastic.core.ResumableLearner` ability
(its training state is saved with each checkpoint). A learner without it is checkpointed
with ``save``; rerun, it continues from the saved weights while its progress and metric
lines start again from update 0.

Example:
    >>> import tempfile, metaplastic
    >>> from metaplastic.runs.rundir import RunDir
    >>> run = RunDir(tempfile.mkdtemp() + "/run")
    >>> req = {"backend": "random", "tasks": "bandits", "seed": 0, "config": {}}
    >>> opened = open_training(run, req, fresh=metaplastic.make("random"), load=metaplastic.load)
    >>> opened.resumed, run.request() == req
    (False, True)
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from metaplastic.core import MetaLearner, ResumableLearner
from metaplastic.errors import MetaplasticError, RunDirError
from metaplastic.runs.rundir import RunDir

__all__ = ["open_training", "OpenedRun", "check_same_request", "check_target", "Checkpointer", "StopSignals",
           "Interrupted"]

REQUEST_KEYS = ("backend", "tasks", "seed", "config")


def check_same_request(run: RunDir, request: Mapping[str, Any]) -> None:
    """Refuse to resume ``run`` with options other than it was started with (one-line error
    naming the first that differs)."""
    old = run.request() or {}
    for key in REQUEST_KEYS:
        if old.get(key) != request.get(key):
            raise MetaplasticError(
                f"{str(run)!r} was started with {key}={old.get(key)!r}, not {request.get(key)!r}; "
                "rerun with the same options to resume, or pass a new --out"
            )


def check_target(run: RunDir, request: Mapping[str, Any]) -> bool:
    """Whether ``request`` would resume ``run`` (a one-line error if it may not train there
    at all: another request's run, a folder that is not a run, a corrupt checkpoint).
    Reads only: call it before anything is written."""
    if run.request() is not None:
        check_same_request(run, request)
        return run.is_complete()
    if run.path.exists() and any(p.name != RunDir.LOCK for p in run.path.iterdir()):
        raise RunDirError(f"{str(run)!r} exists and is not a training run; pass a new or empty --out")
    return False


@dataclass
class OpenedRun:
    """A training run ready to (re)start: the learner to train, the training state to
    continue from (``None``: the learner's own start), the updates the checkpoint holds,
    and whether it resumed."""

    learner: MetaLearner
    state: Any
    done: int
    resumed: bool


def open_training(run: RunDir, request: Mapping[str, Any], *, fresh: MetaLearner,
                  load: Callable[[RunDir], MetaLearner]) -> OpenedRun:
    """Start ``run`` for ``request`` with the learner ``fresh``, or resume it.

    A run started with the same ``request`` and holding a checkpoint is resumed: the
    learner is rebuilt by ``load`` (``metaplastic.load``) with its training state (when it
    is a :class:`~metaplastic.core.ResumableLearner`), and metric lines past the
    checkpoint are dropped (they will be redone). A different request is refused.
    """
    if check_target(run, request):
        learner = load(run)
        state = learner.load_train_state(run) if isinstance(learner, ResumableLearner) else None
        done = 0 if state is None else int(state.progress.updates)
        run.trim_metrics(done)
        return OpenedRun(learner, state, done, True)
    if run.request() is None:
        run.write_request(request)
    run.trim_metrics(0)
    return OpenedRun(fresh, None, 0, False)


class Interrupted(KeyboardInterrupt):
    """Training stopped at an update boundary on SIGINT or SIGTERM, after a checkpoint."""

    def __init__(self, signum: int, updates: Any = None) -> None:
        super().__init__(signum)
        self.signum, self.updates = signum, updates

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)


class StopSignals:
    """While active (a ``with`` block in the main thread), SIGINT and SIGTERM ask a
    training run to stop after the update in progress (the :class:`Checkpointer` then saves
    a checkpoint and raises :class:`Interrupted`); a second signal stops at once
    (``KeyboardInterrupt``; the last checkpoint stays)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested is not None:
            raise KeyboardInterrupt
        self.requested = signum
        sys.stderr.write(f"\n{signal.Signals(signum).name}: stopping after this update with a checkpoint "
                         "(send it again to stop now)\n")


class Checkpointer:
    """The ``meta_train`` callback of a training run (a :class:`~metaplastic.core.StatefulCallback`):
    appends each update's metrics to ``metrics.jsonl`` and checkpoints the learner with the
    loop's state every ``every_s`` seconds (``0``: after every update), and when ``stop``
    (a :class:`StopSignals`) has been signalled, then raises :class:`Interrupted`."""

    def __init__(self, run: RunDir, learner: MetaLearner, every_s: float = 30.0, stop: StopSignals | None = None):
        self.run, self.learner, self.every_s, self.stop = run, learner, every_s, stop
        self.log = run.open_metrics()
        self.last_save = time.monotonic()
        self.last: dict[str, Any] = {}
        self.state: Any = None
        self.updates_seen = 0
        self.saved_update: Any = None

    def on_update(self, metrics: dict[str, Any], state: Any) -> None:
        self.state = state
        self(metrics)

    def __call__(self, metrics: dict[str, Any]) -> None:
        self.log.write(metrics)
        self.last = metrics
        self.updates_seen += 1
        if self.stop is not None and self.stop.requested is not None:
            self.checkpoint()
            raise Interrupted(self.stop.requested, metrics.get("update"))
        if time.monotonic() - self.last_save >= self.every_s:
            self.checkpoint()

    def checkpoint(self, state: Any = None) -> None:
        """Save the learner and the loop's state (the latest seen, unless given) as one
        checkpoint (skipped when the latest update is already saved)."""
        state = self.state if state is None else state
        if self.saved_update is not None and self.saved_update == self.last.get("update"):
            return
        if isinstance(self.learner, ResumableLearner) and state is not None:
            self.learner.save_checkpoint(self.run, state)
        else:
            self.learner.save(self.run)
        self.saved_update = self.last.get("update")
        self.last_save = time.monotonic()

    def close(self) -> None:
        self.log.close()
