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
import os
from typing import Any, Callable

from metaplastic.backends.base import GREEDY_PARAM, SEED_PARAM, VectorBackedLearner, saved_state_file
from metaplastic.backends.base_spiking import NET_PARAM, given_net, net_in_run
from metaplastic.core import Capabilities, TaskDistribution, VectorAgent
from metaplastic.errors import ConfigError, MetaplasticError, RunDirError
from metaplastic.params import Param
from metaplastic.runs.rundir import Checkpoint, RunDir
from metaplastic.spiking.params import NEURON_PARAM, SUBSTEPS_PARAM
from metaplastic.training.es import ES_PARAMS
from metaplastic.training.executors import EXECUTORS
from metaplastic.training.params import EXECUTOR_PARAMS

NET_SHAPE_PARAMS = (
    Param("hidden", int, 32, "spiking neurons of a new network", low=1, high=65536),
    SUBSTEPS_PARAM,
    NEURON_PARAM,
    Param("plastic", bool, False, "a new network's recurrent weights learn within a trial by a three-factor rule "
          "whose per-synapse rates are evolved"),
)
ES_RUN_PARAMS = (
    Param("batch_tasks", int, 64, "es: training tasks (one trial each) per fitness evaluation (at most 16384)", low=1,
          high=16_384),
    *EXECUTOR_PARAMS,  # each worker holds a copy of the search: a generation moves seeds and fitness values
    Param("energy_coef", float, 0.0, "es: energy-aware evolution, fitness = mean trial return - energy_coef x firing "
          "rate (spikes per neuron update)", low=0.0),
)


