r"""The neuron types in torch, as the snntorch policy steps them (with surrogate gradients).

:data:`TORCH_NEURONS` maps each :class:`~metaplastic.spiking.neurons.NeuronType` to the class
that runs it in a :class:`~metaplastic.spiking.snn_policy.SpikingActorCritic`: its named
per-neuron state, its learned per-neuron parameters beyond the common decays, and one
time step. The equations are the neuron types' own (:mod:`metaplastic.spiking.neurons`).

* :class:`TorchCubaLIF` runs ``snntorch.Synaptic`` with ``reset_mechanism="zero"`` and
  ``reset_delay=False`` (snntorch's default delays the reset by a step; Lava does not).
* :class:`TorchALIF` steps Lava's ATRLIF in torch, spiking through snntorch's fast-sigmoid
  surrogate; its threshold and refractory decays and threshold step are learned per neuron.

Example:
    >>> import torch
    >>> from metaplastic.spiking.neurons import CUBA_LIF
    >>> cell = TORCH_NEURONS[CUBA_LIF](vth=1.0, slope=25.0, du=0.5, dv=0.5)
    >>> state = cell.initial(torch.zeros(1, 2))
    >>> step = cell.stepper({"du": torch.full((2,), 0.5), "dv": torch.full((2,), 0.5)}, like=state.u)
    >>> s, state = step(torch.tensor([[1.5, 0.5]]), state)
    >>> s.tolist(), state.v.tolist()   # v = 1.5 > 1 spikes and resets to 0
    ([[1.0, 0.0]], [[0.0, 0.5]])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import snntorch as snn
import torch
from snntorch import surrogate

from metaplastic.spiking.neurons import ADAPTIVE_LIF, CUBA_LIF, NeuronType

__all__ = ["LIFState", "ALIFState", "Learned", "TorchCubaLIF", "TorchALIF", "TORCH_NEURONS", "logit"]

Step = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]  # (input a, state) -> (spikes, state)


def logit(p: float) -> float:
    """``log(p / (1 - p))``, the unconstrained value of a decay ``p`` (numpy, float64).

    Example:
        >>> logit(0.5)
        0.0
    """
    return float(np.log(p / (1 - p)))


def _log(x: float) -> float:
    return float(np.log(x))


@dataclass(frozen=True)
class Learned:
    """A per-neuron parameter of a neuron type, learned through an unconstrained parameter
    ``param`` of the policy: the value is ``squash(param)``, and ``param`` starts at
    ``init(value)`` (numpy) or, from a :class:`SpikingNet` field, ``unsquash(value)``.

    Example:
        >>> TorchALIF.learned[0].field, TorchALIF.learned[0].param
        ('dtheta', 'dtheta_logit')
    """

    field: str                                         # the SpikingNet field (and the key in decays())
    param: str                                         # the policy's nn.Parameter holding it
    init: Callable[[float], float]                     # constructor value -> initial parameter (numpy)
    squash: Callable[[torch.Tensor], torch.Tensor]     # parameter -> value
    unsquash: Callable[[torch.Tensor], torch.Tensor]   # value -> parameter


class LIFState(NamedTuple):
    """The per-neuron state of :class:`TorchCubaLIF` (fields: ``CUBA_LIF.state``)."""

    u: torch.Tensor  # (B, N) synaptic current
    v: torch.Tensor  # (B, N) membrane voltage


class ALIFState(NamedTuple):
    """The per-neuron state of :class:`TorchALIF` (fields: ``ADAPTIVE_LIF.state``)."""

    u: torch.Tensor      # (B, N) synaptic current
    v: torch.Tensor      # (B, N) membrane voltage
    theta: torch.Tensor  # (B, N) threshold θ (rests at vth)
    r: torch.Tensor      # (B, N) refractory state


class _Rebuilt:
    """Copies and pickles rebuild a neuron runtime from its constructor's arguments: it holds
    snntorch objects that do not pickle (the surrogate is a closure) and, after a step,
    decays that belong to that step's graph; every step sets its decays again."""

    _args: dict[str, Any]

    def __getstate__(self) -> dict[str, Any]:
        return dict(self._args)

    def __setstate__(self, args: dict[str, Any]) -> None:
        self.__init__(**args)  # type: ignore[misc]


