"""Operation counts of dense torch layers, from their real shapes (counted per executed
step, never assumed). A registry maps module types to formulas; a layer type without a
formula is an error, not a silent zero.

MACs follow NeuroBench's Effective_MACs for dense layers: one multiply-accumulate per
weight used; gate nonlinearities and elementwise products are counted as MACs too
(one per element), biases as accumulates.

Example:
    >>> from torch import nn
    >>> layer_ops(nn.Linear(4, 3)).macs, layer_ops(nn.Linear(4, 3)).acs
    (12, 3)
    >>> layer_ops(nn.GRUCell(4, 8)).macs   # 3 gates x (4*8 + 8*8) + 3*8 elementwise
    312
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from metaplastic.core import OpCounts


def _linear(m: nn.Linear) -> OpCounts:
    return OpCounts(macs=m.in_features * m.out_features, acs=m.out_features if m.bias is not None else 0)


def _gru(m: nn.GRUCell) -> OpCounts:
    h, i = m.hidden_size, m.input_size
    # r, z, n gates: input and hidden matvecs; r*(W_hn h), (1-z)*n, z*h elementwise
    return OpCounts(macs=3 * (i * h + h * h) + 3 * h, acs=(6 * h if m.bias else 0) + h)


def _lstm(m: nn.LSTMCell) -> OpCounts:
    h, i = m.hidden_size, m.input_size
    # i, f, g, o gates; c = f*c + i*g; h = o*tanh(c)
    return OpCounts(macs=4 * (i * h + h * h) + 3 * h, acs=(8 * h if m.bias else 0) + h)


#: Module type -> ops of one application to one input vector.
FORMULAS: dict[type, Callable[[nn.Module], OpCounts]] = {nn.Linear: _linear, nn.GRUCell: _gru, nn.LSTMCell: _lstm}


def layer_ops(module: nn.Module) -> OpCounts:
    """Ops of one application of ``module`` to one input."""
    for cls in type(module).__mro__:
        if cls in FORMULAS:
            return FORMULAS[cls](module)
    raise NotImplementedError(f"no op-count formula for {type(module).__name__}; add one to FORMULAS")


def step_ops(modules: list[nn.Module], lanes: int, state_bytes: int = 0) -> OpCounts:
    """Ops of one step of ``modules`` (each applied once) on ``lanes`` inputs.

    ``mem_bytes`` counts the parameters read once per lane (no reuse across a batch is
    assumed: at batch 1 every weight is fetched per decision) plus ``state_bytes`` of
    recurrent state read and written per lane.
    """
    per = OpCounts()
    param_bytes = 0
    for m in modules:
        per = per + layer_ops(m)
        param_bytes += sum(p.numel() * p.element_size() for p in m.parameters(recurse=False))
    return OpCounts(
        macs=per.macs * lanes, acs=per.acs * lanes, neuron_updates=0,
        mem_bytes=(param_bytes + 2 * state_bytes) * lanes, decisions=0,
    )
