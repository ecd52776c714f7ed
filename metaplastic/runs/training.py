"""Training runs: what ``metaplastic train`` does with a run directory — start it, or resume
it from its last checkpoint when rerun with the same options — and the callback that
writes ``metrics.jsonl`` and checkpoints while the outer loop runs.

Resuming needs the learner's :class:`~metaplastic.core.ResumableLearner` ability (its
training state is saved with each checkpoint). A learner without it is checkpointed with
``save`` and starts over when rerun.

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
from dataclasses import dataclass
import threading
import time
from typing import Any, Callable, Mapping

from metaplastic.core import MetaLearner, ResumableLearner
from metaplastic.errors import MetaplasticError, RunDirError
from metaplastic.runs.rundir import RunDir

__all__ = ["open_training", "OpenedRun", "check_same_request", "Checkpointer"]

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
    started = run.request() is not None
    if started:
        check_same_request(run, request)
    elif run.path.exists() and any(run.path.iterdir()):
        raise RunDirError(f"{str(run)!r} exists and is not a training run; pass a new or empty --out")
    if started and run.is_complete():
        learner = load(run)
        state = learner.load_train_state(run) if isinstance(learner, ResumableLearner) else None
        done = 0 if state is None else int(state.progress.updates)
        run.trim_metrics(done)
        return OpenedRun(learner, state, done, True)
    if not started:
        run.write_request(request)
    run.trim_metrics(0)
    return OpenedRun(fresh, None, 0, False)


class Checkpointer:
    """The ``meta_train`` callback of a training run (a :class:`~metaplastic.core.StatefulCallback`):
    appends each update's metrics to ``metrics.jsonl`` and checkpoints the learner with the
    loop's state every ``every_s`` seconds (an interrupt is held off while it writes)."""

    def __init__(self, run: RunDir, learner: MetaLearner, every_s: float = 30.0):
        self.run, self.learner, self.every_s = run, learner, every_s
        self.fh = run.open_metrics()
        self.last_save = time.monotonic()
        self.last: dict[str, Any] = {}
        self.state: Any = None

    def on_update(self, metrics: dict[str, Any], state: Any) -> None:
        self.state = state
        self(metrics)

    def __call__(self, metrics: dict[str, Any]) -> None:
        import json

        self.fh.write(json.dumps(metrics) + "\n")
        self.fh.flush()
        self.last = metrics
        if time.monotonic() - self.last_save >= self.every_s:
            self.checkpoint()

    def checkpoint(self, state: Any = None) -> None:
        """Save the learner and the loop's state (the latest seen, unless given) as one
        checkpoint."""
        state = self.state if state is None else state
        main = threading.current_thread() is threading.main_thread()
        old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            if isinstance(self.learner, ResumableLearner) and state is not None:
                self.learner.save_checkpoint(self.run, state)
            else:
                self.learner.save(self.run)
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
        self.last_save = time.monotonic()

    def close(self) -> None:
        self.fh.close()
