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
:meth:`SpikingActorCritic.initial_state` calls it); the other
functions read it from the state (2 tensors: dense; 4: history). Lanes that do not decide
keep their old state (:func:`select`); the history pads their entries with zeros, which
contribute nothing.

Example:
    >>> import torch
    >>> lr = torch.full((3, 3), 0.5)
    >>> s0, s1 = torch.tensor([[1.0, 0, 1]]), torch.tensor([[0.0, 1, 1]])
    >>> for history in (False, True):
    ...     st = initial(1, 3, lr, history=history)
    ...     st = after_step(st, s1, s0, lam=torch.tensor(0.5), modulation=torch.tensor([2.0]), rates=lr)
    ...     print(recurrent_input(st, s1, lr).tolist(), weight_change(st, lr)[0, 1].tolist())
    [[0.0, 1.0, 1.0]] [1.0, 0.0, 1.0]
    [[0.0, 1.0, 1.0]] [1.0, 0.0, 1.0]
"""

from __future__ import annotations

from typing import Union

import torch

__all__ = ["initial", "recurrent_input", "after_step", "select", "weight_change", "full_rates", "Rates"]

Rates = Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]  # lr (N, N), or its factors (P, Q), each (N, R)


def full_rates(rates: Rates) -> torch.Tensor:
    """The ``(N, N)`` learning-rate matrix of ``rates``."""
    return rates[0] @ rates[1].T if isinstance(rates, tuple) else rates


def _is_history(state: tuple[torch.Tensor, ...]) -> bool:
    return len(state) == 4


def initial(batch: int, n: int, like: torch.Tensor, *, history: bool) -> tuple[torch.Tensor, ...]:
    """Zero plasticity state for ``batch`` lanes of ``n`` neurons (device and dtype of ``like``)."""
    kw = {"device": like.device, "dtype": like.dtype}
    if history:  # post spikes a, pre spikes b (B, T, N); decay g and modulation sum c (B, T); T = 0
        empty = torch.zeros(batch, 0, n, **kw)
        return empty, empty.clone(), torch.zeros(batch, 0, **kw), torch.zeros(batch, 0, **kw)
    zz = torch.zeros(batch, n, n, **kw)
    return zz, zz.clone()  # dW, E


def recurrent_input(state: tuple[torch.Tensor, ...], s_prev: torch.Tensor, rates: Rates) -> torch.Tensor:
    """``dW s_prev`` per lane: what the learned weight change adds to the recurrent input."""
    if not _is_history(state):
        return torch.bmm(state[0], s_prev[:, :, None])[:, :, 0]
    post, pre, _, c = state
    if post.shape[1] == 0:
        return torch.zeros_like(s_prev)
    if isinstance(rates, tuple):  # low rank: keys <Q_r ⊙ b_τ, s> (B, T, R), read out through P
        p, q = rates
        keys = torch.bmm(pre, s_prev[:, :, None] * q) * c[:, :, None]  # (B, T, R)
        return (torch.bmm(post.transpose(1, 2), keys) * p).sum(-1)
    gated = torch.matmul(pre * s_prev[:, None, :], rates.T)  # (B, T, N): lr (b_τ ⊙ s)
    return torch.einsum("bt,btn,btn->bn", c, post, gated)


def after_step(state: tuple[torch.Tensor, ...], s: torch.Tensor, s_prev: torch.Tensor, *, lam: torch.Tensor,
               modulation: torch.Tensor | None, rates: Rates) -> tuple[torch.Tensor, ...]:
    """The state after a time step that emitted ``s`` (``s_prev`` arrived): the trace decays by
    ``lam`` and gains ``s ⊗ s_prev``; with ``modulation`` (B,) the weights change by
    ``lr ⊙ modulation E`` (the history form applies the rates when it is read)."""
    if not _is_history(state):
        dw, trace = state
        trace = lam * trace + s[:, :, None] * s_prev[:, None, :]
        if modulation is not None:
            dw = dw + full_rates(rates) * modulation[:, None, None] * trace
        return dw, trace
    post, pre, g, c = state
    one = torch.ones(g.shape[0], 1, device=g.device, dtype=g.dtype)
    g = torch.cat([lam * g, one], 1)
    post, pre = torch.cat([post, s[:, None, :]], 1), torch.cat([pre, s_prev[:, None, :]], 1)
    c = torch.cat([c, torch.zeros_like(one)], 1)
    if modulation is not None:
        c = c + modulation[:, None] * g
    return post, pre, g, c


def select(mask: torch.Tensor, new: tuple[torch.Tensor, ...], old: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """``new`` where ``mask`` (B,) holds, else ``old``, tensor by tensor (a policy's whole
    state; an ``old`` spike history shorter than ``new`` is padded with zeros first)."""
    out = []
    for n, o in zip(new, old):
        if o.shape != n.shape:  # history: the old lanes' missing entries are zeros (no effect)
            pad = torch.zeros(o.shape[0], n.shape[1] - o.shape[1], *o.shape[2:], device=o.device, dtype=o.dtype)
            o = torch.cat([o, pad], 1)
        out.append(torch.where(mask.reshape(-1, *([1] * (n.dim() - 1))), n, o))
    return tuple(out)


def weight_change(state: tuple[torch.Tensor, ...], rates: Rates) -> torch.Tensor:
    """``dW`` (B, N, N) in either form."""
    if not _is_history(state):
        return state[0]
    post, pre, _, c = state
    return full_rates(rates) * torch.einsum("bt,bti,btj->bij", c, post, pre)
