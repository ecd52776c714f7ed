"""``LavaLanes``: lanes of one :class:`~metaplastic.spiking.SpikingNet` run by Lava's Loihi 2
simulator in a worker process, behind the interface of
:class:`~metaplastic.spiking.event_runtime.EventDrivenLanes` (``reset``, ``decide``,
``ops``), so :class:`~metaplastic.spiking.net_agent.SpikingNetAgent` drives either.

Each decision sends the lanes' graded inputs to the worker, which runs ``substeps`` time
steps of the Lava processes with the input held and returns the spikes of every step
(read from Lava's Extractor). The non-spiking readout is computed here from those spikes
(:func:`metaplastic.spiking.kernels.read_spikes`, the numba runtime's own code), and the
operations are counted from them by the numba runtime's rules: spikes, synaptic events
(spikes × fan-out), neuron updates, graded-input and readout MACs all come from what the
simulation emitted. The worker starts on first use and stops on :meth:`close`, when the
lanes are garbage-collected, or when the interpreter exits.

Example (needs the runtime: ``metaplastic runtime install lava``):
    >>> import numpy as np
    >>> from metaplastic.spiking import SpikingNet
    >>> net = SpikingNet(w_in=[[2.0]], w_out=[[1.0]], du=1.0, dv=1.0, substeps=2)
    >>> lanes = LavaLanes(net, 2, mode="floating_pt")  # doctest: +SKIP
    >>> lanes.decide(np.ones((2, 1)), np.zeros(2), np.ones(2, bool))[:, 0].tolist()  # doctest: +SKIP
    [1.0, 1.0]
    >>> lanes.close()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metaplastic.core import OpCounts
from metaplastic.spiking import kernels as K
from metaplastic.spiking.lava_map import lava_program
from metaplastic.spiking.net import SpikingNet

F32 = np.float32

__all__ = ["LavaLanes", "lava_worker"]


def lava_worker(timeout: float) -> Any:
    """A started :class:`~metaplastic.workers.process.WorkerProcess` running the Lava worker
    of the installed runtime (a one-line error naming the install command when there is none)."""
    from metaplastic.workers.process import WorkerProcess
    from metaplastic.workers.provision import ensure_worker, locate, worker_env

    installed = locate("lava")
    ensure_worker(installed)
    # -I: the runtime's own packages only (no current directory, no PYTHON* variables)
    return WorkerProcess([str(installed.python), "-I", "-m", "metaplastic_runtime.lava_net"], name="lava",
                         timeout=timeout, env=worker_env())


class LavaLanes:
    """``num_lanes`` copies of ``net`` on Lava's simulator (``mode``: ``fixed_pt`` or
    ``floating_pt``); every request waits at most ``timeout`` seconds for the worker (building
    the network at most ``max(timeout, 60)``). In fixed_pt, graded inputs must lie within
    ``±x_max`` (the range the quantization is sized for)."""

    plastic = False  # plastic networks are refused (see metaplastic.spiking.lava_map.refuse_plastic)

    def __init__(self, net: SpikingNet, num_lanes: int, *, mode: str = "fixed_pt", timeout: float = 30.0,
                 x_max: float = 4.0):
        if not isinstance(net, SpikingNet):
            raise TypeError(f"LavaLanes runs a SpikingNet, got {type(net).__name__}")
        self.net, self.num_lanes, self.mode, self.timeout = net, int(num_lanes), mode, float(timeout)
        self.program = lava_program(net, mode, x_max=x_max)  # refuses what Lava cannot run before a worker starts
        n, i, lanes = net.n_neurons, net.n_inputs, self.num_lanes
        self.w_out = np.ascontiguousarray(net.w_out, dtype=F32)
        self.b_out = np.ascontiguousarray(net.b_out, dtype=F32)
        self.neuron = np.ascontiguousarray(np.stack([getattr(net, name) for name in K.PARAM_ROWS]), dtype=F32)
        self.state_words = len(net.neuron_type.state) + 1
        self.wbytes = 1 if mode == "fixed_pt" else 4  # Loihi's 8-bit weights; float32 otherwise
        self.state = np.zeros((5, lanes, n), F32)  # only the readout trace row Z is used here
        self.x_prev = np.zeros((lanes, i), F32)
        self.nspk = np.zeros(lanes, np.int64)
        self.y = np.zeros((lanes, net.n_outputs), F32)
        self.counts = np.zeros(K.N_COUNTS, np.int64)
        self.worker: Any = None

    # -- the worker ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker and build the network (done on first use)."""
        if self.worker is not None:
            return
        worker = lava_worker(self.timeout)
        try:
            worker.request("build", self.program.arrays,
                           {**self.program.meta, "process": self.program.process, "state": list(self.program.state),
                            "mode": self.mode, "lanes": self.num_lanes, "substeps": self.net.substeps},
                           timeout=max(self.timeout, 60.0), expect="ready")
        except BaseException:
            worker.close(grace=0)
            raise
        self.worker = worker

    def close(self, *, grace: float = 5.0) -> None:
        """Stop the worker (a later call starts a new one); ``grace=0`` kills it at once."""
        if self.worker is not None:
            worker, self.worker = self.worker, None
            worker.close(grace=grace)

    @property
    def pid(self) -> int | None:
        """The worker's process id (``None`` before it starts)."""
        return None if self.worker is None else self.worker.pid

    # -- EventDrivenLanes' interface ---------------------------------------------------------
    def reset(self, lanes: Any = None) -> None:
        """Every lane back to rest (a subset is not supported: the simulator resets all)."""
        if lanes is not None and not np.asarray(lanes, dtype=bool).all():
            raise NotImplementedError("LavaLanes resets all lanes together (a new trial in every lane)")
        self.start()
        self.worker.request("reset", expect="ok")
        self.state[:] = 0.0
        self.x_prev[:] = 0.0
        self.nspk[:] = 0
        self.y[:] = 0.0
        self.counts[:] = 0

    def decide(self, x: Any, modulation: Any, active: Any) -> np.ndarray:
        """One decision (``substeps`` time steps in Lava) on the active lanes; the readout ``y``
        (num_lanes, A) — rows of inactive lanes hold their last value (their Lava state too)."""
        x = np.ascontiguousarray(x, dtype=F32)
        act = np.ascontiguousarray(active, dtype=np.bool_)
        if x.shape != self.x_prev.shape or act.shape != self.nspk.shape:
            raise ValueError(f"decide needs x {self.x_prev.shape} and active ({self.num_lanes},); got {x.shape}, {act.shape}")
        if not act.any():
            return self.y
        spikes = self.spikes(x, act)
        K.read_spikes(spikes, self.w_out, self.b_out, self.neuron, self.state_words, self.wbytes, self.state,
                      self.x_prev, self.nspk, x, act, self.y, self.counts)
        return self.y

    def spikes(self, x: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Run one decision's ``substeps`` time steps in Lava with ``x`` (num_lanes, I) held;
        the spikes of every step, (substeps, num_lanes, N) uint8, as Lava emitted them."""
        self.start()
        _, arrays, _ = self.worker.request("step", {"x": self.program.encode(x), "active": active},
                                           {"steps": self.net.substeps}, expect="spikes")
        spikes = arrays.get("spikes")
        expect = (self.net.substeps, self.num_lanes, self.net.n_neurons)
        if spikes is None or spikes.shape != expect:
            got = None if spikes is None else spikes.shape
            self.close()
            from metaplastic.errors import WorkerFailed

            raise WorkerFailed(f"lava worker replied spikes of shape {got}, expected {expect}")
        return np.ascontiguousarray(spikes, dtype=np.uint8)

    def ops(self) -> OpCounts:
        """Operations since the last :meth:`reset`, counted from the spikes Lava emitted."""
        c = self.counts
        return OpCounts(macs=int(c[K.MACS]), acs=int(c[K.ACS]), synaptic_events=int(c[K.EVENTS]),
                        neuron_updates=int(c[K.NEURON_UPDATES]), mem_bytes=int(c[K.MEM_BYTES]),
                        spikes=int(c[K.SPIKES]))
