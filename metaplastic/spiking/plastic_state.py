"""Per-lane state of the three-factor rule on recurrent synapses, in two exact forms.

The rule (:class:`~metaplastic.spiking.Plasticity`; ``λ = 1 - trace_decay``)::

    E[t]  = λ E[t-1] + s[t] ⊗ s[t-1]          eligibility trace, per synapse
    dW[t] = dW[t-1] + lr ⊙ m[t] E[t]           m[t]: the third factor (0 on most steps)

**dense** keeps ``dW`` and ``E`` as ``(B, N, N)`` tensors, as a chip (or the numba kernels)
keeps them: ``2 N²`` numbers per lane, updated element-wise every time step. Cheap
without gradients; through autograd every update stores another ``(B, N, N)`` tensor,
which made meta-training 100× slower than the static network.

**history** keeps the spikes instead. Unrolled, ``E[t] = Σ_τ g_τ a_τ ⊗ b_τ`` with
``a_τ = s[τ]``, ``b_τ = s[τ-1]`` and ``g_τ = λ^(t-τ)``, so
``dW = lr ⊙ Σ_τ c_τ a_τ ⊗ b_τ`` with ``c_τ = Σ_{t ≥ τ} m[t] g_τ(t)``, and the recurrent
input of the plastic part is::

    dW s = Σ_τ c_τ a_τ ⊙ (lr (b_τ ⊙ s))

one matrix product of the ``(B·T, N)`` history with ``lrᵀ`` per step: ``O(T N)`` memory per
lane and no ``N × N`` per-lane tensor, the form used with gradients. With learning rates
of low rank, ``lr = P Qᵀ`` (``rates=(P, Q)``, each ``(N, R)``), it is cheaper still::

    dW s = Σ_r P[:, r] ⊙ Σ_τ c_τ a_τ <Q[:, r] ⊙ b_τ, s>

``O(T N R)`` per lane and step: a fast-weight associative memory whose keys are past
presynaptic patterns and whose values are the postsynaptic patterns they evoked, written
with the reward as the third factor.

``initial(..., history=torch.is_grad_enabled())`` picks the form (as
:meth:`SpikingActorCritic.initial_state` calls it): a :class:`DenseTrace` or a
:class:`SpikeHistory`, named tuples whose methods compute in their own form (the module
functions below call them). Lanes that do not decide keep their old state
(:func:`select`); the history pads their entries with zeros, which contribute nothing.

Example:
    >>> import torch
    >>> lr = torch.full((3, 3), 0.5)
    >>> s0, s1 = torch.tensor([[1.0, 0, 1]]), torch.tensor([[0.0, 1, 1]])
    >>> for history in (False, True):
    ...     st = initial(1, 3, lr, history=history)
    ...     st = after_step(st, s1, s0, lam=torch.tensor(0.5), modulation=torch.tensor([2.0]), rates=lr)
    ...     print(type(st).__name__, recurrent_input(st, s1, lr).tolist(), weight_change(st, lr)[0, 1].tolist())
    DenseTrace [[0.0, 1.0, 1.0]] [1.0, 0.0, 1.0]
    SpikeHistory [[0.0, 1.0, 1.0]] [1.0, 0.0, 1.0]
"""

from __future__ import annotations

from typing import Any, NamedTuple, Union

import torch

__all__ = ["DenseTrace", "SpikeHistory", "PlasticState", "initial", "recurrent_input", "after_step", "select",
           "weight_change", "full_rates", "Rates"]

Rates = Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]  # lr (N, N), or its factors (P, Q), each (N, R)


def full_rates(rates: Rates) -> torch.Tensor:
    """The ``(N, N)`` learning-rate matrix of ``rates``.

    Example:
        >>> full_rates((torch.ones(3, 1), torch.full((3, 1), 2.0)))[0].tolist()
        [2.0, 2.0, 2.0]
    """
    return rates[0] @ rates[1].T if isinstance(rates, tuple) else rates


class DenseTrace(NamedTuple):
    """The dense form: the weight change and the eligibility trace of every synapse.

    Example:
        >>> st = initial(2, 3, torch.zeros(1), history=False)
        >>> st.dw.shape, st.trace.shape
        (torch.Size([2, 3, 3]), torch.Size([2, 3, 3]))
    """

    dw: torch.Tensor     # (B, N, N) weight change dW, row = post-synaptic
    trace: torch.Tensor  # (B, N, N) eligibility trace E

    def recurrent_input(self, s_prev: torch.Tensor, rates: Rates) -> torch.Tensor:
        """``dW s_prev`` per lane (see :func:`recurrent_input`)."""
        return torch.bmm(self.dw, s_prev[:, :, None])[:, :, 0]

    def after_step(self, s: torch.Tensor, s_prev: torch.Tensor, *, lam: torch.Tensor,
                   modulation: torch.Tensor | None, rates: Rates) -> DenseTrace:
        """The state after a time step (see :func:`after_step`)."""
        dw, trace = self
        trace = lam * trace + s[:, :, None] * s_prev[:, None, :]
        if modulation is not None:
            dw = dw + full_rates(rates) * modulation[:, None, None] * trace
        return DenseTrace(dw, trace)

    def weight_change(self, rates: Rates) -> torch.Tensor:
        """``dW`` (B, N, N)."""
        return self.dw


