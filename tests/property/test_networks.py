"""Network files: ``SpikingNet.load`` on mutated ``.npz`` files (arrays of the wrong shape or
dtype, NaN, missing or extra keys, damaged or garbage bytes), and NIR graphs
(``nir_io.from_nir`` in memory, ``nir_io.read_nir`` from a file) with mutated nodes, edges
and side fields; the only outcomes are a network or a one-line MetaplasticError."""

from __future__ import annotations

import functools
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from metaplastic.spiking import Plasticity, SpikingNet

from tests.property._support import (arrays, fast, mutated_array_dict, mutated_bytes, npz_bytes, outcome,
                                     py_values, scratch, slow)


def _net(neuron: str, plastic: bool) -> SpikingNet:
    rng = np.random.default_rng(0)
    n, i, a = 4, 3, 2
    return SpikingNet(
        neuron=neuron, w_in=rng.normal(size=(n, i)), w_rec=rng.normal(size=(n, n)), w_out=rng.normal(size=(a, n)),
        b_out=rng.normal(size=a), du=rng.uniform(size=n), dv=rng.uniform(size=n), vth=rng.uniform(0.5, 2, n),
        bias=rng.normal(size=n), dtheta=0.1 if neuron == "alif" else 0.0, theta_step=0.2 if neuron == "alif" else 0.0,
        dr=0.3 if neuron == "alif" else 0.0, readout_decay=rng.uniform(size=n), dt=1e-3, substeps=2,
        plasticity=Plasticity(lr_in=rng.normal(size=(n, i)) if plastic else 0.0, trace_decay=0.5, modulator="rpe"),
    )


NETS = [_net("cuba-lif", False), _net("alif", True)]

def mutated_arrays() -> st.SearchStrategy[dict[str, np.ndarray]]:
    return mutated_array_dict([net.to_arrays() for net in NETS])


VALID_NPZ = npz_bytes(NETS[1].to_arrays())


@fast(200)
@given(mutated_arrays())
def test_from_arrays(arrays_: dict[str, np.ndarray]) -> None:
    outcome(SpikingNet.from_arrays, arrays_)


@fast(150)
@given(st.one_of(mutated_arrays().map(npz_bytes), mutated_bytes(VALID_NPZ),
                 hnp.arrays(np.float64, (3,)).map(lambda a: (lambda b: (np.save(b, a), b.getvalue())[1])(io.BytesIO()))))
def test_load_npz(content: bytes) -> None:
    with scratch() as d:
        path = d / "net.npz"
        path.write_bytes(content)
        ok, net = outcome(SpikingNet.load, path)
        if ok:
            assert isinstance(net, SpikingNet)


@fast(60)
@given(st.dictionaries(st.text(max_size=10), py_values, max_size=4))
def test_from_arrays_arbitrary_mapping(arrays_: dict) -> None:
    outcome(SpikingNet.from_arrays, arrays_)


# --- NIR -------------------------------------------------------------------------------------

NODE_FIELDS = ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in", "weight", "bias", "tau")


def _graphs():
    nir = pytest.importorskip("nir", reason="NIR support needs the 'snn' extra (nir)")
    return nir, _made_graphs()


@functools.lru_cache(maxsize=1)
def _nir_file_bytes() -> bytes:
    nir, graphs = _graphs()
    buf = io.BytesIO()
    nir.write(buf, graphs[0])
    return buf.getvalue()


@functools.lru_cache(maxsize=1)
def _made_graphs():
    from metaplastic.spiking.nir_io import to_nir

    return [to_nir(NETS[0]), to_nir(NETS[1], readout=False)]


@st.composite
def mutated_graph(draw, nir, graphs):
    """A graph ``to_nir`` wrote, with a node's parameter, a node, an edge or the side field
    changed (one to three times)."""
    import copy

    g = copy.deepcopy(draw(st.sampled_from(graphs)))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["param", "param", "drop_node", "retype_node", "drop_edge", "add_edge",
                                    "side_value", "side_drop", "side", "metadata"]))
        names = sorted(g.nodes)
        if how == "param" and names:
            node = g.nodes[draw(st.sampled_from(names))]
            present = [f for f in NODE_FIELDS if hasattr(node, f)]
            if present:
                field = draw(st.sampled_from(present))
                old = np.asarray(getattr(node, field), dtype=np.float64) if getattr(node, field) is not None else None
                variants = [] if old is None else [np.full(old.shape, np.nan), np.zeros(old.shape), old.T, -old,
                                                   old.reshape(-1)[:1], np.full(old.shape, np.inf)]
                new = draw(st.one_of(arrays, st.sampled_from(variants or [np.zeros(2)])))
                object.__setattr__(node, field, new)
        elif how == "drop_node" and names:
            name = draw(st.sampled_from(names))
            g.nodes.pop(name)
        elif how == "retype_node" and names:
            name = draw(st.sampled_from(names))
            n = draw(st.integers(1, 4))
            g.nodes[name] = draw(st.sampled_from([
                nir.LI(tau=np.ones(n), r=np.ones(n), v_leak=np.zeros(n)),
                nir.Linear(weight=np.ones((n, n))),
                nir.Affine(weight=np.ones((n, n)), bias=np.ones(n)),
                nir.Input(input_type={"input": np.array([n])}),
                nir.Output(output_type={"output": np.array([n])}),
                nir.LIF(tau=np.ones(n), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n)),
                nir.Scale(scale=np.ones(n)),
            ]))
        elif how == "drop_edge" and g.edges:
            g.edges.pop(draw(st.integers(0, len(g.edges) - 1)))
        elif how == "add_edge":
            pick = st.sampled_from(names + ["nowhere"]) if names else st.just("nowhere")
            g.edges.append((draw(pick), draw(pick)))
        elif how in ("side_value", "side_drop", "side", "metadata"):
            if not isinstance(g.metadata, dict):
                g.metadata = {}
            side = g.metadata.get("metaplastic")
            if how == "metadata":
                g.metadata = draw(st.one_of(st.none(), st.just({}), st.dictionaries(st.text(max_size=5), py_values, max_size=2)))
            elif how == "side":
                g.metadata["metaplastic"] = draw(py_values)
            elif isinstance(side, dict) and side:
                key = draw(st.sampled_from(sorted(side)))
                if how == "side_drop":
                    side.pop(key)
                else:
                    side[key] = draw(st.one_of(py_values, arrays))
    return g


@fast(150)
@given(data=st.data())
def test_from_nir_mutated_graph(data) -> None:
    nir, graphs = _graphs()
    from metaplastic.spiking.nir_io import from_nir

    graph = data.draw(mutated_graph(nir, graphs), label="graph")
    dt = data.draw(st.one_of(st.none(), st.floats(), st.integers(-1, 1), st.just(1e-3)), label="dt")
    outcome(from_nir, graph, dt=dt)


@pytest.mark.slow
@slow(60)
@given(data=st.data())
def test_read_nir_mutated_file(data) -> None:
    """A mutated graph written with ``nir.write`` (when nir can write it), or a valid file's
    bytes damaged."""
    nir, graphs = _graphs()
    from metaplastic.spiking.nir_io import read_nir

    with scratch() as d:
        path = d / "net.nir"
        if data.draw(st.booleans(), label="damage bytes"):
            path.write_bytes(data.draw(mutated_bytes(_nir_file_bytes()), label="bytes"))
        else:
            graph = data.draw(mutated_graph(nir, graphs), label="graph")
            try:
                nir.write(path, graph)
            except Exception:  # noqa: BLE001 - nir cannot write this graph: nothing to read
                return
        outcome(read_nir, path)
