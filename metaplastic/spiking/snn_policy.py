"""A recurrent spiking actor-critic for RL², trained with surrogate gradients (snntorch).

Neurons follow Loihi 2's CUBA-LIF (Lava's ``LIF``) per time step::

    a_in[t] = W_in x[t-1] + W_rec s[t-1]               synapses deliver one step later (Lava Dense)
    u[t] = (1-du) u[t-1] + a_in[t]                     synaptic current
    v[t] = (1-dv) v[t-1] + u[t]                        membrane voltage
    s[t] = v[t] > vth ;  v[t] <- 0 where s[t]          spike, reset to zero at once

implemented by ``snntorch.Synaptic`` with ``reset_mechanism="zero"`` and
``reset_delay=False`` (snntorch's default delays the reset by a step; Lava does not), and
a fast-sigmoid surrogate gradient. The observation vector ``x`` (RL²'s trial input) is a
graded input held for the ``substeps`` time steps of a decision; by the synaptic delay
the first sub-step of a decision still receives the previous decision's input, so a
decision depends on its own input only from ``substeps=2`` on (the default). These are
exactly the equations of :class:`~metaplastic.spiking.SpikingNet` (``to_spiking_net``),
which the numpy reference simulator, numba and Lava execute. With ``neuron="alif"`` the
neurons are Lava's ATRLIF instead (SpikingNet's ``alif``: an adaptive threshold and a
refractory state, no voltage reset), stepped in torch with snntorch's fast-sigmoid
surrogate spike, for memory over a trial (Bellec et al. 2018); their threshold and
refractory decays and threshold step are learned per neuron. Each neuron type's torch
step is in :mod:`metaplastic.spiking.torch_neurons`. The non-spiking
readout filters the spikes, ``z[t] = (1-d_out) z[t-1] + s[t]``, and the action head and
the (training-only) value head read ``z`` after the decision's last sub-step. Decays are
learned per neuron (through a sigmoid) along with the weights.

With ``plastic=True`` (algorithm ``rl2-plastic``) the recurrent weights also change within
a trial by SpikingNet's three-factor rule — an eligibility trace
``E = (1-trace_decay) E + s[t] ⊗ s[t-1]`` times the reward just observed (the third
factor, applied on the first time step of each decision) times a per-synapse learning
rate ``lr_rec`` — whose coefficients (``lr_rec``, ``trace_decay``) the outer loop
meta-learns: learning to learn through plasticity. The weight change is per lane and
starts at zero every trial. ``plastic_rank=R > 0`` learns ``lr_rec = lr_post lr_preᵀ``
(two ``(N, R)`` factors) instead of one rate per synapse: a reward-gated fast-weight
memory whose training step costs ``O(T N R)`` instead of ``O(T N²)`` per lane
(:mod:`metaplastic.spiking.plastic_state`, which also keeps the state as a spike history
while gradients are recorded). Exported networks carry the full ``lr_rec`` matrix.

The state is a :class:`SpikingState`: the neuron type's own named state
(:mod:`metaplastic.spiking.torch_neurons`), the spikes, readout trace and input in flight,
and the plasticity state (:class:`~metaplastic.spiking.plastic_state.DenseTrace` or
:class:`~metaplastic.spiking.plastic_state.SpikeHistory`; ``None`` without plasticity).

Example:
    >>> import torch
    >>> from gymnasium import spaces
    >>> pol = SpikingActorCritic(input_size=9, action_space=spaces.Discrete(5), neurons=16)
    >>> params, value, state = pol.step(torch.zeros(3, 9), pol.initial_state(3))
    >>> params.shape, value.shape, state.neuron._fields
    (torch.Size([3, 5]), torch.Size([3]), ('u', 'v'))
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces
import torch
from torch import nn

from metaplastic.core import OpCounts
from metaplastic.nn.heads import GaussianHead, make_head
from metaplastic.spiking import plastic_state
from metaplastic.spiking.neurons import CUBA_LIF, neuron_type
from metaplastic.spiking.torch_neurons import TORCH_NEURONS
from metaplastic.spiking.torch_neurons import logit as _logit


class SpikingState(NamedTuple):
    """The state of a :class:`SpikingActorCritic`, per lane (B) and neuron (N).

    Example:
        >>> from gymnasium import spaces
        >>> st = SpikingActorCritic(3, spaces.Discrete(2), neurons=4, neuron="alif").initial_state(2)
        >>> st.neuron.theta.shape, st.plastic is None
        (torch.Size([2, 4]), True)
    """

    neuron: Any                # the neuron type's own state (torch_neurons: LIFState, ALIFState)
    s: torch.Tensor            # (B, N) spikes of the last time step, in flight on the recurrent synapses
    z: torch.Tensor            # (B, N) the readout's spike trace
    in_flight: torch.Tensor    # (B, N) the input current in flight (w_in x of the last decision)
    plastic: plastic_state.PlasticState | None  # weight change and eligibility trace (plastic only)


class SpikingActorCritic(nn.Module):
    """Recurrent spiking network (CUBA-LIF or ALIF neurons) with a leaky readout (a
    :class:`~metaplastic.rl2.policy.RecurrentPolicy`)."""

    def __init__(self, input_size: int, action_space: Any, neurons: int = 128, substeps: int = 2,
                 du: float = 0.2, dv: float = 0.1, d_out: float = 0.2, vth: float = 1.0, slope: float = 5.0,
                 plastic: bool = False, reward_index: int | None = None, neuron: str = CUBA_LIF.name,
                 dtheta: float = 0.05, theta_step: float = 0.2, dr: float = 0.2, plastic_rank: int = 0):
        super().__init__()
        self.neuron_type = neuron_type(neuron)
        self.neuron = self.neuron_type.name
        self._cell = TORCH_NEURONS[self.neuron_type](vth=vth, slope=slope, du=du, dv=dv)
        given = {"dtheta": dtheta, "theta_step": theta_step, "dr": dr}
        for p in self._cell.learned:  # learned per neuron (alif: threshold and refractory decays, threshold step)
            setattr(self, p.param, nn.Parameter(torch.full((neurons,), p.init(given[p.field]))))
        self.plastic = bool(plastic)
        if self.plastic:
            if reward_index is None:
                raise ValueError("a plastic network needs reward_index: where the previous reward sits in its input")
            self.reward_index = int(reward_index)
            # meta-learned coefficients of the three-factor rule on recurrent synapses: one
            # learning rate per synapse, or (plastic_rank R > 0) lr_rec = lr_post lr_preᵀ
            self.plastic_rank = int(plastic_rank)
            if not 0 <= self.plastic_rank <= neurons:
                raise ValueError(f"plastic_rank must be in [0, {neurons}] (0: one rate per synapse), got {plastic_rank}")
            if self.plastic_rank:  # lr_rec starts at 0 with a non-zero gradient for lr_post
                self.lr_post = nn.Parameter(torch.zeros(neurons, self.plastic_rank))
                self.lr_pre = nn.Parameter(torch.randn(neurons, self.plastic_rank) / np.sqrt(neurons))
            else:
                self.lr_rec = nn.Parameter(torch.zeros(neurons, neurons))
            self.trace_logit = nn.Parameter(torch.tensor(_logit(0.5)))
        self.neurons, self.substeps, self.input_size = int(neurons), int(substeps), int(input_size)
        self.w_in = nn.Linear(input_size, neurons, bias=False)
        self.w_rec = nn.Linear(neurons, neurons, bias=False)
        with torch.no_grad():
            self.w_in.weight.mul_(2.0)
            self.w_rec.weight.mul_(0.5)
        self.du_logit = nn.Parameter(torch.full((neurons,), _logit(du)))
        self.dv_logit = nn.Parameter(torch.full((neurons,), _logit(dv)))
        self.dout_logit = nn.Parameter(torch.full((neurons,), _logit(d_out)))
        self.vth = float(vth)
        self.head = make_head(action_space, neurons)
        self.value = nn.Linear(neurons, 1)
        self._spikes = torch.zeros(0)
        self._delivered = torch.zeros(0)

    _TRANSIENT = ("_spikes", "_delivered", "_rate")  # the last step's record, part of a rollout's graph

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles leave the last step's record behind: it belongs to a rollout's
        graph, which ``copy.deepcopy`` cannot copy (a second meta-training in one process
        copies the policy for its warm-up)."""
        state = self.__dict__.copy()
        for name in self._TRANSIENT:
            if name in state:
                state[name] = torch.zeros(0)
        return state

    def decays(self) -> dict[str, torch.Tensor]:
        """The per-neuron decays ``du``, ``dv``, ``d_out`` in (0, 1), and those the neuron type
        learns besides (alif: ``dtheta``, ``dr`` and the threshold step ``theta_step`` > 0)."""
        d = {"du": torch.sigmoid(self.du_logit), "dv": torch.sigmoid(self.dv_logit), "d_out": torch.sigmoid(self.dout_logit)}
        d.update((p.field, p.squash(getattr(self, p.param))) for p in self._cell.learned)
        return d

    def initial_state(self, batch: int) -> SpikingState:
        z = torch.zeros(batch, self.neurons, device=self.value.weight.device, dtype=self.value.weight.dtype)
        # per-lane weight change and eligibility trace, as a spike history while gradients are recorded
        plastic = (plastic_state.initial(batch, self.neurons, z, history=torch.is_grad_enabled())
                   if self.plastic else None)
        return SpikingState(neuron=self._cell.initial(z), s=z.clone(), z=z.clone(), in_flight=z.clone(),
                            plastic=plastic)

    def step(self, x: torch.Tensor, state: SpikingState, with_value: bool = True) -> tuple[torch.Tensor, Any, Any]:
        neuron, s, z, in_flight, plastic = state
        if self.plastic:
            reward = x[:, self.reward_index].to(z.dtype)  # the third factor, on a decision's first step
            trace_decay = torch.sigmoid(self.trace_logit)
            rates = self.plastic_rates()
        d = self.decays()
        advance = self._cell.stepper(d, like=z)
        drive = self.w_in(x.to(self.value.weight.dtype))
        spikes = torch.zeros_like(z)
        delivered = torch.zeros_like(z)
        rate = z.new_zeros(z.shape[0])  # spikes per neuron and sub-step, with the surrogate's gradient
        for k in range(self.substeps):
            s_prev = s
            rec = self.w_rec(s_prev)
            if self.plastic:
                rec = rec + plastic_state.recurrent_input(plastic, s_prev, rates)
            s, neuron = advance(in_flight + rec, neuron)
            s = s.to(z.dtype)  # snntorch's surrogate returns float32 spikes
            in_flight = drive
            if self.plastic:
                plastic = plastic_state.after_step(plastic, s, s_prev, lam=1.0 - trace_decay,
                                                   modulation=reward if k == 0 else None, rates=rates)
            z = (1.0 - d["d_out"]) * z + s
            spikes = spikes + s.detach()
            delivered = delivered + s_prev.detach()
            rate = rate + s.mean(dim=1)
        self._spikes, self._delivered = spikes, delivered
        self._rate = rate / self.substeps
        new = SpikingState(neuron=neuron, s=s, z=z, in_flight=in_flight, plastic=plastic)
        return self.head(z), self.value(z)[:, 0] if with_value else None, new

    def activity(self) -> torch.Tensor:
        """(B,) firing rate of each lane in the last :meth:`step` (spikes per neuron and
        sub-step), differentiable through the surrogate gradient (:class:`~metaplastic.nn.activity.ActivityCost`)."""
        return self._rate

    def to_spiking_net(self, dt: float = 1e-3) -> Any:
        """The trained network as a framework-neutral :class:`~metaplastic.spiking.SpikingNet`
        (the readout is the action head's logits, or a Gaussian head's mean with its
        ``log_std``; the value head is training-only)."""
        from metaplastic.spiking import SpikingNet
        d = {k: v.detach().cpu().double().numpy() for k, v in self.decays().items()}
        w = lambda t: t.detach().cpu().double().numpy()  # noqa: E731
        plasticity = None
        if self.plastic:
            from metaplastic.spiking import Plasticity

            plasticity = Plasticity(lr_rec=w(self.lr_rec_matrix()), trace_decay=float(torch.sigmoid(self.trace_logit.detach())),
                                    modulator="reward")
        learned = {p.field: d[p.field] for p in self._cell.learned}
        return SpikingNet(neuron=self.neuron, w_in=w(self.w_in.weight), w_rec=w(self.w_rec.weight),
                          w_out=w(self._readout().weight), b_out=w(self._readout().bias), du=d["du"], dv=d["dv"],
                          vth=self.vth, readout_decay=d["d_out"], dt=dt, substeps=self.substeps, encoding="current",
                          plasticity=plasticity, **self._head_fields(), **learned)

    def _readout(self) -> nn.Linear:
        """The action head's linear map: a categorical head's logits, a Gaussian head's mean."""
        return self.head.mean if isinstance(self.head, GaussianHead) else self.head.linear

    def _head_fields(self) -> dict[str, Any]:
        """The :class:`~metaplastic.spiking.SpikingNet` fields saying what the readout means."""
        if isinstance(self.head, GaussianHead):
            return {"head": "gaussian", "log_std": self.head.log_std.detach().cpu().double().numpy()}
        return {"head": "categorical"}

    @classmethod
    def from_spiking_net(cls, net: Any, action_space: Any, *, slope: float = 5.0) -> "SpikingActorCritic":
        """A policy that runs ``net`` (a :class:`~metaplastic.spiking.SpikingNet`) under
        snntorch: the inverse of :meth:`to_spiking_net`. The value head, which a
        SpikingNet does not carry, starts at zero. Raises :class:`ConfigError` for what
        this policy cannot express (per-neuron thresholds, a bias, input plasticity, a
        reward-prediction-error modulator)."""
        from metaplastic.errors import ConfigError

        why = []
        if not np.all(net.vth == net.vth[0]):
            why.append("per-neuron thresholds (one vth for all)")
        if np.any(net.bias):
            why.append("a neuron bias")
        p = net.plasticity
        if np.any(p.lr_in):
            why.append("input-weight plasticity (recurrent only)")
        if p.enabled and p.modulator != "reward":
            why.append(f"modulator={p.modulator!r} (reward only)")
        if (mismatch := net.action_space_mismatch(action_space)) is not None:
            why.append(mismatch)
        if why:
            raise ConfigError("the snntorch policy cannot run this SpikingNet: " + "; ".join(why)
                              + "; run it with the numba backend instead")
        pol = cls(net.n_inputs, action_space, neurons=net.n_neurons, substeps=net.substeps, vth=float(net.vth[0]),
                  slope=slope, plastic=p.enabled, reward_index=net.n_inputs - 2, neuron=net.neuron)
        t = lambda a: torch.tensor(np.array(a), dtype=torch.float32)  # noqa: E731
        with torch.no_grad():
            pol.w_in.weight.copy_(t(net.w_in))
            pol.w_rec.weight.copy_(t(net.w_rec))
            pol._readout().weight.copy_(t(net.w_out))
            pol._readout().bias.copy_(t(net.b_out))
            if isinstance(pol.head, GaussianHead):
                pol.head.log_std.copy_(t(net.log_std))
            pol.value.weight.zero_()
            pol.value.bias.zero_()
            for name, d in (("du_logit", net.du), ("dv_logit", net.dv), ("dout_logit", net.readout_decay)):
                getattr(pol, name).copy_(torch.logit(t(d).double()).float())
            for lp in pol._cell.learned:
                getattr(pol, lp.param).copy_(lp.unsquash(t(getattr(net, lp.field)).double()).float())
            if p.enabled:
                pol.lr_rec.copy_(t(p.lr_rec))
                pol.trace_logit.copy_(torch.logit(torch.tensor(p.trace_decay, dtype=torch.float64)).float())
        return pol

    def select_state(self, mask: torch.Tensor, new: SpikingState, old: SpikingState) -> SpikingState:
        """``new`` on the lanes where ``mask`` (B,) holds, ``old`` elsewhere."""
        return plastic_state.select(mask, new, old)

    def weight_change(self, state: SpikingState) -> torch.Tensor:
        """The recurrent weight change ``dW`` (B, N, N) a plastic policy's ``state`` carries."""
        if state.plastic is None:
            raise ValueError("a network without plasticity has no weight change")
        return plastic_state.weight_change(state.plastic, self.plastic_rates())

    def plastic_rates(self) -> plastic_state.Rates:
        """The recurrent learning rates: ``lr_rec`` (N, N), or its factors ``(lr_post, lr_pre)``."""
        return (self.lr_post, self.lr_pre) if self.plastic_rank else self.lr_rec

    def lr_rec_matrix(self) -> torch.Tensor:
        """The (N, N) recurrent learning-rate matrix (SpikingNet's ``plasticity.lr_rec``)."""
        return plastic_state.full_rates(self.plastic_rates())

    def step_ops(self, active: np.ndarray) -> OpCounts:
        """Counted from the last step: each spike delivered in it (emitted one time step
        earlier) reaches its ``neurons`` recurrent targets (a synaptic event and an
        accumulate each); ``spikes`` counts the spikes emitted; the graded input is one dense
        matrix-vector product per decision (MACs: computed once and held in flight for the
        sub-steps, as this module executes it); every neuron updates every sub-step; the
        readout trace updates per neuron and the head reads it once per decision; with
        plasticity, every recurrent synapse's trace updates per sub-step (dense, as
        executed) and its weight once per decision (``synaptic_updates``)."""
        lanes = int(np.sum(active))
        mask = torch.as_tensor(np.asarray(active, dtype=bool), device=self._spikes.device)
        spikes = int(self._spikes[mask].sum().item()) if lanes else 0
        delivered = int(self._delivered[mask].sum().item()) if lanes else 0
        n, i, subs = self.neurons, self.input_size, self.substeps
        head = sum(m.in_features * m.out_features for m in self.head.modules() if isinstance(m, nn.Linear))
        events = delivered * n
        plastic = lanes * n * n if self.plastic else 0  # one weight change per recurrent synapse per decision
        return OpCounts(
            macs=lanes * (i * n + head),  # dense: graded input and the head, once per decision
            acs=events + lanes * subs * n,  # spike deliveries, and the readout trace's accumulates
            synaptic_events=events,
            neuron_updates=lanes * subs * n,
            # dense weights read per decision, four state arrays, one recurrent weight per event
            mem_bytes=lanes * (4 * (n * i + head) + 4 * 4 * n) + 4 * events,
            decisions=0,
            synaptic_updates=plastic,
            trace_updates=subs * plastic,  # every recurrent synapse's trace, every sub-step (dense)
            spikes=spikes,
        )

    def spike_count(self) -> torch.Tensor:
        """Spikes emitted per lane in the last step (all sub-steps)."""
        return self._spikes

    def delivered_count(self) -> torch.Tensor:
        """Spikes delivered to synapses per lane in the last step (emitted one time step
        before each sub-step)."""
        return self._delivered
