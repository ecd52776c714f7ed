"""The public contract of metaplastic: the names third-party plugins are written against.

This module imports numpy and gymnasium only. A task family implements
:class:`TaskDistribution`; a backend implements :class:`MetaLearner`, whose
:meth:`MetaLearner.agent` returns an :class:`Agent` (the inner loop on one task).

Example:
    >>> from metaplastic.core import OpCounts
    >>> (OpCounts(macs=3, decisions=1) + OpCounts(macs=2, decisions=1)).macs
    5
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import gymnasium

__all__ = [
    "Task",
    "TaskDistribution",
    "Transition",
    "OpCounts",
    "Capabilities",
    "Agent",
    "MetaLearner",
    "VectorAgent",
    "OneLaneAgent",
    "VectorLearner",
    "PrivilegedAgent",
    "PrivilegedVectorAgent",
    "SpikingExporter",
    "DeviceLearner",
    "Configurable",
    "ResumableLearner",
    "StatefulCallback",
    "Preparable",
    "LatentFamily",
    "InferenceAgent",
]


@dataclass(frozen=True)
class Task:
    """One task drawn from a distribution.

    ``params`` is the hidden ground truth (e.g. the arm probabilities of a bandit). It
    is there for oracles and scoring only: an agent never reads it.

    Example:
        >>> Task(family="bandits", params={"p": (0.2, 0.9)}, seed=7).family
        'bandits'
    """

    family: str
    params: Mapping[str, Any]
    seed: int


@runtime_checkable
class TaskDistribution(Protocol):
    """A distribution of tasks; ``split`` is one of ``"train"``, ``"test"``, ``"ood"``."""

    name: str
    observation_space: gymnasium.Space
    action_space: gymnasium.Space
    episodes_per_trial: int

    def sample(self, n: int, *, seed: int, split: str = "train") -> list[Task]: ...

    def make_env(self, task: Task) -> gymnasium.Env: ...


@dataclass(frozen=True)
class Transition:
    """What an agent sees after one step: ``obs --action--> reward, next_obs``."""

    obs: Any
    action: Any
    reward: float
    next_obs: Any
    terminated: bool
    truncated: bool


@dataclass
class OpCounts:
    """Operations an agent actually executed, counted while running (never assumed).

    Fields (all integers, default 0):
        macs: multiply-accumulates (dense arithmetic), NeuroBench ``Effective_MACs``.
        acs: accumulates (a spike arriving at a synapse adds a weight), ``Effective_ACs``.
        synaptic_events: spikes delivered to synapses (spikes x fan-out).
        neuron_updates: neuron state updates (NeuroBench "membrane updates").
        mem_bytes: bytes of parameters and state read or written.
        decisions: calls to :meth:`Agent.act`.
        synaptic_updates: weight changes made by on-line plasticity (Loihi's "synaptic
            update (learning)" operation).
        trace_updates: eligibility-trace updates made by on-line plasticity (one per
            synapse trace decayed or incremented).
        spikes: spikes emitted by spiking neurons; with ``neuron_updates`` it gives the
            firing rate and NeuroBench's activation sparsity (1 - spikes / neuron updates).
        energy_evals: evaluations of an energy function term (one transition's
            log-likelihood, or the prior, at one latent value) by posterior inference.
        grad_evals: evaluations of such a term's gradient.
        posterior_updates: posterior updates made by task inference (one per lane and
            observed transition).
        rule_evals: evaluations of a ground rule's body, or of a program's rules, on one
            transition (symbolic rule induction).
        bit_ops: 64-bit word operations (AND, XOR, compare, popcount) on bit-packed fact
            tables.

    ``decisions``, ``energy_evals``, ``grad_evals``, ``posterior_updates`` and ``rule_evals`` are tallies:
    the arithmetic they stand for is counted in ``macs`` (and priced there), so hardware
    profiles do not price them.

    Example:
        >>> c = OpCounts(macs=10, decisions=2)
        >>> c.per_decision()["macs"]
        5.0
    """

    macs: int = 0
    acs: int = 0
    synaptic_events: int = 0
    neuron_updates: int = 0
    mem_bytes: int = 0
    decisions: int = 0
    synaptic_updates: int = 0
    trace_updates: int = 0
    spikes: int = 0
    energy_evals: int = 0
    grad_evals: int = 0
    posterior_updates: int = 0
    rule_evals: int = 0
    bit_ops: int = 0

    def __add__(self, other: "OpCounts") -> "OpCounts":
        if not isinstance(other, OpCounts):
            return NotImplemented
        return OpCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict of Python ints (for JSON)."""
        return {k: int(v) for k, v in asdict(self).items()}

    def per_decision(self) -> dict[str, float]:
        """Every count divided by ``decisions`` (zeros when no decision was made)."""
        d = max(self.decisions, 1)
        return {k: (v / d if self.decisions else 0.0) for k, v in self.as_dict().items() if k != "decisions"}


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the conformance kit and the benchmark dispatch on these.

    ``families`` names the task families the backend applies to; empty means any.
    ``privileged`` marks a reference that reads the task's hidden parameters (an oracle):
    its agents get ``reveal_task(task)`` after ``reset`` and it is never a learner.
    ``requires`` names config keys that must be given for the backend to run (``("net",)``
    for one that runs a given network, e.g. ``lava``); ``compare`` without ``--backends``
    leaves such a backend out.

    Example:
        >>> Capabilities(meta_train=True, algorithms=("rl2",)).devices
        ('cpu',)
    """

    meta_train: bool = False
    algorithms: tuple[str, ...] = ()
    spiking: bool = False
    devices: tuple[str, ...] = ("cpu",)
    exports: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    privileged: bool = False
    requires: tuple[str, ...] = ()

    def applies_to(self, family: str) -> bool:
        """Whether the backend can run on tasks of ``family``."""
        return not self.families or family in self.families


@runtime_checkable
class Agent(Protocol):
    """The inner loop: one adaptive agent on one task, for one trial at a time."""

    def reset(self, *, seed: int | None = None) -> None: ...

    def act(self, obs: Any) -> Any: ...

    def observe(self, transition: Transition) -> None: ...

    def end_episode(self) -> None: ...

    def ops(self) -> OpCounts: ...


@runtime_checkable
class MetaLearner(Protocol):
    """The outer loop: learns, from many tasks, an agent that adapts fast to a new one."""

    name: str
    capabilities: Capabilities

    def meta_train(
        self, tasks: TaskDistribution, *, budget: Any, seed: int, callback: Callable[..., Any] | None = None
    ) -> Any: ...

    def agent(self, tasks: TaskDistribution) -> Agent: ...

    def save(self, path: Any) -> None: ...

    @classmethod
    def load(cls, path: Any) -> "MetaLearner": ...


@runtime_checkable
class VectorAgent(Protocol):
    """Optional fast path: ``B`` independent agents ("lanes") stepped together in arrays.

    A learner that offers ``vector_agent(tasks, n) -> VectorAgent`` is evaluated on a
    task family's batched env (``make_vector_env``) without a Python loop per agent.
    Lane ``i`` behaves as one :class:`Agent` would on task ``i``; lanes share nothing.

    * ``reset(seeds)``: a new trial in every lane, lane ``i`` seeded by ``seeds[i]``.
    * ``act(obs, active)``: actions for all lanes (``obs`` has a leading axis ``B``);
      only lanes where ``active`` is true count as decisions, the others' actions are
      ignored.
    * ``observe(obs, actions, rewards, next_obs, terminated, truncated, active)``: arrays.
    * ``end_episode(mask)``: the lanes whose episode just ended.
    * ``ops()``: the operations of all lanes since the last reset, summed.
    """

    num_lanes: int

    def reset(self, seeds: Any) -> None: ...

    def act(self, obs: Any, active: Any) -> Any: ...

    def observe(self, obs: Any, actions: Any, rewards: Any, next_obs: Any, terminated: Any, truncated: Any,
                active: Any) -> None: ...

    def end_episode(self, mask: Any) -> None: ...

    def ops(self) -> OpCounts: ...


# -- declared optional protocols ---------------------------------------------------------
# A learner or agent offers an optional ability by implementing one of these; callers test
# it with ``isinstance`` (they are runtime-checkable), never by probing for names. A plugin
# written only to the contract above implements none of them and still works everywhere.


@runtime_checkable
class OneLaneAgent(Protocol):
    """What a one-lane :class:`VectorAgent` may add so that the Agent adapter
    (:class:`~metaplastic.runtime.vector.SingleLaneAgent`) hands it its lane's values as they
    are, not as arrays of one: ``act_one(obs)``, the checked observation, gives the action;
    ``observe_one(transition)`` takes the checked :class:`Transition`. Each does exactly what
    ``act``/``observe`` do with one lane; an agent whose decision takes a few microseconds
    (the numba spiking agent) spares the arrays' cost this way."""

    def act_one(self, obs: Any) -> Any: ...

    def observe_one(self, transition: Transition) -> None: ...


@runtime_checkable
class VectorLearner(Protocol):
    """A learner with a batched fast path: ``vector_agent(tasks, num_lanes)`` returns a
    :class:`VectorAgent` whose lane ``i`` behaves as one :meth:`MetaLearner.agent` would.
    Evaluation, training rollouts and the benchmark's throughput use it when present."""

    def vector_agent(self, tasks: TaskDistribution, num_lanes: int) -> VectorAgent: ...


@runtime_checkable
class PrivilegedAgent(Protocol):
    """An agent of a ``capabilities.privileged`` learner (an oracle): the harness hands it
    the task it plays, after ``reset``."""

    def reveal_task(self, task: Task) -> None: ...


@runtime_checkable
class PrivilegedVectorAgent(Protocol):
    """The batched form of :class:`PrivilegedAgent`: one task per lane."""

    def reveal_tasks(self, tasks: Sequence[Task]) -> None: ...


@runtime_checkable
class SpikingExporter(Protocol):
    """A learner whose policy is a spiking network (``"nir"`` in ``capabilities.exports``):
    ``spiking_net()`` returns it as a :class:`metaplastic.spiking.SpikingNet`, which
    ``metaplastic export`` writes as NIR or npz and every spiking runtime executes."""

    def spiking_net(self) -> Any: ...


@runtime_checkable
class DeviceLearner(Protocol):
    """A learner that runs on a chosen device: ``device`` is where its agents execute
    (``"cpu"``, ``"cuda"``, ...; one of ``capabilities.devices``). Without it, ``"cpu"``."""

    device: str


@runtime_checkable
class Configurable(Protocol):
    """A learner with declared config keys: ``config`` holds the values it was made with and
    ``config_params`` declares each key (a :class:`metaplastic.params.Param`: type, default,
    range, meaning). ``metaplastic backends`` and ``--set`` validation read them."""

    config: dict[str, Any]
    config_params: tuple[Any, ...]


@runtime_checkable
class ResumableLearner(Protocol):
    """A learner whose meta-training can stop and resume exactly.

    The outer loop owns a training state (:class:`metaplastic.training.state.TrainState`:
    parameters, optimizer, progress, seed). ``meta_train(..., state=S)`` continues from
    ``S`` and returns the state it ends in; ``save_checkpoint(path, state)`` writes the
    learner and that state into a run directory as one checkpoint;
    ``load_train_state(path)`` reads it back (``None`` when the run holds none), for a
    learner loaded from that run.
    """

    def meta_train(self, tasks: TaskDistribution, *, budget: Any, seed: int, callback: Callable[..., Any] | None = None,
                   state: Any = None) -> Any: ...

    def save_checkpoint(self, path: Any, state: Any) -> None: ...

    def load_train_state(self, path: Any) -> Any: ...


@runtime_checkable
class Preparable(Protocol):
    """A learner that can build, before meta-training, what meta-training on ``tasks``
    builds first (a model, a warm start from an ``init=`` run), so that ``metaplastic
    train`` finds a bad config before it writes a run directory."""

    def prepare(self, tasks: TaskDistribution) -> None: ...


@runtime_checkable
class StatefulCallback(Protocol):
    """A ``meta_train`` callback that also receives the outer loop's state (to checkpoint
    it). A plain callable ``callback(metrics)`` gets the metrics only."""

    def on_update(self, metrics: dict[str, Any], state: Any) -> None: ...


@runtime_checkable
class SuccessFamily(Protocol):
    """A task family whose episodes succeed or fail (Meta-World): an environment sets
    ``info["success"]`` while the task is solved, an episode succeeds if it was set at any
    step, and ``scored_episodes()`` are the episodes of a trial whose success counts
    (those after adaptation). :func:`metaplastic.evaluate` then reports the success rate,
    the family's headline metric."""

    def scored_episodes(self) -> range: ...


@runtime_checkable
class Versioned(Protocol):
    """A task family whose results depend on versions beyond its spec (an external
    simulator and its reward function): ``versions()`` names them, and every evaluation
    summary and bench report records them."""

    def versions(self) -> dict[str, str]: ...


@runtime_checkable
class LatentFamily(Protocol):
    """A task family that declares its hidden parameters ``z`` as a vector (task inference,
    e.g. the ``energy`` backend, needs it; a family without it is simply not inferable).

    * ``latent()``: a :class:`metaplastic.tasks.latent.Latent`: the space of ``z`` (box,
      enumerated values or tabular), the family's transition law given ``z`` where it has
      one in closed form, and the names of ``z``'s coordinates.
    * ``latent_labels(tasks)``: the ``(len(tasks), dim)`` array of the tasks' ``z`` (hidden
      parameters: meta-training may read them, agents never do).
    * ``latent_tasks(z)``: tasks whose hidden parameters are the rows of ``z``, for a
      policy that is shown them (an oracle shown a posterior sample is posterior sampling).
    """

    def latent(self) -> Any: ...

    def latent_labels(self, tasks: Sequence[Task]) -> Any: ...

    def latent_tasks(self, z: Any) -> list[Task]: ...


@runtime_checkable
class InferenceAgent(Protocol):
    """An agent that infers the task's hidden parameters: ``posterior()`` returns its
    current belief (an object with ``points``, ``weights`` and ``mean()``; for plotting)."""

    def posterior(self) -> Any: ...
