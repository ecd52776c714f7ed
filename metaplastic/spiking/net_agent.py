"""``SpikingNetAgent``: RL² agents that run a :class:`~metaplastic.spiking.SpikingNet`
event-driven (a :class:`~metaplastic.core.VectorAgent`, numpy and numba only).

Each decision encodes RL²'s input (observation, previous action, previous reward,
boundary flag), runs the network's ``substeps`` time steps and reads its readout: action
logits (``head="categorical"``) or the mean of a Gaussian over a Box's numbers
(``head="gaussian"``). The plasticity third factor of a decision's first time step is the
modulation of the reward observed just before it (:meth:`Plasticity.modulation`: the
reward itself, or a reward-prediction error against a per-lane running baseline); 0 at
the start of a trial. Actions are sampled from the softmax of the logits (or the Gaussian,
then clipped to the space's bounds) with a generator seeded from the lane seeds, exactly as
the torch and snntorch agents sample theirs (:mod:`metaplastic.runtime.sampling`).

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

from metaplastic.core import OpCounts, Transition
from metaplastic.runtime.encoding import TrialInputEncoder, TrialInputs
from metaplastic.runtime.sampling import clip_to_box, sample_gaussian
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


#: uniform numbers drawn ahead at a time (at least one decision's): one generator call per
#: many decisions, the same numbers as one call per decision
UNIFORM_BLOCK = 1024


class SpikingNetAgent:
    """``num_lanes`` RL² agents running one :class:`SpikingNet` on the numba kernels (or on
    the given ``lanes`` of ``num_lanes`` copies of ``net``, e.g. Lava's).

    On the numba kernels a decision is one jitted call, :func:`~metaplastic.spiking.kernels.act`
    (encoding, time steps, readout and sampling), and an observation another,
    :func:`~metaplastic.spiking.kernels.observe`, on arrays allocated once (the agent's
    :class:`~metaplastic.spiking.kernels.AgentArrays`). A one-lane agent is also a
    :class:`~metaplastic.core.OneLaneAgent`: behind the Agent contract
    (:class:`~metaplastic.runtime.vector.SingleLaneAgent`) its lane's values go straight to
    the compiled kernels (``act_one``, ``observe_one``), without 1-element arrays or numba's
    dispatch. The uniform numbers of the sampling are drawn ahead in blocks from the lanes'
    generator: the numbers one draw per decision would give.

    A Gaussian head (``net.head == "gaussian"``, a Box action space) takes the lanes'
    ``decide`` instead (encoding, time steps and readout), then draws one standard normal
    number per lane and action number in numpy, clips to the space's bounds, and records
    the previous action with :meth:`~metaplastic.runtime.encoding.TrialInputs.record`.
    """

    def __init__(self, net: SpikingNet, encoder: TrialInputEncoder, num_lanes: int, *, greedy: bool = False,
                 lanes: NetLanes | None = None):
        if net.n_inputs != encoder.size:
            raise ConfigError(f"this SpikingNet takes {net.n_inputs} inputs but the task family's RL² input has "
                              f"{encoder.size} (observation, previous action, reward, boundary); use a network "
                              "trained on this family")
        net.check_action_space(encoder.action_space)
        self.net, self.encoder, self.num_lanes, self.greedy = net, encoder, int(num_lanes), bool(greedy)
        self.lanes = EventDrivenLanes(net, self.num_lanes) if lanes is None else lanes
        self.inputs = TrialInputs(encoder, self.num_lanes)
        self.rng = np.random.default_rng()
        self._decisions = np.zeros(1, np.int64)  # since the last reset
        self._mod = np.zeros(self.num_lanes, np.float32)
        self._baseline = np.zeros(self.num_lanes, np.float64)
        # a Gaussian head's actions: the readout is the mean, sampled and clipped in numpy after the lanes' decide
        self._gaussian = net.head == "gaussian"
        space = encoder.action_space
        self._actions = (clip_to_box(np.zeros((self.num_lanes, encoder.act_width)), space) if self._gaussian
                         else np.zeros(self.num_lanes, np.int64))
        # the uniform numbers drawn ahead; the next unused one at _cursor[0] (all spent: draw a block)
        categorical_draws = not (self.greedy or self._gaussian)
        self._u = np.zeros(self.num_lanes * max(1, UNIFORM_BLOCK // self.num_lanes) if categorical_draws else 0)
        self._cursor = np.array([self._u.size], np.int64)
        self._discrete_obs = isinstance(encoder.observation_space, spaces.Discrete)
        self._obs_ndim, self._obs_dtypes = (1, (_INT64,)) if self._discrete_obs else (2, (_FLOAT32, _FLOAT64))
        self._no_draw = np.zeros(self.num_lanes)
        self._one, self._obs_one = np.ones(1, np.bool_), np.zeros(1, np.int64)  # act_one's active lane, observation
        # act in one call on the numba lanes; on others (Lava's) and for a Gaussian head, the readout, then the sampling
        self._fused = isinstance(self.lanes, EventDrivenLanes) and not self._gaussian
        self._bind()

    def _bind(self) -> None:
        """The kernels' arguments that never change: ``observe``'s, and on the numba lanes
        ``act``'s handle on the lanes' and this agent's arrays
        (:class:`~metaplastic.spiking.kernels.AgentArrays`: it refers to them, so it is rebuilt,
        not copied, with the agent)."""
        enc, p = self.encoder, self.net.plasticity
        self._k = self._act_lane = self._observe_args = self._observe_lane = None
        self._modulator = K.NO_MODULATION if not self.lanes.plastic else K.REWARD if p.modulator == "reward" else K.RPE
        if self._gaussian:  # inputs recorded in numpy (TrialInputs), not by the one-hot kernels
            return
        self._observe_args = (self.inputs.x, enc.obs_width, int(enc.action_space.start), self._modulator,
                              float(p.baseline_decay), self._mod, self._baseline)
        self._observe_lane = K.one_lane_observe(*self._observe_args)
        if self._fused:
            obs_start = int(enc.observation_space.start) if self._discrete_obs else 0
            self._k = K.agent_arrays(*self.lanes.kernel_args(), self.inputs.x, obs_start, enc.obs_width, self._mod,
                                     self.greedy, self._actions, self._u, self._cursor, self._decisions,
                                     np.zeros(self.net.n_outputs))
            self._act_lane = K.one_lane_act(self._k, self._discrete_obs)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for made_by_bind in ("_k", "_observe_args", "_act_lane", "_observe_lane"):  # numba's: rebuilt, not pickled
            del state[made_by_bind]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._bind()

    def reset(self, seeds: Any) -> None:
        seeds = [int(s) for s in np.asarray(seeds, dtype=np.uint64).ravel()]
        if len(seeds) != self.num_lanes:
            raise ValueError(f"reset needs {self.num_lanes} seeds, got {len(seeds)}")
        self.rng = np.random.default_rng(np.random.SeedSequence(seeds))
        if self._u.size:
            self._draw()  # the trial's first block, before its first decision
        self.lanes.reset()
        self.inputs.reset()
        self._decisions[0] = 0
        self._mod[:] = 0.0
        self._baseline[:] = 0.0

    def logits(self, obs: Any, active: Any) -> np.ndarray:
        """Run one decision on the active lanes and return the readout (num_lanes, A)."""
        active = np.asarray(active, dtype=bool)
        y = self.lanes.decide(self.inputs.assemble(obs), self._mod, active)
        if self.lanes.plastic:
            self._mod[active] = 0.0  # the third factor is spent on this decision's first step
        self._decisions[0] += np.count_nonzero(active)
        return y

    def act(self, obs: Any, active: Any) -> np.ndarray:
        if type(active) is not np.ndarray or active.dtype is not _BOOL:
            active = np.asarray(active, dtype=np.bool_)
        if self._fused and (type(obs) is not np.ndarray or obs.ndim != self._obs_ndim
                            or obs.dtype not in self._obs_dtypes):
            obs = self._observations(obs)
        return self._decide(obs, active).copy()

    def act_one(self, obs: Any) -> int:
        """:meth:`act` of a one-lane agent, given its lane's observation as
        :class:`~metaplastic.runtime.vector.SingleLaneAgent` checks it (an int for a Discrete
        space, a float64 array for a Box): the lane's action, an int (a Gaussian head's: a
        float32 array)."""
        if self._gaussian:
            return self._decide(self._observations(obs), self._one)[0].copy()
        if self._discrete_obs:
            self._obs_one[0] = obs
            obs = self._obs_one
        elif type(obs) is np.ndarray and obs.dtype is _FLOAT64 and obs.ndim == 1 and obs.flags.c_contiguous:
            obs = obs[None]
        else:
            return self._decide(self._observations(obs), self._one).item(0)
        # the usual case: the compiled act, called on exactly the types it was compiled for
        if self._act_lane is not None and self._act_lane(self._k, obs, None) == 1:
            return self._actions.item(0)
        return self._decide(obs, self._one).item(0)  # other lanes, a block of uniform numbers spent, an error

    def _decide(self, obs: Any, active: np.ndarray) -> np.ndarray:
        """One decision: the actions (the agent's own buffer, rewritten by the next)."""
        if self._gaussian and (np.shape(obs)[:1] != (self.num_lanes,) or active.shape != (self.num_lanes,)):
            raise ValueError(self._refusal("act", K.BAD_SHAPE, obs=obs, active=active))
        if not self._fused:  # other lanes (Lava's), a Gaussian head: their readout, then the sampling
            y = self.logits(obs, active)
            if self._gaussian:  # a draw for every lane (the torch agents' stream); only active lanes' actions change
                drawn = sample_gaussian(y, self.net.log_std, self.rng, self.greedy)
                drawn = clip_to_box(drawn, self.encoder.action_space)
                self._actions[active] = drawn[active]
                return self._actions
            K.sample_actions(y, self._uniforms(), self.greedy, active, self._actions)
            return self._actions
        decided = K.act(self._k, obs, active)
        if decided < 0:
            if decided == K.NEED_UNIFORMS:
                self._draw()
                decided = K.act(self._k, obs, active)
            if decided < 0:
                raise ValueError(self._refusal("act", decided, obs=obs, active=active))
        return self._actions

    def _draw(self) -> None:
        """The next block of uniform numbers (one per lane and decision, in the order one
        ``rng.random(num_lanes)`` per decision gives them, as
        :func:`metaplastic.runtime.sampling.sample_categorical` draws them)."""
        self.rng.random(out=self._u)
        self._cursor[0] = 0

    def _uniforms(self) -> np.ndarray:
        """This decision's ``num_lanes`` uniform numbers (zeros, unused, for a greedy agent)."""
        if self.greedy:
            return self._no_draw
        if self._cursor[0] + self.num_lanes > self._u.size:
            self._draw()
        start = int(self._cursor[0])
        self._cursor[0] = start + self.num_lanes
        return self._u[start : start + self.num_lanes]

    def _observations(self, obs: Any) -> np.ndarray:
        """``obs`` as :func:`~metaplastic.spiking.kernels.act` takes it (``_obs_ndim``
        dimensions, a dtype of ``_obs_dtypes``): (L,) int64 for a Discrete observation space,
        (L, width) float32 or float64 for a Box."""
        if self._discrete_obs:
            return np.asarray(obs, dtype=np.int64).reshape(-1)
        obs = np.asarray(obs)
        return (obs if obs.dtype in self._obs_dtypes else obs.astype(np.float64)).reshape(self.num_lanes, -1)

    def _refusal(self, call: str, code: int, **given: Any) -> str:
        what = {K.BAD_OBSERVATION: f"an observation outside {self.encoder.observation_space}",
                K.BAD_ACTION: f"an action outside {self.encoder.action_space}"}.get(code, "inputs of the wrong shape")
        shapes = ", ".join(f"{k} of shape {np.shape(v)}" for k, v in given.items())
        return f"{call} got {what} for {self.num_lanes} lanes ({shapes})"

    def observe(self, obs, actions, rewards, next_obs, terminated, truncated, active) -> None:
        if self._gaussian:
            self._record(actions, _array(rewards, _FLOAT64), _array(terminated, _BOOL) | _array(truncated, _BOOL),
                         _array(active, _BOOL))
            return
        recorded = K.observe(*self._observe_args, _array(actions, _INT64), _array(rewards, _FLOAT64),
                             _array(terminated, _BOOL), _array(truncated, _BOOL), _array(active, _BOOL))
        if recorded < 0:
            raise ValueError(self._refusal("observe", recorded, actions=actions, rewards=rewards, active=active))

    def observe_one(self, transition: Transition) -> None:
        """:meth:`observe` of a one-lane agent, given its lane's
        :class:`~metaplastic.core.Transition` as :class:`~metaplastic.runtime.vector.SingleLaneAgent`
        checks it."""
        t = transition
        if self._gaussian:
            self._record(np.asarray(t.action)[None], np.array([t.reward], np.float64),
                         np.array([t.terminated or t.truncated]), self._one)
            return
        recorded = self._observe_lane(*self._observe_args, t.action, t.reward, t.terminated or t.truncated)
        if recorded < 0:
            raise ValueError(self._refusal("observe", recorded, actions=[t.action], rewards=[t.reward]))

    def _record(self, actions: Any, rewards: np.ndarray, done: np.ndarray, active: np.ndarray) -> None:
        """A Gaussian head's :meth:`observe`, in numpy: the next decision's inputs
        (:meth:`TrialInputs.record`) and the third factor, as :func:`~metaplastic.spiking.kernels.observe`
        computes them for discrete actions (and refuses what it refuses: wrong shapes, and
        active lanes' actions that are not finite numbers)."""
        actions = np.asarray(actions)
        n, width = self.num_lanes, self.encoder.act_width
        if actions.shape[:1] != (n,) or actions[0].size != width or any(a.shape != (n,) for a in (rewards, done, active)):
            raise ValueError(self._refusal("observe", K.BAD_SHAPE, actions=actions, rewards=rewards, active=active))
        if actions.dtype.kind not in "iuf" or not np.isfinite(actions[active]).all():
            raise ValueError(self._refusal("observe", K.BAD_ACTION, actions=actions, rewards=rewards, active=active))
        self.inputs.record(actions.reshape(n, width), rewards, done, active)
        K.modulate(self._modulator, float(self.net.plasticity.baseline_decay), self._mod, self._baseline, rewards,
                   active)

    def end_episode(self, mask: Any) -> None:
        pass  # the boundary flag was recorded with the episode's last transition

    @property
    def decisions(self) -> int:
        """Decisions of all lanes since the last :meth:`reset`."""
        return int(self._decisions[0])

    def ops(self) -> OpCounts:
        counts = self.lanes.ops().as_dict()
        counts["decisions"] = self.decisions
        return OpCounts(**counts)


_BOOL, _INT64, _FLOAT32, _FLOAT64 = (np.dtype(t) for t in (np.bool_, np.int64, np.float32, np.float64))


def _array(x: Any, dtype: np.dtype) -> np.ndarray:
    """``x`` as a 1-d array of ``dtype`` (itself when it already is one)."""
    if type(x) is np.ndarray and x.dtype is dtype and x.ndim == 1:
        return x
    return np.asarray(x, dtype=dtype).reshape(-1)

