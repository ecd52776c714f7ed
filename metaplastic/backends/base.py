"""Shared plumbing for built-in learners: declared config keys, run directories and the
one-task agent of a batched learner. Third-party backends need not use it; the contract is
in :mod:`metaplastic.core`.

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("random", seed=3)
    >>> learner.config["seed"]
    3
"""

from __future__ import annotations

import os
from typing import Any, Callable, ClassVar

from metaplastic.core import Agent, Capabilities, TaskDistribution, VectorAgent
from metaplastic.errors import MetaplasticError, RunDirError
from metaplastic.params import MAX_SEED, Param, coerce, with_defaults
from metaplastic.runs.rundir import Checkpoint, RunDir

SEED_PARAM = Param("seed", int, 0, "seed of the learner's own randomness", low=0, high=MAX_SEED)
GREEDY_PARAM = Param("greedy", bool, False, "agents take the most likely action instead of sampling")


def require_progress(run: RunDir) -> dict[str, Any]:
    """The run's ``progress.json`` (every save of a trained backend writes one); a one-line
    :class:`RunDirError` when it is missing."""
    info = run.progress()
    if info is None:
        raise RunDirError(f"{str(run)!r} has no {RunDir.PROGRESS}: its training state is missing; "
                          "start a new run (or save the learner again)")
    return info


def train_progress(run: RunDir) -> Any:
    """The run's :class:`~metaplastic.training.state.TrainProgress` (one-line errors)."""
    from metaplastic.training.state import TrainProgress

    return TrainProgress.from_dict(require_progress(run))  # from_dict raises one-line RunDirErrors


def fitted_tasks(run: RunDir, what: str) -> Any:
    """The task distribution a run's fitted ``what`` (a prior) was fitted to, rebuilt from the
    run's task spec; a one-line :class:`RunDirError` when the run names none."""
    from metaplastic.api import make_tasks

    spec = run.tasks_spec()
    if spec is None:
        raise RunDirError(f"{str(run)!r} holds {what} but names no task family; the run directory is corrupt")
    return make_tasks(spec)


def saved_state_file(run: RunDir, name: str) -> tuple[Any, bool]:
    """``(progress, present)``: the run's training progress and whether its optimizer-state
    file ``name`` is there; a one-line :class:`RunDirError` when the run records updates but
    lacks that file (a partial training state)."""
    progress = train_progress(run)
    present = run.has(name)
    if not present and progress.updates:
        raise RunDirError(f"{str(run)!r} records {progress.updates} updates but has no {name}: its "
                          "training state is partial; start a new run")
    return progress, present


def single_fit(seed: int, params: Any, *, started: float, tasks_seen: int,
               callback: Callable[..., Any] | None) -> Any:
    """The training state of a meta-training that is one fit (a prior fitted to the training
    tasks' labels): one update, reported to ``callback`` like any outer loop's update.

    Example:
        >>> import time
        >>> single_fit(0, {"a": 1}, started=time.perf_counter(), tasks_seen=5, callback=None).progress.updates
        1
    """
    import time

    from metaplastic.core import StatefulCallback
    from metaplastic.training.state import TrainProgress, TrainState

    progress = TrainProgress(updates=1, seconds=time.perf_counter() - started, tasks_seen=tasks_seen, horizon=1)
    state = TrainState(seed=int(seed), params=params, optimizer=None, progress=progress)
    if callback is not None:
        metrics = {"update": 1, "tasks_seen": tasks_seen, "seconds": progress.seconds}
        if isinstance(callback, StatefulCallback):
            callback.on_update(metrics, state)
        else:
            callback(metrics)
    return state


class BaseLearner:
    """A meta-learner with declared config keys (``config_params``, a
    :class:`~metaplastic.core.Configurable`) and a run directory.

    ``save(path)`` writes one checkpoint (:meth:`RunDir.checkpoint
    <metaplastic.runs.rundir.RunDir.checkpoint>`): whatever ``_save_state`` adds, with
    ``config.json`` (``{"backend": name, "config": {...}}``), published together;
    ``load(path)`` rebuilds from the config and calls ``_load_state``. Both go through
    :class:`~metaplastic.runs.rundir.RunDir`. ``prepare(tasks)`` builds what meta-training
    builds first, so that ``metaplastic train`` fails before it writes anything.
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    config_params: ClassVar[tuple[Param, ...]] = (SEED_PARAM,)

    def __init__(self, **config: Any) -> None:
        self.config: dict[str, Any] = with_defaults(
            self.config_params, coerce(f"backend {self.name}", self.config_params, config)
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config}>"

    def meta_train(
        self, tasks: TaskDistribution, *, budget: Any, seed: int, callback: Callable[..., Any] | None = None
    ) -> Any:
        if not self.capabilities.meta_train:
            raise MetaplasticError(
                f"backend {self.name!r} has no meta-training (capabilities.meta_train is False); evaluate it as it is"
            )
        raise NotImplementedError(f"backend {self.name!r} declares meta_train but does not implement it")

    def agent(self, tasks: TaskDistribution) -> Agent:
        raise NotImplementedError

    def prepare(self, tasks: TaskDistribution) -> None:
        """Build what meta-training on ``tasks`` builds first (a model, a network, warm-started
        from an ``init=`` run), so that a bad config fails before a run directory is written.
        Nothing by default."""

    def save(self, path: str | os.PathLike) -> None:
        with RunDir(path).checkpoint(backend=self.name, config=self.config) as ckpt:
            self._save_state(ckpt)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "BaseLearner":
        run = RunDir(path)
        doc = run.check_backend(cls.name)
        try:
            learner = cls(**cls._config_for_load(dict(doc["config"]), run))
        except (MetaplasticError, TypeError, ValueError) as exc:
            raise RunDirError(f"config.json in {str(path)!r} is invalid: {exc}") from None
        learner._load_state(run)
        return learner

    @classmethod
    def _config_for_load(cls, config: dict[str, Any], run: RunDir) -> dict[str, Any]:
        """The saved config as the learner is rebuilt from it (a hook: e.g. point a
        ``net`` path at the copy the run directory holds)."""
        return config

    def _save_state(self, ckpt: Checkpoint) -> None:
        """Add the learner's state to the checkpoint ``save`` writes."""

    def _load_state(self, run: RunDir) -> None:
        """Read the learner's state from the run's published checkpoint."""


class VectorBackedLearner(BaseLearner):
    """A learner whose agents are lanes of its batched agent (a
    :class:`~metaplastic.core.VectorLearner`): ``agent(tasks)`` is a one-lane
    ``vector_agent`` behind :class:`~metaplastic.runtime.vector.SingleLaneAgent`, so the
    per-agent and batched paths run the same code."""

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> VectorAgent:
        raise NotImplementedError

    def agent(self, tasks: TaskDistribution) -> Agent:
        from metaplastic.runtime.vector import SingleLaneAgent

        return SingleLaneAgent(self.vector_agent(tasks, 1), tasks.observation_space, tasks.action_space)