class TorchCubaLIF(_Rebuilt):
    """:class:`~metaplastic.spiking.neurons.CubaLIF` through ``snntorch.Synaptic``, whose
    decays are set from the policy's learned ``du``, ``dv`` at every step."""

    type: NeuronType = CUBA_LIF
    learned: tuple[Learned, ...] = ()

    def __init__(self, *, vth: float, slope: float, du: float, dv: float):
        self._args = {"vth": vth, "slope": slope, "du": du, "dv": dv}
        self._lif = snn.Synaptic(alpha=1.0 - du, beta=1.0 - dv, threshold=vth,
                                 spike_grad=surrogate.fast_sigmoid(slope=slope), reset_mechanism="zero",
                                 reset_delay=False, init_hidden=False)

    def initial(self, zeros: torch.Tensor) -> LIFState:
        """The state at rest, for the lanes and neurons of ``zeros`` (B, N)."""
        return LIFState(zeros, zeros.clone())

    def stepper(self, d: dict[str, torch.Tensor], *, like: torch.Tensor) -> Step:
        """One time step with the decays ``d`` (of one policy step; on the device of ``like``)."""
        lif = self._lif
        if lif.threshold.device != like.device:
            lif.to(like.device)
        lif.alpha = 1.0 - d["du"]
        lif.beta = 1.0 - d["dv"]

        def step(a: torch.Tensor, st: LIFState) -> tuple[torch.Tensor, LIFState]:
            s, u, v = lif(a, st.u, st.v)
            return s, LIFState(u, v)

        return step


class TorchALIF(_Rebuilt):
    """:class:`~metaplastic.spiking.neurons.ALIF` in torch: no voltage reset; a spike raises
    the refractory state by 2θ and the threshold by ``theta_step``."""

    type: NeuronType = ADAPTIVE_LIF
    learned: tuple[Learned, ...] = (
        Learned("dtheta", "dtheta_logit", logit, torch.sigmoid, torch.logit),
        Learned("dr", "dr_logit", logit, torch.sigmoid, torch.logit),
        Learned("theta_step", "theta_step_log", _log, torch.exp, torch.log),
    )

    def __init__(self, *, vth: float, slope: float, du: float, dv: float):
        self._args = {"vth": vth, "slope": slope, "du": du, "dv": dv}
        self.vth = float(vth)
        self._spike_fn = surrogate.fast_sigmoid(slope=slope)

    def initial(self, zeros: torch.Tensor) -> ALIFState:
        """The state at rest (the threshold at ``vth``), for the lanes and neurons of ``zeros``."""
        return ALIFState(zeros, zeros.clone(), torch.full_like(zeros, self.vth), zeros.clone())

    def stepper(self, d: dict[str, torch.Tensor], *, like: torch.Tensor) -> Step:
        """One time step with the decays ``d`` (of one policy step)."""
        vth, spike = self.vth, self._spike_fn

        def step(a: torch.Tensor, st: ALIFState) -> tuple[torch.Tensor, ALIFState]:
            u = (1.0 - d["du"]) * st.u + a
            v = (1.0 - d["dv"]) * st.v + u
            theta = (1.0 - d["dtheta"]) * (st.theta - vth) + vth
            r = (1.0 - d["dr"]) * st.r
            s = spike(v - r - theta)  # Heaviside(v - r - θ) forward, surrogate gradient backward
            r = r + s * 2.0 * theta
            theta = theta + s * d["theta_step"]
            return s, ALIFState(u, v, theta, r)

        return step


#: the snntorch policy's runtime of each neuron type
TORCH_NEURONS: dict[NeuronType, type[TorchCubaLIF] | type[TorchALIF]] = {
    CUBA_LIF: TorchCubaLIF,
    ADAPTIVE_LIF: TorchALIF,
}
