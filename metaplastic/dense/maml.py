"""MAML for the ``torch`` backend (Finn et al. 2017): not implemented yet."""

from __future__ import annotations

from typing import Any


class MAMLAlgorithm:
    def __init__(self, learner: Any):
        raise NotImplementedError("algo='maml' of the torch backend is not implemented yet (issue 4); use algo='rl2'")
