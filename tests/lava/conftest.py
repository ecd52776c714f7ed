"""The Lava runtime for the lava tests: the installed one, or installed now (about 15 s)
when a Python 3.10 interpreter is found; without one, the lava tests skip with that reason."""

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import MetaplasticError


@pytest.fixture(scope="session")
def lava_runtime():
    from metaplastic.workers.provision import find_python, install, locate, unavailable

    if unavailable("lava") is None:
        return locate("lava")
    try:
        python = find_python("3.10")
    except MetaplasticError as e:
        pytest.skip(str(e))
    return install("lava", python, say=lambda *a, **k: None)


TRAINED_RUN = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures" / "runs_v0_1_0" / "snntorch-rl2"


def trained_net():
    """The network of a trained snntorch run (8 neurons, bandits:k=3,n=6) from the fixtures."""
    pytest.importorskip("torch", reason="reading the snntorch fixture needs the 'snn' extra")
    return metaplastic.load(TRAINED_RUN).spiking_net()


def random_net(tasks, *, neurons=32, seed=0, neuron="cuba-lif"):
    """A random (untrained) network for ``tasks``, as the numba backend starts one."""
    from metaplastic.spiking.es_fitness import random_net as make

    return make(tasks, neurons=neurons, seed=seed, substeps=2, neuron=neuron, plastic=False)
