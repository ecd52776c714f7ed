"""The ``snntorch`` backend: spiking meta-RL policies trained with surrogate gradients
through the shared RL² loop (:mod:`metaplastic.rl2`). Algorithm ``rl2``: a recurrent
CUBA-LIF (or ALIF) network whose adaptation lives in its membrane and synaptic state
(:mod:`metaplastic.spiking.snn_policy`); ``rl2-plastic``: the same, with recurrent weights
that also change within a trial by a three-factor rule whose coefficients are
meta-learned. ``execution=numba`` runs its agents on the event-driven numba kernels.

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("snntorch", hidden=16, batch_tasks=8)
    >>> learner.capabilities.spiking
    True
"""

from __future__ import annotations

from typing import Any

from metaplastic.backends.base import GREEDY_PARAM, SEED_PARAM
from metaplastic.backends.base_spiking import NET_PARAM, given_net, net_in_run
from metaplastic.backends.base_torch import DEVICE_PARAM, INIT_PARAM, TorchModelLearner
from metaplastic.tasks.base import task_spec
from metaplastic.core import Capabilities, TaskDistribution, VectorAgent
from metaplastic.errors import ConfigError, MetaplasticError
from metaplastic.params import Param
from metaplastic.runs.rundir import Checkpoint, RunDir


def _rl2(plastic: bool) -> Any:
    def build(learner: "SnnTorchLearner") -> Any:
        from metaplastic.rl2.algorithm import RL2

        return RL2(lambda tasks, enc: learner.make_network(tasks, enc, plastic=plastic), learner.config, learner.device)

    return build


#: ``algo`` -> the algorithm object for a learner.
ALGORITHMS = {"rl2": _rl2(False), "rl2-plastic": _rl2(True)}


def _params() -> tuple[Param, ...]:
    from metaplastic.rl2.params import RL2_PARAMS
    from metaplastic.spiking.params import SNN_PARAMS

    return (
        SEED_PARAM,
        Param("algo", str, "rl2", "meta-RL algorithm (rl2-plastic: recurrent weights also learn within a trial by a "
              "meta-learned three-factor rule)", choices=tuple(ALGORITHMS)),
        DEVICE_PARAM,
        Param("hidden", int, 64, "spiking neurons (64: more updates fit a 15-minute budget than at 128; the "
              "measured seeds are in the README's defaults table)", low=1, high=65536),
        *RL2_PARAMS, GREEDY_PARAM, INIT_PARAM, *SNN_PARAMS,
        Param("execution", str, "snntorch", "what runs agents: snntorch (the training runtime) or numba (the same "
              "network on the event-driven kernels)", choices=("snntorch", "numba")),
        NET_PARAM,
    )


class SnnTorchLearner(TorchModelLearner):
    """Spiking RL² (CUBA-LIF or ALIF, surrogate gradients) with snntorch; exports its network."""

    name = "snntorch"
    capabilities = Capabilities(meta_train=True, algorithms=tuple(ALGORITHMS), spiking=True, devices=("cpu", "cuda"),
                                exports=("nir",))
    config_params = _params()
    algorithms = ALGORITHMS

    def __init__(self, **config: Any) -> None:
        config, net = given_net(self.name, config)
        super().__init__(**config)
        if self.config["algo"] == "rl2-plastic" and self.config["plastic_rank"] > self.config["hidden"]:
            raise ConfigError(f"plastic_rank={self.config['plastic_rank']} exceeds hidden={self.config['hidden']}: "
                              "a rank above the neuron count adds nothing; use at most hidden (or 0 for one rate per synapse)")
        self.given_net = net  # make("snntorch", net=...): the network to run instead of a new one

    @classmethod
    def unavailable_reason(cls) -> str | None:
        import importlib.util

        missing = [m for m in ("torch", "snntorch") if importlib.util.find_spec(m) is None]
        return f"needs {', '.join(missing)}; install with: pip install 'metaplastic[snn]'" if missing else None

    def make_network(self, tasks: TaskDistribution, enc: Any, *, plastic: bool) -> Any:
        """A new spiking actor-critic for ``tasks`` (or the given network, to run or fine-tune)."""
        from metaplastic.spiking.snn_policy import SpikingActorCritic

        c = self.config
        if self.given_net is not None:
            if self.given_net.n_inputs != enc.size:
                raise ConfigError(f"this SpikingNet takes {self.given_net.n_inputs} inputs but {task_spec(tasks)}'s "
                                  f"RL² input has {enc.size}; use a network trained on this family")
            return SpikingActorCritic.from_spiking_net(self.given_net, tasks.action_space, slope=c["slope"])
        return SpikingActorCritic(enc.size, tasks.action_space, neurons=c["hidden"], substeps=c["substeps"],
                                  slope=c["slope"], plastic=plastic, reward_index=enc.obs_width + enc.act_width,
                                  neuron=c["neuron"], plastic_rank=c["plastic_rank"] if plastic else 0)

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> VectorAgent:
        if self.config["execution"] == "numba":  # the same network on the event-driven kernels
            from metaplastic.runtime.encoding import TrialInputEncoder
            from metaplastic.spiking.net_agent import SpikingNetAgent

            self.ensure_model(tasks)
            enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
            return SpikingNetAgent(self.model.to_spiking_net(), enc, num_lanes, greedy=self.config["greedy"])
        return super().vector_agent(tasks, num_lanes)

    def spiking_net(self) -> Any:
        """The trained policy as a :class:`~metaplastic.spiking.SpikingNet` (for export)."""
        if self.model is None:
            raise MetaplasticError("this learner has no network yet; meta-train it (or load a trained run) first")
        return self.model.to_spiking_net()

    # -- run directories --------------------------------------------------------------------
    @classmethod
    def _config_for_load(cls, config: dict[str, Any], run: RunDir) -> dict[str, Any]:
        if config.get("algo") == "rl2-plastic" and "plastic_rank" not in config:
            config = {**config, "plastic_rank": 0}  # runs made before plastic_rank learned one rate per synapse
        return net_in_run(config, run)

    def _save_extra(self, ckpt: Checkpoint) -> None:
        if self.given_net is not None:  # the network's shape, so the run rebuilds without the original file
            ckpt.save_net(self.given_net)
