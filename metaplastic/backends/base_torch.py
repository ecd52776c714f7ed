"""Shared plumbing of the backends whose policy is a torch model trained by an algorithm
object (``torch``: dense RL² and MAML; ``snntorch``: spiking RL²): the model built for a
task family, warm starts, agents, and checkpoints of the model with its explicit training
state (:class:`~metaplastic.training.state.TrainState`) in a run directory.

A backend subclasses :class:`TorchModelLearner` and declares ``algorithms``: a registry
from the ``algo`` config value to a builder ``builder(learner) -> algorithm``, where an
algorithm offers ``build(tasks)``, ``fits(model, tasks)``, ``init_state(model, *, seed,
optimizer_state, progress)``, ``train(state, tasks, *, budget, callback, show_progress)``
and ``vector_agent(model, tasks, num_lanes)`` (see :class:`metaplastic.rl2.algorithm.RL2`).

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("torch", algo="rl2", hidden=8, batch_tasks=4)
    >>> state = learner.meta_train(metaplastic.make_tasks("bandits:k=2,n=3"), budget=2, seed=0, show_progress=False)
    >>> state.progress.updates, state.params is learner.model
    (2, True)
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, ClassVar, Mapping

from metaplastic.backends.base import VectorBackedLearner, saved_state_file
from metaplastic.core import TaskDistribution, VectorAgent
from metaplastic.errors import ConfigError, MetaplasticError, RunDirError, first_line
from metaplastic.params import Param
from metaplastic.runs.rundir import Checkpoint, RunDir
from metaplastic.tasks.base import task_spec

DEVICE_PARAM = Param("device", str, "auto", "auto (CUDA when available), cpu or cuda", choices=("auto", "cpu", "cuda"))
INIT_PARAM = Param("init", str, "", "a run directory whose trained weights start this learner (warm start, curriculum); "
                   "its network must have the same shapes")


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; ``cuda`` without CUDA is an error."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' but CUDA is not available here; use device='auto' or 'cpu'")
    return requested


def check_optimizer(optimizer: Any) -> None:
    """Take one step with zero gradients on a copy of ``optimizer`` (over copies of its
    parameters): a loaded state of the wrong structure, shape or value fails here, with the
    run's name, instead of in the middle of training."""
    import copy

    import torch

    clones: dict[int, Any] = {}
    groups = []
    for group in optimizer.param_groups:
        params = [clones.setdefault(id(p), p.detach().clone().requires_grad_(True)) for p in group["params"]]
        groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": params})
    probe = type(optimizer)(groups)
    probe.load_state_dict(copy.deepcopy(optimizer.state_dict()))  # its state tensors are not shared
    for p in clones.values():
        p.grad = torch.zeros_like(p)
    probe.step()


