"""The Lava worker: runs one spiking network on Lava's Loihi 2 simulator, closed loop with a
host that speaks the framed protocol (:mod:`.frames`) on this process's stdin and stdout.

Runs inside the provisioned runtime (Python 3.10, lava-nc 0.10.0, numpy < 2) as
``python -m metaplastic_runtime.lava_net``; the host never imports this module's lava code
(every lava import is inside a function, so the host may import the file for its docs).

The graph, for ``L`` lanes (independent copies of the network, packed block-diagonally)::

    Injector(L*I) -> Dense|Sparse(w_in, graded) -> LIF|ATRLIF(L*N) -> Extractor(L*N)
                                        LIF.s_out -> Dense|Sparse(w_rec) -> LIF.a_in

One lane uses Lava's ``Dense``; several use ``Sparse`` with the block-diagonal weights (the
same arithmetic, without the zeros between lanes). ``Loihi2SimCfg`` selects the process
models tagged ``floating_pt`` or ``fixed_pt`` (bit-accurate Loihi); the Injector and
Extractor exchange data with this loop while the simulation is paused between runs.

Requests (op, arrays, meta) and replies:

* ``build``: arrays ``w_in``, ``w_rec`` (per lane), ``proc.<name>`` (the neuron process's
  constructor arguments: per neuron of one lane, or one value of shape (1,)); meta ``process`` ("LIF" | "ATRLIF"),
  ``state`` (the names of its state variables, reset to their constructor values),
  ``mode``, ``lanes``, ``w_in_exp``, ``w_rec_exp``. Reply ``ready`` (meta: seconds, lava
  version).
* ``step``: arrays ``x`` (L, I) (integers in fixed_pt), ``active`` (L,) bool; meta
  ``steps``. Runs ``steps`` time steps with ``x`` held; reply ``spikes`` (steps, L, N)
  uint8. Lanes not active are left as they were (their state is saved and restored).
* ``reset``: every state variable and synaptic buffer back to rest. Reply ``ok``.
* ``close``: stop the simulation; reply ``ok`` and exit.

Any failure is replied as ``error`` with a one-line ``message`` in meta; then the worker exits.
"""

import os
import sys
import time

import numpy as np

from .frames import FrameError, read_frame, write_frame


def _lava():
    """The lava names this worker uses (imported here only: the host never calls this), and
    the process models it maps (``models[mode]``: Loihi2SimCfg's exception map).

    Two of lava-nc 0.10.0's models are adapted, by subclassing:

    * the Injector's stock model sends float64, which the bit-accurate Dense cannot shift;
      in fixed_pt it sends the (already integer) graded inputs as int32;
    * ATRLIF's ``post_spike`` adds ``theta_step`` to the spiking neurons' thresholds as if it
      were one value, which fails for one value per neuron; the subclass indexes it per
      spiking neuron (the same arithmetic otherwise).
    """
    import lava
    from lava.magma.core.decorator import implements, requires, tag
    from lava.magma.core.model.py.ports import PyOutPort
    from lava.magma.core.model.py.type import LavaPyType
    from lava.magma.core.resources import CPU
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
    from lava.proc.atrlif.models import PyATRLIFModelFixed, PyATRLIFModelFloat
    from lava.proc.atrlif.process import ATRLIF
    from lava.proc.dense.process import Dense
    from lava.proc.io.extractor import Extractor, PyLoihiExtractorModel
    from lava.proc.io.injector import Injector, PyLoihiInjectorModel
    from lava.proc.io.utils import ChannelConfig, ReceiveEmpty, ReceiveNotEmpty, SendFull
    from lava.proc.lif.process import LIF
    from lava.proc.sparse.process import Sparse

    @implements(proc=Injector, protocol=LoihiProtocol)
    @requires(CPU)
    class IntInjectorModel(PyLoihiInjectorModel):
        out_port: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)

    def per_neuron_step(base, tags):
        @implements(proc=ATRLIF, protocol=LoihiProtocol)
        @requires(CPU)
        @tag(*tags)
        class Model(base):
            def post_spike(self, spike_vector):
                step = np.broadcast_to(self.theta_step, self.theta.shape)
                self.r[spike_vector] = self.r[spike_vector] + 2 * self.theta[spike_vector]
                self.theta[spike_vector] = self.theta[spike_vector] + step[spike_vector]

        return Model

    _log_shared_memory()
    models = {
        "floating_pt": {Injector: PyLoihiInjectorModel, Extractor: PyLoihiExtractorModel,
                        ATRLIF: per_neuron_step(PyATRLIFModelFloat, ("floating_pt",))},
        "fixed_pt": {Injector: IntInjectorModel, Extractor: PyLoihiExtractorModel,
                     ATRLIF: per_neuron_step(PyATRLIFModelFixed, ("bit_accurate_loihi", "fixed_pt"))},
    }
    return dict(version=getattr(lava, "__version__", "0.10.0"), RunSteps=RunSteps, Loihi2SimCfg=Loihi2SimCfg,
                processes={"LIF": LIF, "ATRLIF": ATRLIF}, Dense=Dense, Sparse=Sparse, Injector=Injector,
                Extractor=Extractor, models=models,
                channel=ChannelConfig(send_full=SendFull.BLOCKING, receive_empty=ReceiveEmpty.BLOCKING,
                                      receive_not_empty=ReceiveNotEmpty.FIFO))


