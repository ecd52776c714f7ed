r"""Neuron models as data: one frozen dataclass per model, and the registry of them.

A :class:`NeuronType` names a model (the name is what config keys, npz files and NIR side
fields store), its per-neuron state variables and the per-neuron parameters of
:class:`~metaplastic.spiking.SpikingNet` it reads. Each runtime keeps its own registry from
neuron type to its update, keyed by the instances of :data:`NEURON_TYPES`:

* the numpy reference simulator: :data:`metaplastic.spiking.reference.NEURON_STEPS`;
* the numba kernels: :data:`metaplastic.spiking.kernels.NEURON_STEPS` (and the integer
  codes the kernels dispatch on, :data:`metaplastic.spiking.kernels.NEURON_CODES`);
* the snntorch policy: :data:`metaplastic.spiking.torch_neurons.TORCH_NEURONS`.

A test checks that every runtime covers every registered type. All state is 0 at rest,
except an adaptive threshold, which rests at ``vth``.

Example:
    >>> neuron_type("alif")
    ALIF(name='alif', state=('u', 'v', 'theta', 'r'), params=('du', 'dv', 'vth', 'bias', 'dtheta', 'theta_step', 'dr'))
    >>> sorted(NEURON_TYPES)
    ['alif', 'cuba-lif']
    >>> neuron_type("izhikevich")
    Traceback (most recent call last):
    ...
    metaplastic.errors.ConfigError: unknown neuron type 'izhikevich'; known: 'cuba-lif', 'alif'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from metaplastic.errors import ConfigError

__all__ = ["NeuronType", "CubaLIF", "ALIF", "CUBA_LIF", "ADAPTIVE_LIF", "NEURON_TYPES", "neuron_type"]


@dataclass(frozen=True)
class NeuronType:
    """A neuron model: its public name, state variables and per-neuron parameters.

    Subclasses fix the three fields (one subclass per model, equations in its docstring);
    instances compare equal by class and fields, so they key the runtimes' registries.

    Example:
        >>> CUBA_LIF.name, CUBA_LIF.state
        ('cuba-lif', ('u', 'v'))
    """

    name: str                  # the public name (config keys, npz files, NIR metadata)
    state: tuple[str, ...]     # per-neuron state variables, in the order the runtimes keep them
    params: tuple[str, ...]    # per-neuron SpikingNet parameters the model reads

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class CubaLIF(NeuronType):
    r"""Current-based leaky integrate-and-fire: Lava's ``LIF`` (Loihi 2's CUBA-LIF).

    With ``a[t]`` the synaptic input delivered at step t::

        u[t] = (1 - du) * u[t-1] + a[t]            synaptic current
        v[t] = (1 - dv) * v[t-1] + u[t] + bias     membrane voltage
        s[t] = v[t] > vth;   where s[t]: v[t] = 0  spike, reset to zero in the same step

    Example:
        >>> CubaLIF() == CUBA_LIF, CUBA_LIF.params
        (True, ('du', 'dv', 'vth', 'bias'))
    """

    name: str = field(default="cuba-lif", init=False)
    state: tuple[str, ...] = field(default=("u", "v"), init=False)
    params: tuple[str, ...] = field(default=("du", "dv", "vth", "bias"), init=False)


@dataclass(frozen=True)
class ALIF(NeuronType):
    r"""Adaptive threshold and refractoriness: Lava's ``ATRLIF`` (lava-dl's ALIF).

    ``vth`` is the resting threshold θ0; there is no voltage reset::

        u[t] = (1 - du) * u[t-1] + a[t]
        v[t] = (1 - dv) * v[t-1] + u[t] + bias
        θ[t] = (1 - dtheta) * (θ[t-1] - vth) + vth
        r[t] = (1 - dr) * r[t-1]
        s[t] = v[t] - r[t] >= θ[t];   where s[t]: r[t] += 2 * θ[t], then θ[t] += theta_step

    Example:
        >>> ALIF().state
        ('u', 'v', 'theta', 'r')
    """

    name: str = field(default="alif", init=False)
    state: tuple[str, ...] = field(default=("u", "v", "theta", "r"), init=False)
    params: tuple[str, ...] = field(default=("du", "dv", "vth", "bias", "dtheta", "theta_step", "dr"), init=False)


CUBA_LIF = CubaLIF()
ADAPTIVE_LIF = ALIF()

#: every neuron model, by its public name (the first is the default)
NEURON_TYPES: dict[str, NeuronType] = {t.name: t for t in (CUBA_LIF, ADAPTIVE_LIF)}


def neuron_type(name: str) -> NeuronType:
    """The registered neuron type called ``name``; a one-line :class:`ConfigError` otherwise.

    Example:
        >>> neuron_type("cuba-lif") is CUBA_LIF
        True
    """
    if not isinstance(name, str) or name not in NEURON_TYPES:
        raise ConfigError(f"unknown neuron type {name!r}; known: {', '.join(map(repr, NEURON_TYPES))}")
    return NEURON_TYPES[name]
