"""The ``snntorch`` backend: spiking meta-RL policies trained with surrogate gradients
through the shared RL² loop (:mod:`metaplastic.training`). Algorithm ``rl2``: a recurrent
CUBA-LIF network whose adaptation lives in its membrane and synaptic state
(:mod:`metaplastic.spiking.snn_policy`); ``rl2-plastic``: the same, with recurrent weights
that also change within a trial by a three-factor rule whose coefficients are
meta-learned. Run directories, checkpoints, resume and
evaluation are the ``torch`` backend's.

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("snntorch", hidden=16, batch_tasks=8)
    >>> learner.capabilities.spiking
    True
"""

from __future__ import annotations

from typing import Any

from metaplastic.backends.base import SEED_PARAM
from metaplastic.backends.numba import NET_FILE, NET_PARAM, net_in_run, read_net, split_net
from metaplastic.backends.torch import DEVICE_PARAM, RL2_PARAMS, TorchLearner
from metaplastic.core import Capabilities
from metaplastic.params import Param

SNN_PARAMS = (
    Param("substeps", int, 2, "network time steps per decision (from 2 on, a decision sees its own input "
          "through the one-step synaptic delay)", low=1, high=1000),
    Param("neuron", str, "cuba-lif", "neuron model: cuba-lif (Lava LIF) or alif (Lava ATRLIF: adaptive threshold, "
          "refractory state)", choices=("cuba-lif", "alif")),
    Param("slope", float, 25.0, "slope of the fast-sigmoid surrogate gradient", low=0.0, low_exclusive=True),
    Param("plastic_rank", int, 4, "rl2-plastic: rank R of the meta-learned recurrent learning rates, lr_rec = P Qᵀ "
          "(a reward-gated fast-weight memory, O(T·N·R) per step); 0: one free rate per synapse (N² parameters, "
          "O(T·N²) per step)", low=0, high=65536),
    Param("execution", str, "snntorch", "what runs agents: snntorch (the training runtime) or numba (the same "
          "network on the event-driven kernels)", choices=("snntorch", "numba")),
)


class SnnTorchLearner(TorchLearner):
    """Spiking RL² (CUBA-LIF, surrogate gradients) with snntorch."""

    name = "snntorch"
    capabilities = Capabilities(meta_train=True, algorithms=("rl2", "rl2-plastic"), spiking=True, devices=("cpu", "cuda"), exports=("nir",))
    config_params = (
        SEED_PARAM,
        Param("algo", str, "rl2", "meta-RL algorithm (rl2-plastic: recurrent weights also learn within a trial by a "
              "meta-learned three-factor rule)", choices=("rl2", "rl2-plastic")),
        DEVICE_PARAM,
        *(p for p in RL2_PARAMS if p.name != "cell"),
        *SNN_PARAMS,
        NET_PARAM,
    )

    def __init__(self, **config: Any) -> None:
        config, net = split_net(self.name, config)
        super().__init__(**config)
        if self.config["algo"] == "rl2-plastic" and self.config["plastic_rank"] > self.config["hidden"]:
            from metaplastic.errors import ConfigError

            raise ConfigError(f"plastic_rank={self.config['plastic_rank']} exceeds hidden={self.config['hidden']}: "
                              "a rank above the neuron count adds nothing; use at most hidden (or 0 for one rate per synapse)")
        if net is None and self.config["net"]:
            net = read_net(self.config["net"])
        self.given_net = net  # make("snntorch", net=...): the network to run instead of a new one

    @classmethod
    def unavailable_reason(cls) -> str | None:
        import importlib.util

        missing = [m for m in ("torch", "snntorch") if importlib.util.find_spec(m) is None]
        return f"needs {', '.join(missing)}; install with: pip install 'metaplastic[snn]'" if missing else None

    @classmethod
    def _config_for_load(cls, config: dict[str, Any], path: Any) -> dict[str, Any]:
        if config.get("algo") == "rl2-plastic" and "plastic_rank" not in config:
            config = {**config, "plastic_rank": 0}  # runs made before plastic_rank learned one rate per synapse
        return net_in_run(config, path)

    def _save_state(self, path: Any) -> None:
        from pathlib import Path

        super()._save_state(path)
        if self.given_net is not None:  # the network's shape, so the run rebuilds without the original file
            self.given_net.save(Path(path) / NET_FILE)

    def spiking_net(self) -> Any:
        """The trained policy as a :class:`~metaplastic.spiking.SpikingNet` (for export)."""
        from metaplastic.errors import MetaplasticError

        if self.model is None:
            raise MetaplasticError("this learner has no network yet; meta-train it (or load a trained run) first")
        return self.model.to_spiking_net()

    def _algorithm(self) -> Any:
        from metaplastic.spiking.rl2_algorithm import SpikingRL2Algorithm

        return SpikingRL2Algorithm(self)