def _block(w, lanes, sparse_cls):
    """``lanes`` copies of ``w`` on the diagonal (a scipy CSR matrix for the Sparse process)."""
    if lanes == 1:
        return w
    import scipy.sparse as sp

    return sp.block_diag([w] * lanes, format="csr")


_SHM_LOGGED = False  # Lava's shared-memory manager already lists its segments


def _log_shared_memory():
    """List every shared-memory segment Lava's runtime creates in ``$METAPLASTIC_SHM_LOG``,
    so that the host can remove them if this worker is killed (Lava removes them itself on
    a normal stop)."""
    global _SHM_LOGGED
    log = os.environ.get("METAPLASTIC_SHM_LOG")
    if not log or _SHM_LOGGED:
        return
    from lava.magma.runtime.message_infrastructure import shared_memory_manager as smm

    create = smm.SharedMemoryManager.create_shared_memory

    def logged(self, size):
        handle = create(self, size)
        with open(log, "a", encoding="utf-8") as f:
            f.write(handle.name.lstrip("/") + "\n")
        return handle

    smm.SharedMemoryManager.create_shared_memory = logged
    _SHM_LOGGED = True


class Net:
    """The Lava processes of one build request, and the closed loop over them."""

    def __init__(self, arrays, meta):
        lv = _lava()
        self.lv = lv
        self.lanes = int(meta["lanes"])
        self.mode = str(meta["mode"])
        w_in, w_rec = arrays["w_in"], arrays["w_rec"]
        self.n, self.i = w_in.shape
        total_n, total_i = self.lanes * self.n, self.lanes * self.i
        proc = {k[5:]: v for k, v in arrays.items() if k.startswith("proc.")}
        self.state_names = list(meta["state"])
        self.rest = {}
        kwargs = {}
        for name, value in proc.items():
            # one value per neuron of a lane: one per neuron of every lane; one value: a scalar
            value = value.item() if value.shape == (1,) and self.n > 1 else np.tile(value, self.lanes)
            kwargs[name] = value
            if name in self.state_names:
                self.rest[name] = value.copy()
        conn = lv["Dense"] if self.lanes == 1 else lv["Sparse"]
        cast = (lambda a: a.astype(np.int32)) if self.mode == "fixed_pt" else (lambda a: a.astype(np.float64))
        extra_in = {"weight_exp": int(meta.get("w_in_exp", 0))} if self.mode == "fixed_pt" else {}
        extra_rec = {"weight_exp": int(meta.get("w_rec_exp", 0))} if self.mode == "fixed_pt" else {}
        buffer = max(64, int(meta.get("substeps", 1)))  # a request's steps are sent before it runs
        self.injector = lv["Injector"](shape=(total_i,), buffer_size=buffer, channel_config=lv["channel"])
        self.d_in = conn(weights=_block(cast(w_in), self.lanes, conn), num_message_bits=24, **extra_in)
        self.neurons = lv["processes"][meta["process"]](shape=(total_n,), **kwargs)
        self.d_rec = conn(weights=_block(cast(w_rec), self.lanes, conn), **extra_rec)
        self.extractor = lv["Extractor"](shape=(total_n,), buffer_size=buffer, channel_config=lv["channel"])
        self.injector.out_port.connect(self.d_in.s_in)
        self.d_in.a_out.connect(self.neurons.a_in)
        self.neurons.s_out.connect(self.d_rec.s_in)
        self.d_rec.a_out.connect(self.neurons.a_in)
        self.neurons.s_out.connect(self.extractor.in_port)
        self.cfg = lv["Loihi2SimCfg"](select_tag=self.mode, exception_proc_model_map=lv["models"][self.mode])
        self.neurons.create_runtime(run_cfg=self.cfg)
        self.vars = [getattr(self.neurons, name) for name in self.state_names] + [self.d_in.a_buff, self.d_rec.a_buff]
        self.int_x = self.mode == "fixed_pt"
        self.at_rest = True  # nothing has run since the build (Lava sets Vars only once it has run)

    def _run(self, x, steps):
        for _ in range(steps):
            self.injector.send(x)
        self.neurons.run(condition=self.lv["RunSteps"](num_steps=steps), run_cfg=self.cfg)
        return np.stack([self.extractor.receive() for _ in range(steps)])

    def step(self, x, active, steps):
        """``steps`` time steps with ``x`` (L, I) held; the spikes (steps, L, N) as uint8."""
        if x.shape != (self.lanes, self.i) or active.shape != (self.lanes,):
            raise ValueError(f"step needs x ({self.lanes}, {self.i}) and active ({self.lanes},); "
                             f"got {x.shape} and {active.shape}")
        if not active.any():
            return np.zeros((steps, self.lanes, self.n), np.uint8)
        frozen = None
        if not active.all():  # lanes that sit this decision out keep their state
            if self.at_rest:  # nothing ran yet (Lava reads Vars only once it has run): the rest state
                frozen = [np.asarray(self.rest[name], dtype=float).copy() for name in self.state_names]
                frozen += [np.zeros(self.lanes * self.n), np.zeros(self.lanes * self.n)]
            else:
                frozen = [v.get().copy() for v in self.vars]
        flat = (x.astype(np.int32) if self.int_x else x.astype(np.float64)).reshape(-1)
        spikes = self._run(flat, steps)
        self.at_rest = False
        if frozen is not None:
            keep_n = np.repeat(~active, self.n)
            for var, old in zip(self.vars, frozen):
                now = var.get()
                now[keep_n] = old[keep_n]
                var.set(now)
        return (spikes.reshape(steps, self.lanes, self.n) != 0).astype(np.uint8)

    def reset(self):
        """Every lane back to rest: state variables to their initial values, nothing in flight."""
        if self.at_rest:
            return
        for name in self.state_names:
            getattr(self.neurons, name).set(self.rest[name].copy())
        for conn in (self.d_in, self.d_rec):
            conn.a_buff.set(np.zeros(self.lanes * self.n))
        self.at_rest = True

    def close(self):
        self.neurons.stop()


