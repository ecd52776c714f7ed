"""The ``lava`` backend: a trained spiking RL² policy run closed loop on Lava's Loihi 2
simulator, in ``fixed_pt`` (Loihi's bit-accurate arithmetic, the default) or
``floating_pt``.

lava-nc 0.10.0 needs Python 3.10 and numpy < 2, so it runs in a runtime the library
provisions (``metaplastic runtime install lava``) and a worker process there builds the
network from numbers sent over a pipe (:mod:`metaplastic.spiking.lava_lanes`); this
process never imports lava. The backend does not meta-train: it runs a given
:class:`~metaplastic.spiking.SpikingNet` — an object, an ``.npz``/NIR file (``net=``), or
the network of a snntorch or numba run (``metaplastic.load(run, backend="lava")``,
``metaplastic bench --run lava=RUN``).

Example (needs the runtime):
    >>> import numpy as np, metaplastic
    >>> from metaplastic.spiking import SpikingNet
    >>> tasks = metaplastic.make_tasks("bandits:k=2,n=3")
    >>> net = SpikingNet(w_in=np.ones((8, 6)), w_out=np.ones((2, 8)), du=0.5, dv=0.5, substeps=2)
    >>> learner = metaplastic.make("lava", net=net, mode="floating_pt")  # doctest: +SKIP
    >>> metaplastic.evaluate(learner, tasks, n_tasks=4).returns.shape  # doctest: +SKIP
    (4, 3)
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from metaplastic.backends.base import GREEDY_PARAM, SEED_PARAM, VectorBackedLearner
from metaplastic.backends.base_spiking import NET_PARAM, given_net
from metaplastic.core import Capabilities, SpikingExporter, TaskDistribution, VectorAgent
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.params import Param
from metaplastic.runs.rundir import Checkpoint, RunDir
from metaplastic.spiking.lava_map import MODES

LAVA_PARAMS = (
    Param("mode", str, "fixed_pt", "Lava's simulation: fixed_pt (Loihi 2's bit-accurate integer arithmetic: 8-bit "
          "weights, 12-bit decays, 24-bit states) or floating_pt", choices=MODES),
    Param("timeout", float, 30.0, "seconds the host waits for each answer of the Lava worker before it is killed "
          "and the run fails in one line (building the network: at least 60)", low=0.1),
    Param("x_max", float, 4.0, "fixed_pt: the largest |graded input| (encoded observation, action, reward) the "
          "quantization is sized for; a larger input is refused in one line", low=0.0, low_exclusive=True),
)


class LavaLearner(VectorBackedLearner):
    """A trained spiking network on Lava's Loihi 2 simulator (fixed or floating point)."""

    name = "lava"
    capabilities = Capabilities(meta_train=False, spiking=True, devices=("loihi2-sim",), exports=("nir",),
                                requires=("net",))
    config_params = (SEED_PARAM, NET_PARAM, GREEDY_PARAM, *LAVA_PARAMS)

    def __init__(self, **config: Any) -> None:
        config, net = given_net(self.name, config)
        super().__init__(**config)
        if net is None:
            raise ConfigError("backend lava runs a given network: make('lava', net=SpikingNet or a .npz/NIR path), "
                              "or load a snntorch or numba run with metaplastic.load(RUN, backend='lava')")
        from metaplastic.spiking.lava_map import refuse_plastic

        refuse_plastic(net)
        self.net = net
        self.tasks_spec: str | None = None
        self.device = "loihi2-sim"
        # running workers of agents that are gone, by (lanes, mode, timeout): a worker takes a
        # second to start and build, and the latency benchmark makes one agent per trial
        self._idle: dict[tuple[int, str, float, float], list[Any]] = {}

    @classmethod
    def unavailable_reason(cls) -> str | None:
        from metaplastic.workers.provision import unavailable

        return unavailable("lava")

    def spiking_net(self) -> Any:
        """The network this learner runs."""
        return self.net

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> VectorAgent:
        from metaplastic.runtime.encoding import TrialInputEncoder
        from metaplastic.spiking.lava_lanes import LavaLanes
        from metaplastic.spiking.net_agent import SpikingNetAgent

        enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
        key = (int(num_lanes), self.config["mode"], float(self.config["timeout"]), float(self.config["x_max"]))
        idle = self._idle.get(key)
        lanes = idle.pop() if idle else LavaLanes(self.net, num_lanes, mode=key[1], timeout=key[2], x_max=key[3])
        agent = SpikingNetAgent(self.net, enc, num_lanes, greedy=self.config["greedy"], lanes=lanes)
        weakref.finalize(agent, _give_back, weakref.ref(self), key, lanes)
        return agent

    def close(self) -> None:
        """Stop the idle workers (those of agents still in use stop when the agents go)."""
        for pool in self._idle.values():
            for lanes in pool:
                lanes.close()
        self._idle.clear()

    # -- run directories ---------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike) -> LavaLearner:
        """A saved lava learner, or the network of a run of another spiking backend (a
        :class:`~metaplastic.core.SpikingExporter`: snntorch, numba) run on Lava with the
        default config."""
        run = RunDir(path)
        if run.backend == cls.name:
            return super().load(run)
        return cls.from_run(run)

    @classmethod
    def from_run(cls, run: RunDir, **config: Any) -> LavaLearner:
        """The network trained in ``run`` (by a backend that exports a SpikingNet) on Lava."""
        import metaplastic

        source = metaplastic.load(run)
        if not isinstance(source, SpikingExporter):
            raise ConfigError(f"{str(run.path)!r} was trained with backend {source.name!r}, which has no spiking "
                              "network to run on Lava; train one with snntorch or numba")
        learner = cls(**config, net=source.spiking_net())
        learner.tasks_spec = run.tasks_spec()
        return learner

    @classmethod
    def _config_for_load(cls, config: dict[str, Any], run: RunDir) -> dict[str, Any]:
        if not run.has(RunDir.NET):
            raise RunDirError(f"{str(run.path)!r}: a lava run must hold its network ({RunDir.NET}); the run is corrupt")
        return {**config, "net": str(run.file(RunDir.NET))}

    def _save_state(self, ckpt: Checkpoint) -> None:
        ckpt.save_net(self.net)
        ckpt.write_progress(tasks=self.tasks_spec, progress={})

    def _load_state(self, run: RunDir) -> None:
        self.tasks_spec = run.tasks_spec()


def _give_back(learner_ref: Any, key: tuple[int, str, float, float], lanes: Any) -> None:
    """An agent is gone: its worker waits for the learner's next agent of the same shape
    (at most two wait per shape; the others, and all once the learner is gone, stop)."""
    learner = learner_ref()
    pool = None if learner is None else learner._idle.setdefault(key, [])
    if pool is None or len(pool) >= 2 or lanes.worker is None or not lanes.worker.alive():
        lanes.close(grace=0)  # called during garbage collection: kill, never wait
    else:
        pool.append(lanes)
