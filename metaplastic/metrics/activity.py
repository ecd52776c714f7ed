"""Spiking activity from counted operations, under NeuroBench's names (Yik et al. 2025).

A SpikingNet has one spiking layer, the recurrent one (its readout is a non-spiking
trace), so the per-layer figures are that layer's. Definitions:

* ``activation_sparsity`` — NeuroBench's ActivationSparsity: the fraction of neuron
  activations (one per neuron per time step) that are zero, ``1 - spikes / neuron updates``;
* ``firing_rate_per_step`` — spikes per neuron per time step; ``firing_rate_hz`` the same
  over the time step ``dt`` (only when the network's ``dt`` is known);
* ``Effective_ACs`` — spike-driven accumulates per decision, our ``synaptic_events``
  (equal to NeuroBench's SynapticOperations on our snntorch policies: see
  tests/bench/test_neurobench_agreement.py); ``Effective_MACs`` — our ``macs`` per
  decision, as executed (NeuroBench's skips zero inputs, which the snntorch runtime
  multiplies); ``membrane_updates`` — neuron updates per decision.

Example:
    >>> from metaplastic.core import OpCounts
    >>> a = activity(OpCounts(neuron_updates=1000, spikes=50, decisions=10, synaptic_events=400), dt=1e-3)
    >>> a["layers"]["recurrent"]["activation_sparsity"], a["layers"]["recurrent"]["firing_rate_hz"]
    (0.95, 50.0)
"""

from __future__ import annotations

from typing import Any

from metaplastic.core import OpCounts

__all__ = ["activity", "neurobench_names"]


def neurobench_names(ops: OpCounts) -> dict[str, float]:
    """Per-decision counts under NeuroBench's metric names."""
    per = ops.per_decision()
    return {"Effective_MACs": per["macs"], "Effective_ACs": per["synaptic_events"],
            "membrane_updates": per["neuron_updates"]}


def activity(ops: OpCounts, dt: float | None = None) -> dict[str, Any] | None:
    """Firing rate and activation sparsity of the spiking layer, or None when nothing spiking ran."""
    if ops.neuron_updates <= 0:
        return None
    rate = ops.spikes / ops.neuron_updates
    layer = {"firing_rate_per_step": rate, "activation_sparsity": 1.0 - rate,
             "spikes_per_decision": ops.spikes / max(ops.decisions, 1)}
    if dt:
        layer["firing_rate_hz"] = rate / dt
    return {"layers": {"recurrent": layer}, "neurobench": neurobench_names(ops)}