def serve(inp, out):
    """Answer requests from ``inp`` on ``out`` until ``close`` or the end of the input."""
    net = None
    while True:
        try:
            op, arrays, meta = read_frame(inp)
        except FrameError:
            break  # the host went away
        try:
            if net is None and op in ("step", "reset"):
                raise RuntimeError(f"asked to {op} before a network was built")
            if op == "build":
                t0 = time.perf_counter()
                net = Net(arrays, meta)
                write_frame(out, "ready", meta={"seconds": time.perf_counter() - t0, "lava": net.lv["version"]})
            elif op == "step":
                spikes = net.step(arrays["x"], arrays["active"].astype(bool), int(meta["steps"]))
                write_frame(out, "spikes", {"spikes": spikes})
            elif op == "reset":
                net.reset()
                write_frame(out, "ok")
            elif op == "close":
                if net is not None:
                    net.close()
                    net = None
                write_frame(out, "ok")
                break
            else:
                raise ValueError(f"unknown request {op!r}")
        except Exception as e:  # noqa: BLE001 - reported to the host in one line, then the worker ends
            text = " ".join(str(e).split()) or type(e).__name__
            write_frame(out, "error", meta={"message": f"{type(e).__name__}: {text}"[:500]})
            break
    if net is not None:
        try:
            net.close()
        except Exception:  # noqa: BLE001 - already failing; the host reports the first error
            pass


def main():
    """Frames on the original stdout; anything else written to fd 1 (lava's own prints, its
    child processes') goes to stderr, so it cannot corrupt a frame."""
    frames_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, frames_out)
    frames_out.close()
    os._exit(0)  # lava's runtime threads must not keep the process alive


if __name__ == "__main__":
    main()