class SpikeHistory(NamedTuple):
    """The history form: the spikes of every past time step, and their coefficients.

    Example:
        >>> st = initial(2, 3, torch.zeros(1), history=True)
        >>> st.post.shape, st.c.shape   # no time step yet
        (torch.Size([2, 0, 3]), torch.Size([2, 0]))
    """

    post: torch.Tensor  # (B, T, N) post-synaptic spikes a_τ = s[τ]
    pre: torch.Tensor   # (B, T, N) pre-synaptic spikes b_τ = s[τ-1]
    g: torch.Tensor     # (B, T) trace decay g_τ = λ^(t-τ)
    c: torch.Tensor     # (B, T) modulation sum c_τ

    def recurrent_input(self, s_prev: torch.Tensor, rates: Rates) -> torch.Tensor:
        """``dW s_prev`` per lane (see :func:`recurrent_input`)."""
        post, pre, _, c = self
        if post.shape[1] == 0:
            return torch.zeros_like(s_prev)
        if isinstance(rates, tuple):  # low rank: keys <Q_r ⊙ b_τ, s> (B, T, R), read out through P
            p, q = rates
            keys = torch.bmm(pre, s_prev[:, :, None] * q) * c[:, :, None]  # (B, T, R)
            return (torch.bmm(post.transpose(1, 2), keys) * p).sum(-1)
        gated = torch.matmul(pre * s_prev[:, None, :], rates.T)  # (B, T, N): lr (b_τ ⊙ s)
        return torch.einsum("bt,btn,btn->bn", c, post, gated)

    def after_step(self, s: torch.Tensor, s_prev: torch.Tensor, *, lam: torch.Tensor,
                   modulation: torch.Tensor | None, rates: Rates) -> SpikeHistory:
        """The state after a time step (see :func:`after_step`); the rates apply when read."""
        post, pre, g, c = self
        one = torch.ones(g.shape[0], 1, device=g.device, dtype=g.dtype)
        g = torch.cat([lam * g, one], 1)
        post, pre = torch.cat([post, s[:, None, :]], 1), torch.cat([pre, s_prev[:, None, :]], 1)
        c = torch.cat([c, torch.zeros_like(one)], 1)
        if modulation is not None:
            c = c + modulation[:, None] * g
        return SpikeHistory(post, pre, g, c)

    def weight_change(self, rates: Rates) -> torch.Tensor:
        """``dW`` (B, N, N), summed from the history."""
        post, pre, _, c = self
        return full_rates(rates) * torch.einsum("bt,bti,btj->bij", c, post, pre)


PlasticState = Union[DenseTrace, SpikeHistory]


def initial(batch: int, n: int, like: torch.Tensor, *, history: bool) -> PlasticState:
    """Zero plasticity state for ``batch`` lanes of ``n`` neurons (device and dtype of ``like``).

    Example:
        >>> type(initial(1, 4, torch.zeros(1), history=False)).__name__
        'DenseTrace'
    """
    kw = {"device": like.device, "dtype": like.dtype}
    if history:  # T = 0 time steps so far
        empty = torch.zeros(batch, 0, n, **kw)
        return SpikeHistory(empty, empty.clone(), torch.zeros(batch, 0, **kw), torch.zeros(batch, 0, **kw))
    zz = torch.zeros(batch, n, n, **kw)
    return DenseTrace(zz, zz.clone())


def recurrent_input(state: PlasticState, s_prev: torch.Tensor, rates: Rates) -> torch.Tensor:
    """``dW s_prev`` per lane: what the learned weight change adds to the recurrent input.

    Example:
        >>> recurrent_input(initial(2, 3, torch.zeros(1), history=True), torch.ones(2, 3), torch.ones(3, 3)).shape
        torch.Size([2, 3])
    """
    return state.recurrent_input(s_prev, rates)


def after_step(state: PlasticState, s: torch.Tensor, s_prev: torch.Tensor, *, lam: torch.Tensor,
               modulation: torch.Tensor | None, rates: Rates) -> PlasticState:
    """The state after a time step that emitted ``s`` (``s_prev`` arrived): the trace decays by
    ``lam`` and gains ``s ⊗ s_prev``; with ``modulation`` (B,) the weights change by
    ``lr ⊙ modulation E`` (the history form applies the rates when it is read).

    Example:
        >>> st = after_step(initial(1, 2, torch.zeros(1), history=False), torch.ones(1, 2), torch.ones(1, 2),
        ...                 lam=torch.tensor(0.5), modulation=None, rates=torch.ones(2, 2))
        >>> st.trace[0].tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    return state.after_step(s, s_prev, lam=lam, modulation=modulation, rates=rates)


def select(mask: torch.Tensor, new: Any, old: Any) -> Any:
    """``new`` where ``mask`` (B,) holds, else ``old``, tensor by tensor through nested named
    tuples (a policy's whole state; ``None`` stays ``None``; an ``old`` spike history shorter
    than ``new`` is padded with zeros first).

    Example:
        >>> new, old = initial(2, 2, torch.zeros(1), history=False), initial(2, 2, torch.ones(1), history=False)
        >>> new = DenseTrace(new.dw + 1, new.trace)
        >>> select(torch.tensor([True, False]), new, old).dw[:, 0, 0].tolist()
        [1.0, 0.0]
    """
    if new is None:
        return None
    if isinstance(new, torch.Tensor):
        if old.shape != new.shape:  # history: the old lanes' missing entries are zeros (no effect)
            pad = torch.zeros(old.shape[0], new.shape[1] - old.shape[1], *old.shape[2:], device=old.device,
                              dtype=old.dtype)
            old = torch.cat([old, pad], 1)
        return torch.where(mask.reshape(-1, *([1] * (new.dim() - 1))), new, old)
    return type(new)._make(select(mask, n, o) for n, o in zip(new, old, strict=True))


def weight_change(state: PlasticState, rates: Rates) -> torch.Tensor:
    """``dW`` (B, N, N) in either form.

    Example:
        >>> weight_change(initial(1, 2, torch.zeros(1), history=True), torch.ones(2, 2)).tolist()
        [[[0.0, 0.0], [0.0, 0.0]]]
    """
    return state.weight_change(rates)
