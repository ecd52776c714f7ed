"""``SpikingNetAgent``: RL² agents that run a :class:`~metaplastic.spiking.SpikingNet`
event-driven (a :class:`~metaplastic.core.VectorAgent`, numpy and numba only).

Each decision encodes RL²'s input (observation, previous action, previous reward,
boundary flag), runs the network's ``substeps`` time steps and reads its readout as
action logits. The plasticity third factor of a decision's first time step is the
modulation of the reward observed just before it (:meth:`Plasticity.modulation`: the
reward itself, or a reward-prediction error against a per-lane running baseline); 0 at
the start of a trial. Actions are sampled from the softmax of the logits with a generator
seeded from the lane seeds, exactly as the torch and snntorch agents sample theirs.

Example:
    >>> import numpy as np, metaplastic
    >>> from metaplastic.spiking import SpikingNet
    >>> tasks = metaplastic.make_tasks("bandits:k=2,n=3")
    >>> enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    >>> net = SpikingNet(w_in=np.ones((4, enc.size)), w_out=np.ones((2, 4)), du=0.5, dv=0.5, substeps=2)
    >>> agent = SpikingNetAgent(net, enc, num_lanes=2)
    >>> agent.reset([0, 1])
    >>> agent.act(np.zeros(2, int), np.ones(2, bool)).shape
    (2,)
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from gymnasium import spaces

from metaplastic.core import OpCounts
from metaplastic.runtime.encoding import TrialInputEncoder, TrialInputs
from metaplastic.errors import ConfigError
from metaplastic.spiking import kernels as K
from metaplastic.spiking.event_runtime import EventDrivenLanes
from metaplastic.spiking.net import SpikingNet

__all__ = ["SpikingNetAgent", "NetLanes"]


class NetLanes(Protocol):
    """What runs a network's lanes for :class:`SpikingNetAgent`: the numba kernels
    (:class:`~metaplastic.spiking.event_runtime.EventDrivenLanes`, the default) or Lava's
    simulator (:class:`~metaplastic.spiking.lava_lanes.LavaLanes`)."""

    plastic: bool

    def reset(self, lanes: Any = None) -> None: ...

    def decide(self, x: Any, modulation: Any, active: Any) -> np.ndarray: ...

    def ops(self) -> OpCounts: ...


class SpikingNetAgent:
    """``num_lanes`` RL² agents running one :class:`SpikingNet` on the numba kernels (or on
    the given ``lanes`` of ``num_lanes`` copies of ``net``, e.g. Lava's)."""

    def __init__(self, net: SpikingNet, encoder: TrialInputEncoder, num_lanes: int, *, greedy: bool = False,
                 lanes: NetLanes | None = None):
        if net.n_inputs != encoder.size:
            raise ConfigError(f"this SpikingNet takes {net.n_inputs} inputs but the task family's RL² input has "
                              f"{encoder.size} (observation, previous action, reward, boundary); use a network "
                              "trained on this family")
        n_actions = encoder.action_space.n if isinstance(encoder.action_space, spaces.Discrete) else None
        if n_actions is None or net.n_outputs != int(n_actions):
            raise ConfigError(f"this SpikingNet has {net.n_outputs} readout units; the task family needs one per "
                              f"discrete action ({n_actions if n_actions is not None else 'a continuous action space'})")
        self.net, self.encoder, self.num_lanes, self.greedy = net, encoder, int(num_lanes), bool(greedy)
        self.lanes = EventDrivenLanes(net, self.num_lanes) if lanes is None else lanes
        self.inputs = TrialInputs(encoder, self.num_lanes)
        self.rng = np.random.default_rng()
        self.decisions = 0
        self._mod = np.zeros(self.num_lanes, np.float32)
        self._baseline = np.zeros(self.num_lanes, np.float64)
        self._actions = np.zeros(self.num_lanes, np.int64)
        self._no_draw = np.zeros(self.num_lanes)

    def reset(self, seeds: Any) -> None:
        seeds = [int(s) for s in np.asarray(seeds, dtype=np.uint64).ravel()]
        if len(seeds) != self.num_lanes:
            raise ValueError(f"reset needs {self.num_lanes} seeds, got {len(seeds)}")
        self.rng = np.random.default_rng(np.random.SeedSequence(seeds))
        self.lanes.reset()
        self.inputs.reset()
        self.decisions = 0
        self._mod[:] = 0.0
        self._baseline[:] = 0.0

    def logits(self, obs: Any, active: Any) -> np.ndarray:
        """Run one decision on the active lanes and return the readout (num_lanes, A)."""
        active = np.asarray(active, dtype=bool)
        y = self.lanes.decide(self.inputs.assemble(obs), self._mod, active)
        if self.lanes.plastic:
            self._mod[active] = 0.0  # the third factor is spent on this decision's first step
        self.decisions += int(np.count_nonzero(active))
        return y

    def act(self, obs: Any, active: Any) -> np.ndarray:
        y = self.logits(obs, active)
        # one uniform number per lane, as metaplastic.runtime.sampling.sample_categorical draws them
        u = self._no_draw if self.greedy else self.rng.random(self.num_lanes)
        K.sample_actions(y, u, self.greedy, active, self._actions)
        return self._actions.copy()

    def observe(self, obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        active = np.asarray(active, dtype=bool)
        done = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
        self.inputs.record(np.asarray(actions), np.asarray(rewards), done, active)
        if self.lanes.plastic:
            r = np.asarray(rewards, dtype=np.float64)
            p = self.net.plasticity
            if p.modulator == "reward":
                m = r
            else:  # a reward-prediction error against each lane's running baseline
                m = r - self._baseline
                self._baseline = np.where(active, (1 - p.baseline_decay) * self._baseline + p.baseline_decay * r,
                                          self._baseline)
            self._mod[active] = m[active]

    def end_episode(self, mask: Any) -> None:
        pass  # the boundary flag was recorded with the episode's last transition

    def ops(self) -> OpCounts:
        counts = self.lanes.ops().as_dict()
        counts["decisions"] = self.decisions
        return OpCounts(**counts)
