"""Bandit baselines: 1000 tasks × n=500 pulls (issue target: under 5 s each on one core),
and the full RL² Table 1 cells at 1000 tasks. Run: `make bench` or
`taskset -c 0 .venv/bin/python -m pytest benchmarks/test_bandit_baselines.py -o addopts= --benchmark-only`."""

import numpy as np
import pytest

import metaplastic
from metaplastic.metrics.stats import sem

N, K = 500, 10
RANDOM = N * 0.5                 # every pull pays p ~ U[0, 1] on average
ORACLE = N * K / (K + 1)         # the best arm's mean, E[max of K uniforms] = K / (K + 1)
N_SE = 4

BASELINES = ["random", "greedy", "eps-greedy", "ucb1", "thompson", "gittins", "oracle"]


@pytest.mark.benchmark(group="bandits-1000x500")
@pytest.mark.parametrize("backend", BASELINES)
def test_evaluate_1000_tasks_500_pulls(benchmark, backend):
    learner = metaplastic.make(backend)
    tasks = metaplastic.make_tasks("bandits:k=10,n=500")
    metaplastic.evaluate(learner, tasks, n_tasks=10, seed=0)  # warm-up: JIT and the Gittins table
    res = benchmark.pedantic(metaplastic.evaluate, args=(learner, tasks), kwargs={"n_tasks": 1000, "seed": 0}, rounds=3)
    benchmark.extra_info["return_mean"] = res.return_mean
    assert res.n_tasks == 1000 and res.episodes == 500
    # what was measured is these policies on these tasks: their returns sit where theory puts them
    totals = res.returns.sum(axis=1)
    se = sem(totals)
    if backend == "random":
        assert abs(totals.mean() - RANDOM) <= N_SE * se, f"random: {totals.mean():.1f}, expected {RANDOM}"
    elif backend == "oracle":
        assert abs(totals.mean() - ORACLE) <= N_SE * se, f"oracle: {totals.mean():.1f}, expected {ORACLE:.1f}"
    else:  # a learner adapts: clearly above random, never above the oracle beyond noise
        assert RANDOM + N_SE * se < totals.mean() <= ORACLE + N_SE * se, f"{backend}: {totals.mean():.1f}"
    assert np.isfinite(totals).all()
