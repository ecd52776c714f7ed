"""RL² with a spiking network: the ``torch`` backend's RL² algorithm with the GRU swapped
for :class:`~metaplastic.spiking.snn_policy.SpikingActorCritic`."""

from __future__ import annotations

from typing import Any

from metaplastic.rl2.algorithm import RL2Algorithm
from metaplastic.runtime.encoding import TrialInputEncoder
from metaplastic.spiking.snn_policy import SpikingActorCritic


class SpikingRL2Algorithm(RL2Algorithm):
    def make_model(self, tasks: Any) -> SpikingActorCritic:
        enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
        given = getattr(self.learner, "given_net", None)
        if given is not None:  # make("snntorch", net=...): run (or fine-tune) that network
            if given.n_inputs != enc.size:
                from metaplastic.errors import ConfigError

                raise ConfigError(f"this SpikingNet takes {given.n_inputs} inputs but {getattr(tasks, 'spec', 'the task family')}'s "
                                  f"RL² input has {enc.size}; use a network trained on this family")
            return SpikingActorCritic.from_spiking_net(given, tasks.action_space, slope=self.config["slope"])
        plastic = self.config["algo"] == "rl2-plastic"
        return SpikingActorCritic(enc.size, tasks.action_space, neurons=self.config["hidden"],
                                  substeps=self.config["substeps"], slope=self.config["slope"], plastic=plastic,
                                  reward_index=enc.obs_width + enc.act_width, neuron=self.config["neuron"],
                                  plastic_rank=self.config["plastic_rank"] if plastic else 0)

    def vector_agent(self, tasks: Any, num_lanes: int) -> Any:
        if self.config["execution"] == "numba":  # the same network on the event-driven kernels
            from metaplastic.spiking.net_agent import SpikingNetAgent

            enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
            return SpikingNetAgent(self.learner.model.to_spiking_net(), enc, num_lanes, greedy=self.config["greedy"])
        return super().vector_agent(tasks, num_lanes)
