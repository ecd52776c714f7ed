"""What evolution strategies optimise for a spiking RL² network: the mean trial return of a
:class:`~metaplastic.spiking.SpikingNet` run event-driven on a batch of training tasks.

:class:`NetVector` maps the network's trainable arrays (weights, and the plasticity
learning rates of a plastic network) to one flat vector and back; :class:`TrialReturnFitness`
is a picklable callable that an :mod:`executor <metaplastic.training.executors>` runs on a job
``(theta, task_seed, agent_seed)``. numpy and numba only.

Example:
    >>> import numpy as np, metaplastic
    >>> tasks = metaplastic.make_tasks("bandits:k=2,n=4")
    >>> net = random_net(tasks, neurons=8, seed=0)
    >>> vec = NetVector(net)
    >>> fitness = TrialReturnFitness(vec, tasks, batch_tasks=16)
    >>> 0.0 <= fitness((vec.flatten(net), 1, 2)) <= 4.0
    True
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from gymnasium import spaces

from metaplastic.runtime.encoding import TrialInputEncoder
from metaplastic.runtime.sampling import initial_log_std
from metaplastic.errors import ConfigError
from metaplastic.spiking.net import Plasticity, SpikingNet
from metaplastic.spiking.neurons import CUBA_LIF, neuron_type

#: Starting values of the adaptation parameters, for the neuron types that have them.
ADAPTATION_START = {"dtheta": 0.05, "theta_step": 0.2, "dr": 0.2}

__all__ = ["NetVector", "TrialReturnFitness", "random_net", "trial_play", "trial_returns"]


def random_net(tasks: Any, *, neurons: int, seed: int, substeps: int = 2, neuron: str = CUBA_LIF.name,
               plastic: bool = False) -> SpikingNet:
    """A fresh RL² network for ``tasks``' spaces: Gaussian weights scaled by fan-in, the
    snntorch policy's default decays; a categorical readout for Discrete actions, a
    Gaussian one (``head="gaussian"``, its mean's weights scaled down by 10) for a Box;
    ``plastic`` adds zero recurrent learning rates (to be evolved) with a trace that keeps
    half of itself per step."""
    space = tasks.action_space
    enc = TrialInputEncoder(tasks.observation_space, space)
    rng = np.random.default_rng(seed)
    n, i = int(neurons), enc.size
    if isinstance(space, spaces.Discrete):  # one logit per action
        a, head, out_scale = int(space.n), {}, 1.0
    elif isinstance(space, spaces.Box):  # the mean of each action number, near 0 at first (as GaussianHead starts)
        a = int(np.prod(space.shape))
        head, out_scale = {"head": "gaussian", "log_std": np.full(a, initial_log_std(space))}, 0.1
    else:
        raise ConfigError(f"the numba backend's networks act in Discrete or Box action spaces, not {type(space).__name__}")
    adaptive = {k: v for k, v in ADAPTATION_START.items() if k in neuron_type(neuron).params}
    return SpikingNet(
        neuron=neuron, w_in=rng.normal(0, 2.0 / np.sqrt(i), (n, i)), w_rec=rng.normal(0, 1.0 / np.sqrt(n), (n, n)),
        w_out=rng.normal(0, out_scale / np.sqrt(n), (a, n)), b_out=np.zeros(a), du=0.2, dv=0.1, readout_decay=0.2,
        substeps=int(substeps), plasticity=Plasticity(lr_rec=np.zeros((n, n)), trace_decay=0.5) if plastic else None,
        **head, **adaptive,
    )


class NetVector:
    """The trainable arrays of a network as one flat float64 vector (and back).

    Trained: ``w_in``, ``w_rec``, ``w_out``, ``b_out``, the per-neuron decays ``du``, ``dv``
    and ``readout_decay`` (as logits, so that every vector maps to decays inside (0, 1)),
    a Gaussian head's ``log_std``, and with ``trainable_plasticity`` the recurrent learning
    rates ``plasticity.lr_rec``.
    Everything else (thresholds, time step, trace decay) is kept from the template.
    """

    WEIGHTS = ("w_in", "w_rec", "w_out", "b_out")
    DECAYS = ("du", "dv", "readout_decay")
    _EPS = 1e-6

    def __init__(self, template: SpikingNet, trainable_plasticity: bool = False):
        self.template = template
        self.names = (self.WEIGHTS + (("log_std",) if template.head == "gaussian" else ()) + self.DECAYS
                      + (("plasticity.lr_rec",) if trainable_plasticity else ()))
        self.shapes = [self._get(template, k).shape for k in self.names]
        self.size = int(sum(int(np.prod(s)) for s in self.shapes))

    def _get(self, net: SpikingNet, name: str) -> np.ndarray:
        if name == "plasticity.lr_rec":
            return net.plasticity.lr_rec
        value = np.asarray(getattr(net, name), dtype=np.float64)
        if name in self.DECAYS:
            p = np.clip(value, self._EPS, 1 - self._EPS)
            return np.log(p / (1 - p))
        return value

    def flatten(self, net: SpikingNet) -> np.ndarray:
        return np.concatenate([self._get(net, k).ravel() for k in self.names])

    def unflatten(self, theta: np.ndarray) -> SpikingNet:
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.size,):
            raise ConfigError(f"parameter vector must have {self.size} entries, got shape {theta.shape}")
        parts, at = {}, 0
        for name, shape in zip(self.names, self.shapes):
            k = int(np.prod(shape))
            parts[name] = theta[at : at + k].reshape(shape)
            at += k
        for name in self.DECAYS:
            parts[name] = 1.0 / (1.0 + np.exp(-parts[name]))
        lr = parts.pop("plasticity.lr_rec", None)
        plasticity = self.template.plasticity if lr is None else replace(self.template.plasticity, lr_rec=lr)
        return replace(self.template, **parts, plasticity=plasticity)


def trial_returns(net: SpikingNet, tasks: Any, task_list: list, *, agent_seeds: np.ndarray, env_seed: int,
                  greedy: bool = False) -> np.ndarray:
    """``(len(task_list), episodes)`` returns of one trial per task, run event-driven."""
    return trial_play(net, tasks, task_list, agent_seeds=agent_seeds, env_seed=env_seed, greedy=greedy)[0]


def trial_play(net: SpikingNet, tasks: Any, task_list: list, *, agent_seeds: np.ndarray, env_seed: int,
               greedy: bool = False) -> tuple[np.ndarray, Any]:
    """The returns of :func:`trial_returns` and the operations the trials counted (an
    :class:`~metaplastic.core.OpCounts` summed over the tasks)."""
    from metaplastic.spiking.net_agent import SpikingNetAgent
    from metaplastic.runtime.vector import run_vector_trials

    enc = TrialInputEncoder(tasks.observation_space, tasks.action_space)
    agent = SpikingNetAgent(net, enc, len(task_list), greedy=greedy)
    venv = tasks.make_vector_env(task_list)
    try:
        returns = run_vector_trials(agent, venv, tasks.episodes_per_trial, agent_seeds=agent_seeds, env_seed=env_seed)
    finally:
        venv.close()
    return returns, agent.ops()


class TrialReturnFitness:
    """Mean trial return of the network ``vector.unflatten(theta)`` on ``batch_tasks``
    training tasks drawn with ``task_seed`` (the same tasks for a whole generation: common
    random numbers), its agents seeded by ``agent_seed``, minus ``energy_coef`` × its firing
    rate there (spikes per neuron update: energy-aware evolution). Picklable: a worker
    process gets the task distribution itself (task families pickle by value)."""

    def __init__(self, vector: NetVector, tasks: Any, *, batch_tasks: int, greedy: bool = False,
                 energy_coef: float = 0.0):
        self.vector, self.tasks, self.batch_tasks, self.greedy = vector, tasks, int(batch_tasks), greedy
        self.energy_coef = float(energy_coef)
        self._drawn: tuple[int, list] | None = None  # the last batch of tasks, reused across a generation

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_drawn": None}

    def __call__(self, job: tuple[np.ndarray, int, int]) -> float:
        theta, task_seed, agent_seed = job
        tasks = self.tasks
        if self._drawn is None or self._drawn[0] != int(task_seed):
            self._drawn = (int(task_seed), tasks.sample(self.batch_tasks, seed=int(task_seed), split="train"))
        task_list = self._drawn[1]
        seeds = np.random.SeedSequence([int(agent_seed)]).generate_state(len(task_list), dtype=np.uint32)
        returns, ops = trial_play(self.vector.unflatten(theta), tasks, task_list, agent_seeds=seeds,
                                  env_seed=int(agent_seed), greedy=self.greedy)
        rate = ops.spikes / max(ops.neuron_updates, 1)
        return float(returns.sum(axis=1).mean()) - self.energy_coef * rate
