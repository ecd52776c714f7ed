"""Spiking networks: one framework-neutral description, its neuron types, its reference
simulator, NIR export.

Importing this package loads numpy only; NIR support (:mod:`metaplastic.spiking.nir_io`,
``SpikingNet.to_nir``/``from_nir``) imports ``nir`` when first called.

Example:
    >>> from metaplastic.spiking import SpikingNet, simulate
    >>> net = SpikingNet(w_in=[[1.5]], w_out=[[1.0]], du=1.0, dv=1.0)
    >>> int(simulate(net, [[1.0], [1.0], [0.0]]).spikes.sum())
    2
"""

from metaplastic.spiking.net import (
    ENCODINGS,
    MODULATORS,
    NEURONS,
    Plasticity,
    SpikingNet,
)
from metaplastic.spiking.neurons import NEURON_TYPES, NeuronType, neuron_type
from metaplastic.spiking.reference import Trajectory, simulate

__all__ = ["SpikingNet", "Plasticity", "simulate", "Trajectory", "NEURONS", "ENCODINGS", "MODULATORS",
           "NeuronType", "NEURON_TYPES", "neuron_type"]
