"""RL² with a spiking network: the ``torch`` backend's RL² algorithm with the GRU swapped
for :class:`~metaplastic.spiking.snn_policy.SpikingActorCritic`."""

from __future__ import annotations

from typing import Any

from metaplastic.dense.rl2_algorithm import RL2Algorithm
from metaplastic.encoding import TrialInputEncoder
from metaplastic.spiking.snn_policy import SpikingActorCritic


class SpikingRL2Algorithm(RL2Algorithm):
    def make_model(self, tasks: Any) -> SpikingActorCritic:
        enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
        plastic = self.config["algo"] == "rl2-plastic"
        return SpikingActorCritic(enc.size, tasks.action_space, neurons=self.config["hidden"],
                                  substeps=self.config["substeps"], slope=self.config["slope"], plastic=plastic,
                                  reward_index=enc.obs_width + enc.act_width)
