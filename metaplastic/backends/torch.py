"""The ``torch`` backend: dense meta-RL policies, the GPU baseline every energy and latency
claim is measured against. Algorithms: ``rl2`` (a recurrent actor-critic trained by A2C
through whole trials, :mod:`metaplastic.dense.gru`) and ``maml`` (an MLP adapted by
policy-gradient steps, :mod:`metaplastic.dense.maml`).

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("torch", algo="rl2", hidden=16, batch_tasks=8)
    >>> learner.meta_train(metaplastic.make_tasks("bandits:k=3,n=5"), budget=2, seed=0)["updates"]
    2
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from metaplastic.backends.base import SEED_PARAM, BaseLearner
from metaplastic.core import Agent, Capabilities, TaskDistribution
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runs.atomic import atomic_write_bytes, atomic_write_json
from metaplastic.params import Param

POLICY_FILE = "policy.pt"
OPTIMIZER_FILE = "optimizer.pt"
PROGRESS_FILE = "progress.json"

DEVICE_PARAM = Param("device", str, "auto", "auto (CUDA when available), cpu or cuda", choices=("auto", "cpu", "cuda"))
ALGO_PARAM = Param("algo", str, "rl2", "meta-RL algorithm", choices=("rl2", "maml"))

RL2_PARAMS = (
    Param("hidden", int, 128, "recurrent units", low=1, high=65536),
    Param("cell", str, "gru", "recurrent cell", choices=("gru", "lstm")),
    Param("batch_tasks", int, 512, "tasks (one trial each) per update", low=1),
    Param("lr", float, 3e-3, "Adam learning rate", low=0.0, low_exclusive=True),
    Param("lr_schedule", str, "constant", "learning rate over the budget: constant, or linear (from lr down to 0 "
          "at the end of the budget)", choices=("constant", "linear")),
    Param("gamma", float, 0.99, "discount across the whole trial", low=0.0, high=1.0),
    Param("gae_lambda", float, 0.95, "GAE lambda", low=0.0, high=1.0),
    Param("vf_coef", float, 0.05, "value-loss weight (small: the value loss must not crowd the policy gradient out of the clipped norm)", low=0.0),
    Param("ent_coef", float, 0.05, "entropy bonus at the start of training", low=0.0),
    Param("ent_coef_final", float, 0.0, "entropy bonus at the end (linear schedule)", low=0.0),
    Param("max_grad_norm", float, 1.0, "gradient-norm clip", low=0.0, low_exclusive=True),
    Param("greedy", bool, False, "agents take the most likely action instead of sampling"),
    Param("init", str, "", "a run directory whose trained weights start this learner (warm start, curriculum); "
          "its network must have the same shapes"),
)

MAML_PARAMS = (
    Param("mlp_hidden", int, 64, "maml: units of each of the policy's two hidden layers", low=1),
    Param("inner_lr", float, 0.003, "maml: step size of the inner policy-gradient steps (tuned on nav2d, whose Gaussian policy starts at std 0.05)", low=0.0, low_exclusive=True),
    Param("inner_steps", int, 1, "maml: policy-gradient steps per adaptation", low=1, high=100),
    Param("first_order", bool, False, "maml: drop second-order terms from the meta-gradient"),
    Param("adapt", str, "all", "maml: parameters adapted in the inner loop (head = output layer only, a sparse "
          "meta-update)", choices=("all", "head")),
)


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; ``cuda`` without CUDA is an error."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' but CUDA is not available here; use device='auto' or 'cpu'")
    return requested


def save_torch(path: Path, obj: Any) -> None:
    """``torch.save`` to a file atomically."""
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_torch(path: Path, what: str) -> Any:
    """``torch.load(..., weights_only=True)`` with a one-line error for corrupt or foreign files."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise RunDirError(f"{what} {str(path)!r} is corrupt or not a metaplastic checkpoint ({first})") from None