class TorchModelLearner(VectorBackedLearner):
    """A learner whose policy is a torch model (``model``) built for one task family
    (``tasks_spec``) by the algorithm its ``algo`` config names."""

    algorithms: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.device = resolve_device(self.config["device"])
        self.model: Any = None
        self.tasks_spec: str | None = None

    def algorithm(self) -> Any:
        """The algorithm object of ``config["algo"]`` (built per call: it holds no state)."""
        return self.algorithms[self.config["algo"]](self)

    # -- the model ------------------------------------------------------------------------
    def ensure_model(self, tasks: TaskDistribution) -> Any:
        """The model for ``tasks`` (built, seeded, on first use; checked afterwards)."""
        algo = self.algorithm()
        if self.model is None:
            self.model = algo.build(tasks)
            self.tasks_spec = task_spec(tasks)
            if self.config["init"]:
                self._load_weights(RunDir(self.config["init"]), allow_new=True)
        elif not algo.fits(self.model, tasks):
            raise ConfigError(
                f"this learner was built for {self.tasks_spec}, whose observation/action spaces differ "
                f"from {task_spec(tasks)}; make a new learner for that family"
            )
        return self.model

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> VectorAgent:
        self.ensure_model(tasks)
        return self.algorithm().vector_agent(self.model, tasks, num_lanes)

    # -- meta-training ----------------------------------------------------------------------
    def meta_train(self, tasks: TaskDistribution, *, budget: Any, seed: int,
                   callback: Callable[..., Any] | None = None, show_progress: bool = True, state: Any = None) -> Any:
        """Train until ``budget`` from ``state`` (a :class:`~metaplastic.training.state.TrainState`
        from :meth:`load_train_state`, or ``None`` for a fresh optimizer); return the state."""
        self.ensure_model(tasks)
        algo = self.algorithm()
        if state is None:
            state = algo.init_state(self.model, seed=seed)
        elif state.params is not self.model:
            raise MetaplasticError("this training state belongs to another learner's model; get it from "
                                   "this learner's load_train_state(run)")
        state = dataclasses.replace(state, seed=seed)
        return algo.train(state, tasks, budget=budget, callback=callback, show_progress=show_progress)

    # -- run directories ----------------------------------------------------------------------
    def prepare(self, tasks: TaskDistribution) -> None:
        """Build the model for ``tasks`` (reading the ``init=`` run's weights), as meta-training would."""
        self.ensure_model(tasks)

    def _save_state(self, ckpt: Checkpoint) -> None:
        """The model alone (``save``); a training state is saved by :meth:`save_checkpoint`."""
        if self.model is not None:
            ckpt.save_torch(RunDir.POLICY, self.model.state_dict())
        self._save_extra(ckpt)
        ckpt.write_progress(tasks=self.tasks_spec, device=self.device, progress={})

    def save_checkpoint(self, path: str | os.PathLike, state: Any) -> None:
        """Save the learner with its training state (weights, optimizer, progress) as one
        checkpoint."""
        with RunDir(path).checkpoint(backend=self.name, config=self.config) as ckpt:
            ckpt.save_torch(RunDir.POLICY, state.params.state_dict())
            ckpt.save_torch(RunDir.OPTIMIZER, state.optimizer.state_dict())
            self._save_extra(ckpt)
            ckpt.write_progress(tasks=self.tasks_spec, device=self.device, progress=state.as_dict())

    def _save_extra(self, ckpt: Checkpoint) -> None:
        """What a subclass adds to every checkpoint (e.g. a given network's shape)."""

    def load_train_state(self, path: str | os.PathLike) -> Any:
        """The training state saved with the run at ``path`` (``None`` if it has none); a
        one-line :class:`RunDirError` when the run records training but lacks its state."""
        run = RunDir(path)
        if self.model is None:
            return None
        progress, present = saved_state_file(run, RunDir.OPTIMIZER)
        if not present:
            return None
        saved = run.load_torch(RunDir.OPTIMIZER, "optimizer state")
        try:
            state = self.algorithm().init_state(self.model, seed=0, progress=progress, optimizer_state=saved)
            check_optimizer(state.optimizer)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError) as exc:
            first = first_line(exc)
            raise RunDirError(f"{str(run.file(RunDir.OPTIMIZER))!r} does not fit this model's optimizer ({first}); "
                              "the run directory is corrupt") from None
        return state

    def _load_state(self, run: RunDir) -> None:
        import metaplastic

        _, present = saved_state_file(run, RunDir.POLICY)
        if not present:
            return
        spec = run.tasks_spec()
        if not spec:
            raise RunDirError(f"{str(run)!r} has weights but no task spec; the run directory is corrupt")
        self.model = None
        self.ensure_model(metaplastic.make_tasks(spec))
        self._load_weights(run)
        self.tasks_spec = spec

    def _load_weights(self, run: RunDir, allow_new: bool = False) -> None:
        """Load the run's weights into the built model (one-line errors if missing or unfit).

        ``allow_new`` (a warm start): parameters the file lacks — e.g. the plasticity
        coefficients of ``rl2-plastic`` started from an ``rl2`` run — keep their fresh
        initial values; every parameter the file has must fit."""
        file = run.file(RunDir.POLICY)
        if not run.has(RunDir.POLICY):
            raise RunDirError(f"{str(file)!r} does not exist; init= must name a trained run directory")
        state = run.load_torch(RunDir.POLICY)
        try:
            result = self.model.load_state_dict(state, strict=not allow_new)
        except (RuntimeError, TypeError, AttributeError) as exc:
            first = first_line(exc)
            raise RunDirError(f"{str(file)!r} does not fit this config's model ({first})") from None
        if allow_new and result.unexpected_keys:
            raise RunDirError(f"{str(file)!r} does not fit this config's model (it has {result.unexpected_keys[0]!r}, "
                              "which this model lacks)")