class NumbaLearner(VectorBackedLearner):
    """Event-driven spiking RL² on Numba kernels; ``es`` meta-training without torch."""

    name = "numba"
    capabilities = Capabilities(meta_train=True, algorithms=("es",), spiking=True, devices=("cpu",), exports=("nir",))
    config_params = (
        SEED_PARAM,
        Param("algo", str, "es", "meta-training algorithm (es: evolution strategies over weights and plasticity rates)",
              choices=("es",)),
        NET_PARAM, GREEDY_PARAM, *NET_SHAPE_PARAMS, *ES_PARAMS, *ES_RUN_PARAMS,
    )

    def __init__(self, **config: Any) -> None:
        config, net = given_net(self.name, config)
        super().__init__(**config)
        if self.config["executor"] not in EXECUTORS:
            raise ConfigError(f"backend numba: unknown executor {self.config['executor']!r}; choose one of "
                              f"{', '.join(EXECUTORS)} (or register one in metaplastic.training.executors.EXECUTORS)")
        if self.config["population"] % 2:
            raise ConfigError(f"backend numba: population must be even (antithetic pairs), got {self.config['population']}")
        self.net: Any = net
        self.tasks_spec: str | None = None

    # -- the network -------------------------------------------------------------------------
    def ensure_net(self, tasks: TaskDistribution) -> Any:
        """The network (a new random one for ``tasks`` if none was given or trained)."""
        from metaplastic.tasks.base import task_spec
        from metaplastic.spiking.es_fitness import random_net

        if self.net is None:
            c = self.config
            self.net = random_net(tasks, neurons=c["hidden"], seed=c["seed"], substeps=c["substeps"],
                                  neuron=c["neuron"], plastic=c["plastic"])
        if self.tasks_spec is None:  # a given network too: its run must name the tasks it ran on
            self.tasks_spec = task_spec(tasks)
        return self.net

    def spiking_net(self) -> Any:
        """The network this learner runs (for export)."""
        if self.net is None:
            raise MetaplasticError("this learner has no network yet; meta-train it, or make it with net=...")
        return self.net

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> VectorAgent:
        from metaplastic.runtime.encoding import TrialInputEncoder
        from metaplastic.spiking.net_agent import SpikingNetAgent

        net = self.ensure_net(tasks)
        enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
        return SpikingNetAgent(net, enc, num_lanes, greedy=self.config["greedy"])

    # -- meta-training -------------------------------------------------------------------------
    def _settings(self) -> Any:
        from metaplastic.params import settings_from
        from metaplastic.training.es import ESSettings

        return settings_from(ESSettings, self.config)

    def meta_train(self, tasks: TaskDistribution, *, budget: Any, seed: int,
                   callback: Callable[..., Any] | None = None, show_progress: bool = True, state: Any = None) -> Any:
        """Evolve the network until ``budget`` from ``state`` (see :meth:`load_train_state`;
        ``None``: a new search around the current network); return the state."""
        from metaplastic.spiking.es_train import init_es_state, state_net, train_es

        self.ensure_net(tasks)
        if state is None:
            state = init_es_state(self.net, self._settings(), seed=seed, trainable_plasticity=self.config["plastic"])
        state = dataclasses.replace(state, seed=seed)
        start = state.progress.updates
        c = self.config
        state = train_es(state, tasks, budget=budget, batch_tasks=c["batch_tasks"], greedy=c["greedy"],
                         executor=c["executor"], workers=c["workers"], callback=callback, show_progress=show_progress,
                         energy_coef=c["energy_coef"])
        if state.progress.updates > start:  # a network given and never updated stays as it is
            self.net = state_net(state)
        return state

    # -- run directories -------------------------------------------------------------------------
    @classmethod
    def _config_for_load(cls, config: dict[str, Any], run: RunDir) -> dict[str, Any]:
        return net_in_run(config, run)

    def prepare(self, tasks: TaskDistribution) -> None:
        """Make the network for ``tasks`` (a new random one, unless one was given), as meta-training would."""
        self.ensure_net(tasks)

    def _save_state(self, ckpt: Checkpoint) -> None:
        if self.net is not None:
            ckpt.save_net(self.net)
        ckpt.write_progress(tasks=self.tasks_spec, progress={})

    def save_checkpoint(self, path: str | os.PathLike, state: Any) -> None:
        """The network at the search mean, the search and the progress, as one checkpoint."""
        from metaplastic.spiking.es_train import es_arrays, state_net

        with RunDir(path).checkpoint(backend=self.name, config=self.config) as ckpt:
            ckpt.save_net(state_net(state))
            ckpt.save_npz(RunDir.ES_STATE, es_arrays(state))
            ckpt.write_progress(tasks=self.tasks_spec, progress=state.as_dict())

    def load_train_state(self, path: str | os.PathLike) -> Any:
        """The search saved with the run at ``path`` (``None`` if it has none); a one-line
        :class:`RunDirError` when the run records training but lacks its search."""
        from metaplastic.spiking.es_train import ES_KEYS, init_es_state

        run = RunDir(path)
        if self.net is None:
            return None
        progress, present = saved_state_file(run, RunDir.ES_STATE)
        if not present:
            return None
        saved = run.load_npz(RunDir.ES_STATE, ES_KEYS)
        kw = dict(seed=0, trainable_plasticity=self.config["plastic"], progress=progress)
        size = init_es_state(self.net, self._settings(), **kw).optimizer.theta.shape
        t = saved["t"]
        if (any(saved[k].shape != size for k in ("theta", "m", "v")) or t.shape != () or t.dtype.kind not in "iu"
                or int(t) < 0):
            raise RunDirError(f"{str(run.file(RunDir.ES_STATE))!r} does not fit this network's search (it needs "
                              f"theta, m and v of shape {size} and a step count t >= 0); the run directory is corrupt")
        return init_es_state(self.net, self._settings(), saved=saved, **kw)

    def _load_state(self, run: RunDir) -> None:
        from metaplastic.spiking import SpikingNet

        _, present = saved_state_file(run, RunDir.NET)
        self.tasks_spec = run.tasks_spec()
        if present:
            self.net = run.load_net(SpikingNet)
