"""Config keys of the spiking networks, declared once for every backend that builds one
(``snntorch`` trains it, ``numba`` evolves it). Torch-free.

Example:
    >>> [p.name for p in SNN_PARAMS]
    ['substeps', 'neuron', 'slope', 'plastic_rank']
"""

from __future__ import annotations

from metaplastic.params import Param
from metaplastic.spiking.neurons import CUBA_LIF, NEURON_TYPES

__all__ = ["SUBSTEPS_PARAM", "NEURON_PARAM", "SNN_PARAMS"]

SUBSTEPS_PARAM = Param("substeps", int, 2, "network time steps per decision (from 2 on, a decision sees its own input "
                       "through the one-step synaptic delay)", low=1, high=1000)
NEURON_PARAM = Param("neuron", str, CUBA_LIF.name, "neuron model: cuba-lif (Lava LIF) or alif (Lava ATRLIF: adaptive "
                     "threshold, refractory state); see metaplastic.spiking.neurons", choices=tuple(NEURON_TYPES))

#: The keys of a network trained by surrogate gradients.
SNN_PARAMS = (
    SUBSTEPS_PARAM,
    NEURON_PARAM,
    Param("slope", float, 5.0, "slope of the fast-sigmoid surrogate gradient (5: a wider surrogate than snntorch's 25, "
          "which meta-trains bandit RL² to 6.55 instead of 6.32 in 4 min)", low=0.0, low_exclusive=True),
    Param("plastic_rank", int, 4, "rl2-plastic: rank R of the meta-learned recurrent learning rates, lr_rec = P Qᵀ "
          "(a reward-gated fast-weight memory, O(T·N·R) per step); 0: one free rate per synapse (N² parameters, "
          "O(T·N²) per step)", low=0, high=65536),
)
