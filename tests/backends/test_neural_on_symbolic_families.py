"""The neural backends meta-train and evaluate on the symbolic task families too (issue 15,
Must 6), so the benchmark compares symbolic and neural learners on the same tasks."""

from __future__ import annotations

import numpy as np
import pytest

import metaplastic

NEURAL = [("torch", {"hidden": 8, "batch_tasks": 4}), ("numba", {"hidden": 8, "population": 4, "batch_tasks": 2}),
          ("snntorch", {"hidden": 8, "batch_tasks": 4})]


@pytest.mark.parametrize("spec", ["keydoor:steps=4,n=2", "blocks:steps=4,n=2"])
@pytest.mark.parametrize("name,config", NEURAL, ids=[n for n, _ in NEURAL])
def test_neural_backend_trains_and_evaluates_on_symbolic_families(name, config, spec):
    if name in ("torch", "snntorch"):
        pytest.importorskip("torch", reason="the torch and snntorch backends need the 'torch' extra")
    learner = metaplastic.make(name, **config)
    state = learner.meta_train(metaplastic.make_tasks(spec), budget=2, seed=0, show_progress=False)
    assert state.progress.updates == 2
    result = metaplastic.evaluate(learner, spec, n_tasks=8, seed=0)
    assert result.returns.shape == (8, 2) and np.isfinite(result.returns).all()