class TorchLearner(BaseLearner):
    """Dense RL² and MAML policies in PyTorch (CUDA when present)."""

    name = "torch"
    capabilities = Capabilities(meta_train=True, algorithms=("rl2", "maml"), devices=("cpu", "cuda"))
    config_params = (SEED_PARAM, ALGO_PARAM, DEVICE_PARAM, *RL2_PARAMS, *MAML_PARAMS)

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.device = resolve_device(self.config["device"])
        self.model: Any = None  # the algorithm's model, built for a task family's spaces
        self.tasks_spec: str | None = None
        self.progress: dict[str, Any] = {}
        self._optimizer_state: Any = None
        self.optimizer: Any = None  # set while training, so a checkpoint can save its state
        self._live_progress: Any = None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        import importlib.util

        if importlib.util.find_spec("torch") is None:  # checked without importing torch
            return "needs torch; install with: pip install 'metaplastic[torch]'"
        return None

    # -- the algorithm ------------------------------------------------------------------
    def _algorithm(self) -> Any:
        if self.config["algo"] == "rl2":
            from metaplastic.rl2.algorithm import RL2Algorithm

            return RL2Algorithm(self)
        from metaplastic.dense.maml import MAMLAlgorithm

        return MAMLAlgorithm(self)

    def ensure_model(self, tasks: TaskDistribution) -> Any:
        """The model for ``tasks`` (built, seeded, on first use; checked afterwards)."""
        algo = self._algorithm()
        if self.model is None:
            self.model = algo.build(tasks)
            self.tasks_spec = getattr(tasks, "spec", getattr(tasks, "name", None))
            if self.config["init"]:
                self._load_weights(Path(self.config["init"]) / POLICY_FILE, allow_new=True)
        else:
            algo.check_compatible(self.model, tasks)
        return self.model

    def meta_train(self, tasks: TaskDistribution, *, budget: Any, seed: int,
                   callback: Callable[[dict[str, Any]], Any] | None = None, show_progress: bool = True) -> dict[str, Any]:
        self.ensure_model(tasks)
        return self._algorithm().train(tasks, budget=budget, seed=seed, callback=callback, show_progress=show_progress)

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> Any:
        self.ensure_model(tasks)
        return self._algorithm().vector_agent(tasks, num_lanes)

    def agent(self, tasks: TaskDistribution) -> Agent:
        from metaplastic.runtime.vector import SingleLaneAgent

        return SingleLaneAgent(self.vector_agent(tasks, 1), tasks.observation_space)

    @contextlib.contextmanager
    def training_session(self) -> Iterator[tuple[Any, Any]]:
        """``(optimizer, progress)`` for a stretch of meta-training: Adam restored from the
        last checkpoint, progress counted from it; a checkpoint taken meanwhile (``save``)
        sees both live, and they are kept when the stretch ends, however it ends."""
        import torch

        from metaplastic.training.outer import TrainProgress

        optimizer = torch.optim.Adam(self.model.parameters(), lr=self.config["lr"])
        if self._optimizer_state is not None:
            optimizer.load_state_dict(self._optimizer_state)
        progress = TrainProgress(**{k: self.progress.get(k, 0) for k in ("updates", "seconds", "tasks_seen")})
        self.optimizer, self._live_progress = optimizer, progress
        self.model.train()
        try:
            yield optimizer, progress
        finally:
            self._optimizer_state = optimizer.state_dict()
            self.progress = dataclasses.asdict(progress)
            self.optimizer, self._live_progress = None, None
            self.model.eval()

    # -- run directories ------------------------------------------------------------------
    def _save_state(self, path: str | os.PathLike) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            save_torch(path / POLICY_FILE, self.model.state_dict())
        opt_state = self.optimizer.state_dict() if self.optimizer is not None else self._optimizer_state
        if self._live_progress is not None:
            self.progress = dataclasses.asdict(self._live_progress)
        if opt_state is not None:
            save_torch(path / OPTIMIZER_FILE, opt_state)
        atomic_write_json(path / PROGRESS_FILE, {"tasks": self.tasks_spec, "device": self.device, **self.progress})

    def _load_weights(self, file: Path, allow_new: bool = False) -> None:
        """Load ``file``'s weights into the built model (one-line errors if missing or unfit).

        ``allow_new`` (a warm start): parameters the file lacks — e.g. the plasticity
        coefficients of ``rl2-plastic`` started from an ``rl2`` run — keep their fresh
        initial values; every parameter the file has must fit."""
        if not file.is_file():
            raise RunDirError(f"{str(file)!r} does not exist; init= must name a trained run directory")
        state = load_torch(file, "checkpoint")
        try:
            result = self.model.load_state_dict(state, strict=not allow_new)
        except (RuntimeError, TypeError, AttributeError) as exc:
            first = str(exc).strip().splitlines()[0][:200]
            raise RunDirError(f"{str(file)!r} does not fit this config's model ({first})") from None
        if allow_new and result.unexpected_keys:
            raise RunDirError(f"{str(file)!r} does not fit this config's model (it has {result.unexpected_keys[0]!r}, "
                              "which this model lacks)")

    def _load_state(self, path: str | os.PathLike) -> None:
        import json

        import metaplastic

        path = Path(path)
        if not (path / PROGRESS_FILE).is_file():
            return
        try:
            info = json.loads((path / PROGRESS_FILE).read_text())
        except ValueError:
            raise RunDirError(f"{str(path / PROGRESS_FILE)!r} is not valid JSON; the run directory is corrupt") from None
        self.progress = {k: v for k, v in info.items() if k not in ("tasks", "device")}
        spec = info.get("tasks")
        if (path / POLICY_FILE).is_file():
            if not spec:
                raise RunDirError(f"{str(path)!r} has weights but no task spec; the run directory is corrupt")
            tasks = metaplastic.make_tasks(spec)
            self.model = None
            self.ensure_model(tasks)
            self._load_weights(path / POLICY_FILE)
            self.tasks_spec = spec
        if (path / OPTIMIZER_FILE).is_file():
            self._optimizer_state = load_torch(path / OPTIMIZER_FILE, "optimizer state")
