"""Our counted synaptic operations against NeuroBench's ``SynapticOperations`` (v2.3.0) on
the same snntorch policy and fixed inputs.

Where they agree and where they differ, exactly:

* **Effective_ACs** — NeuroBench counts, for every call of a connection layer whose input
  is binary, the non-zero inputs × non-zero weights of their fan-out. Only the recurrent
  layer gets binary input (the spikes), so its count is the spikes delivered × fan-out:
  our ``synaptic_events``, equal.
* **Effective_MACs** — for non-binary inputs NeuroBench counts only non-zero input ×
  non-zero weight pairs ("effective"); we count what the snntorch runtime executes, the
  dense products of the input layer and the action head including zero inputs (agents do
  not run the training-only value head, so neither counts it). So
  ``ours - NeuroBench = zero inputs × N + zero trace entries × A``, checked term by term
  below. (The numba runtime skips zero inputs, as NeuroBench does.)
* Our ``acs`` also holds the readout trace's accumulates (one per neuron per time step),
  which NeuroBench does not count as synaptic operations.
* NeuroBench decides "spiking or not" per call from the values it sees: when every entry
  of the readout trace happens to be 0 or 1 (the first decision of a trial, before any
  trace has decayed), it counts the action head's products as ACs. The test tracks those
  calls.
"""

import numpy as np
import pytest

import metaplastic

torch = pytest.importorskip("torch")
pytest.importorskip("snntorch")
nb_workload = pytest.importorskip("neurobench.metrics.workload", reason="needs neurobench (installed by make)")
from neurobench.models import NeuroBenchModel  # noqa: E402


class _Policy(NeuroBenchModel):
    """NeuroBench's view of a SpikingActorCritic: its connection layers, hooked."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def __call__(self, batch):
        return batch

    def __net__(self):
        return self.net


def test_synaptic_operations_agree_with_neurobench():
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    learner = metaplastic.make("snntorch", hidden=32, seed=0)
    pol = learner.ensure_model(tasks)
    rng = np.random.default_rng(0)
    lanes, decisions = 8, 12
    # RL² inputs with a graded (non-binary) reward, so NeuroBench sees the input layer as dense
    x = (rng.random((decisions, lanes, pol.input_size)) < 0.4).astype(np.float32)
    x[:, :, -2] = rng.uniform(0.1, 0.9, (decisions, lanes))
    model = _Policy(pol)
    model.register_hooks()
    ours = metaplastic.core.OpCounts()
    nnz_x, nnz_z, binary_z = 0, 0, 0
    state = pol.initial_state(lanes)
    with torch.no_grad():
        for d in range(decisions):
            xt = torch.as_tensor(x[d])
            _, _, state = pol.step(xt, state, with_value=False)  # as agents run it
            ours = ours + pol.step_ops(np.ones(lanes, bool))
            nnz_x += int((xt != 0).sum())
            z = state.z
            if bool(((z == 0) | (z == 1)).all()):  # NeuroBench will call these head inputs spikes
                binary_z += int((z != 0).sum())
            else:
                nnz_z += int((z != 0).sum())
    metric = nb_workload.SynapticOperations()
    result = metric(model, None, (torch.zeros(lanes, 1),))
    model.cleanup_hooks()
    per_lane = lambda v: v / lanes  # noqa: E731 - NeuroBench reports per sample
    assert ours.synaptic_events > 0
    a = 5
    assert result["Effective_ACs"] == pytest.approx(per_lane(ours.synaptic_events + binary_z * a))
    n, i = pol.neurons, pol.input_size
    dense_input, dense_head = decisions * lanes * i * n, decisions * lanes * n * a
    assert ours.macs == dense_input + dense_head
    zero_inputs = decisions * lanes * i - nnz_x
    zero_trace = decisions * lanes * n - nnz_z - binary_z  # binary-trace calls were counted as ACs
    assert per_lane(ours.macs) - result["Effective_MACs"] == pytest.approx(
        per_lane(zero_inputs * n + zero_trace * a + binary_z * a))
