"""A factory of SpikingNets whose every field is random, shared by the spiking tests."""

import numpy as np
import pytest

from metaplastic.spiking import Plasticity, SpikingNet


def random_net(neuron: str = "cuba-lif", *, seed: int = 0, n: int = 5, i: int = 3, a: int = 2,
               zero_decays: bool = False) -> SpikingNet:
    """Random weights, decays, thresholds, biases, readout, dt, substeps and plasticity;
    ``zero_decays`` puts exact 0s (infinite NIR time constants) among the decays."""
    rng = np.random.default_rng(seed)

    def decay(size: int) -> np.ndarray:
        return np.where(zero_decays & (rng.uniform(size=size) < 0.4), 0.0, rng.uniform(size=size))

    alif = neuron == "alif"
    return SpikingNet(
        neuron=neuron, w_in=rng.normal(size=(n, i)), w_rec=rng.normal(size=(n, n)), w_out=rng.normal(size=(a, n)),
        b_out=rng.normal(size=a), du=decay(n), dv=decay(n), vth=rng.uniform(0.5, 2.0, n), bias=rng.normal(size=n),
        dtheta=decay(n) if alif else 0.0, theta_step=rng.uniform(size=n) if alif else 0.0,
        dr=decay(n) if alif else 0.0, readout_decay=decay(n), dt=float(rng.uniform(1e-4, 1e-2)),
        substeps=int(rng.integers(1, 8)),
        plasticity=Plasticity(lr_in=rng.normal(size=(n, i)), lr_rec=rng.normal(size=(n, n)),
                              trace_decay=float(rng.uniform()), modulator="rpe", baseline_decay=float(rng.uniform())),
    )


@pytest.fixture
def make_net():
    """The :func:`random_net` factory."""
    return random_net
