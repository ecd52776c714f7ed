"""Config keys of the dense models and of MAML, declared once and torch-free (a backend
lists them, and ``metaplastic backends`` shows them, without importing torch).

Example:
    >>> [p.name for p in GRU_PARAMS]
    ['hidden', 'cell']
"""

from __future__ import annotations

from metaplastic.params import Param

__all__ = ["GRU_PARAMS", "MAML_PARAMS"]

GRU_PARAMS = (
    Param("hidden", int, 128, "recurrent units", low=1, high=65536),
    Param("cell", str, "gru", "recurrent cell", choices=("gru", "lstm")),
)

#: MAML's own config keys (it also takes the optimizer's and where its batch runs,
#: metaplastic.training.params.OPTIM_PARAMS and SHARD_PARAMS).
MAML_PARAMS = (
    Param("mlp_hidden", int, 64, "maml: units of each of the policy's two hidden layers", low=1),
    Param("inner_lr", float, 0.003, "maml: step size of the inner policy-gradient steps (tuned on nav2d, whose Gaussian policy starts at std 0.05)", low=0.0, low_exclusive=True),
    Param("inner_steps", int, 1, "maml: policy-gradient steps per adaptation", low=1, high=100),
    Param("first_order", bool, False, "maml: drop second-order terms from the meta-gradient"),
    Param("adapt", str, "all", "maml: parameters adapted in the inner loop (head = output layer only, a sparse "
          "meta-update)", choices=("all", "head")),
)
