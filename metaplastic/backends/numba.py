"""The ``numba`` backend: spiking RL² networks run event-driven on Numba kernels, and
meta-trained without torch by evolution strategies (algorithm ``es``).

It executes any :class:`~metaplastic.spiking.SpikingNet` — one trained by the snntorch
backend, read from an ``.npz`` or a NIR file, or evolved here: ``make("numba",
net=SpikingNet | path)``. Nothing on this path imports torch.

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.spiking import SpikingNet
    >>> net = SpikingNet(w_in=np.ones((8, 5)), w_out=np.ones((2, 8)), du=0.5, dv=0.5, substeps=2)
    >>> learner = metaplastic.make("numba", net=net)
    >>> tasks = metaplastic.make_tasks("bandits:k=2,n=3")
    >>> learner.vector_agent(tasks, 4).num_lanes
    4
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

from metaplastic.backends.base import SEED_PARAM, BaseLearner
from metaplastic.core import Agent, Capabilities, TaskDistribution
from metaplastic.errors import ConfigError, MetaplasticError, RunDirError
from metaplastic.training.executors import EXECUTORS
from metaplastic.runs.atomic import atomic_save_npz, atomic_write_json
from metaplastic.params import Param

NET_FILE = "net.npz"
ES_FILE = "es_state.npz"
PROGRESS_FILE = "progress.json"

NET_PARAM = Param("net", str, "", "a SpikingNet to run, or the path of one (.npz written by SpikingNet.save, or a "
                  "NIR file); empty: meta-train a new one")
EXECUTION_PARAMS = (
    Param("greedy", bool, False, "agents take the most likely action instead of sampling"),
)
NET_SHAPE_PARAMS = (
    Param("hidden", int, 32, "spiking neurons of a new network", low=1, high=65536),
    Param("substeps", int, 2, "time steps per decision of a new network", low=1, high=1000),
    Param("neuron", str, "cuba-lif", "neuron model of a new network", choices=("cuba-lif", "alif")),
    Param("plastic", bool, False, "a new network's recurrent weights learn within a trial by a three-factor rule "
          "whose per-synapse rates are evolved"),
)
ES_PARAMS = (
    Param("population", int, 64, "es: candidates per generation (even: antithetic pairs)", low=2),
    Param("sigma", float, 0.1, "es: standard deviation of the weight perturbations", low=0.0, low_exclusive=True),
    Param("lr", float, 0.03, "es: Adam step size", low=0.0, low_exclusive=True),
    Param("weight_decay", float, 0.0, "es: L2 pull of the weights towards 0", low=0.0),
    Param("batch_tasks", int, 64, "es: training tasks (one trial each) per fitness evaluation", low=1),
    Param("executor", str, "inprocess", "es: where the population is evaluated (a name in "
          "metaplastic.training.executors.EXECUTORS: inprocess, process, or one registered there)"),
    Param("workers", int, 0, "es: processes of the 'process' executor (0: one per CPU core)", low=0),
)


def read_net(path: str | os.PathLike) -> Any:
    """A :class:`SpikingNet` from an ``.npz`` (``SpikingNet.save``) or a NIR file (needs ``nir``)."""
    from metaplastic.spiking import SpikingNet

    p = Path(path)
    if p.suffix.lower() == ".npz":
        return SpikingNet.load(p)
    from metaplastic.spiking.nir_io import read_nir

    return read_nir(p)


def net_in_run(config: dict[str, Any], path: str | os.PathLike) -> dict[str, Any]:
    """A saved config whose ``net`` is given: point it at the copy in the run directory, so
    that the run does not depend on where the original file was."""
    if config.get("net") and (Path(path) / NET_FILE).is_file():
        config["net"] = str(Path(path) / NET_FILE)
    return config


def split_net(owner: str, config: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Take a ``net=SpikingNet`` object out of ``config`` (it is not a JSON config value);
    a path stays in the config and is read by the learner."""
    from metaplastic.spiking import SpikingNet

    net = config.get("net")
    if isinstance(net, SpikingNet):
        return {k: v for k, v in config.items() if k != "net"}, net
    if net is not None and not isinstance(net, (str, os.PathLike)):
        raise ConfigError(f"backend {owner}: net must be a SpikingNet or the path of one, got {type(net).__name__}")
    if isinstance(net, os.PathLike):
        config = {**config, "net": os.fspath(net)}
    return config, None


