"""The ``torch`` backend: dense meta-RL policies, the GPU baseline every energy and latency
claim is measured against. Algorithms: ``rl2`` (a GRU/LSTM actor-critic,
:mod:`metaplastic.dense.gru`, trained by the shared RL² loop, :mod:`metaplastic.rl2`) and
``maml`` (an MLP adapted by policy-gradient steps, :mod:`metaplastic.dense.maml`).

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("torch", algo="rl2", hidden=16, batch_tasks=8)
    >>> learner.meta_train(metaplastic.make_tasks("bandits:k=3,n=5"), budget=2, seed=0).progress.updates
    2
"""

from __future__ import annotations

from typing import Any

from metaplastic.backends.base import GREEDY_PARAM, SEED_PARAM
from metaplastic.backends.base_torch import DEVICE_PARAM, INIT_PARAM, TorchModelLearner
from metaplastic.core import Capabilities
from metaplastic.params import Param



def _rl2(learner: Any) -> Any:
    from metaplastic.dense.gru import GRUActorCritic
    from metaplastic.rl2.algorithm import RL2

    c = learner.config
    return RL2(lambda tasks, enc: GRUActorCritic(enc.size, tasks.action_space, hidden=c["hidden"], cell=c["cell"]),
               c, learner.device)


def _maml(learner: Any) -> Any:
    from metaplastic.dense.maml import MAML

    return MAML(learner.config, learner.device)


#: ``algo`` -> the algorithm object for a learner.
ALGORITHMS = {"rl2": _rl2, "maml": _maml}


def _params() -> tuple[Param, ...]:
    from metaplastic.dense.params import GRU_PARAMS, MAML_PARAMS
    from metaplastic.rl2.params import RL2_PARAMS

    return (SEED_PARAM, Param("algo", str, "rl2", "meta-RL algorithm", choices=tuple(ALGORITHMS)), DEVICE_PARAM,
            *GRU_PARAMS, *RL2_PARAMS, GREEDY_PARAM, INIT_PARAM, *MAML_PARAMS)


class TorchLearner(TorchModelLearner):
    """Dense RL² and MAML policies in PyTorch (CUDA when present)."""

    name = "torch"
    capabilities = Capabilities(meta_train=True, algorithms=tuple(ALGORITHMS), devices=("cpu", "cuda"))
    config_params = _params()
    algorithms = ALGORITHMS

    @classmethod
    def unavailable_reason(cls) -> str | None:
        import importlib.util

        if importlib.util.find_spec("torch") is None:  # checked without importing torch
            return "needs torch; install with: pip install 'metaplastic[torch]'"
        return None