class NumbaLearner(BaseLearner):
    """Event-driven spiking RL² on Numba kernels; ``es`` meta-training without torch."""

    name = "numba"
    capabilities = Capabilities(meta_train=True, algorithms=("es",), spiking=True, devices=("cpu",))
    config_params = (
        SEED_PARAM,
        Param("algo", str, "es", "meta-training algorithm (es: evolution strategies over weights and plasticity rates)",
              choices=("es",)),
        NET_PARAM, *EXECUTION_PARAMS, *NET_SHAPE_PARAMS, *ES_PARAMS,
    )

    def __init__(self, **config: Any) -> None:
        config, net = split_net(self.name, config)
        super().__init__(**config)
        if self.config["executor"] not in EXECUTORS:
            raise ConfigError(f"backend numba: unknown executor {self.config['executor']!r}; choose one of "
                              f"{', '.join(EXECUTORS)} (or register one in metaplastic.training.executors.EXECUTORS)")
        if self.config["population"] % 2:
            raise ConfigError(f"backend numba: population must be even (antithetic pairs), got {self.config['population']}")
        if net is None and self.config["net"]:
            net = read_net(self.config["net"])
        self.net: Any = net
        self.tasks_spec: str | None = None
        self.progress: dict[str, Any] = {}
        self.es_state: dict[str, np.ndarray] | None = None
        self._live: Any = None  # (ES, NetVector, TrainProgress) while training

    # -- the network -------------------------------------------------------------------------
    def ensure_net(self, tasks: TaskDistribution) -> Any:
        """The network (a new random one for ``tasks`` if none was given or trained)."""
        from metaplastic.spiking.es_fitness import random_net

        if self.net is None:
            c = self.config
            self.net = random_net(tasks, neurons=c["hidden"], seed=c["seed"], substeps=c["substeps"],
                                  neuron=c["neuron"], plastic=c["plastic"])
            self.tasks_spec = getattr(tasks, "spec", None)
        return self.net

    def spiking_net(self) -> Any:
        """The network this learner runs (for export)."""
        if self.net is None:
            raise MetaplasticError("this learner has no network yet; meta-train it, or make it with net=...")
        return self.current_net()

    def current_net(self) -> Any:
        """The network, with the search mean of a running ES applied."""
        if self._live is not None:
            es, vector, _ = self._live
            return vector.unflatten(es.theta)
        return self.net

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> Any:
        from metaplastic.runtime.encoding import TrialInputEncoder
        from metaplastic.spiking.net_agent import SpikingNetAgent

        net = self.ensure_net(tasks)
        enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
        return SpikingNetAgent(net, enc, num_lanes, greedy=self.config["greedy"])

    def agent(self, tasks: TaskDistribution) -> Agent:
        from metaplastic.runtime.vector import SingleLaneAgent

        return SingleLaneAgent(self.vector_agent(tasks, 1), tasks.observation_space)

    # -- meta-training -------------------------------------------------------------------------
    def meta_train(self, tasks: TaskDistribution, *, budget: Any, seed: int,
                   callback: Callable[[dict[str, Any]], Any] | None = None, show_progress: bool = True) -> dict[str, Any]:
        from metaplastic.spiking.es_train import train_es

        self.ensure_net(tasks)
        return train_es(self, tasks, budget=budget, seed=seed, callback=callback, show_progress=show_progress)

    # -- run directories -------------------------------------------------------------------------
    @classmethod
    def _config_for_load(cls, config: dict[str, Any], path: str | os.PathLike) -> dict[str, Any]:
        return net_in_run(config, path)

    def _save_state(self, path: str | os.PathLike) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self._live is not None:
            es, _, progress = self._live
            self.es_state = {"theta": es.theta, "m": es.m, "v": es.v, "t": np.array(es.t)}
            self.progress = dataclasses.asdict(progress)
        net = self.current_net()
        if net is not None:
            net.save(path / NET_FILE)
        if self.es_state is not None:
            atomic_save_npz(path / ES_FILE, self.es_state)
        atomic_write_json(path / PROGRESS_FILE, {"tasks": self.tasks_spec, **self.progress})

    def _load_state(self, path: str | os.PathLike) -> None:
        from metaplastic.spiking import SpikingNet

        path = Path(path)
        if (path / PROGRESS_FILE).is_file():
            try:
                info = json.loads((path / PROGRESS_FILE).read_text())
            except ValueError:
                info = None
            if not isinstance(info, dict):
                raise RunDirError(f"{str(path / PROGRESS_FILE)!r} is not a JSON object; the run directory is corrupt")
            self.tasks_spec = info.pop("tasks", None)
            self.progress = info
        if (path / NET_FILE).is_file():
            self.net = SpikingNet.load(path / NET_FILE)
        if (path / ES_FILE).is_file():
            try:
                with np.load(path / ES_FILE, allow_pickle=False) as z:
                    self.es_state = {k: z[k] for k in ("theta", "m", "v", "t")}
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise RunDirError(f"{str(path / ES_FILE)!r} is corrupt or foreign ({type(exc).__name__}); "
                                  "start a new run") from None
