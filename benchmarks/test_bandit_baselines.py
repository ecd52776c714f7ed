"""Bandit baselines: 1000 tasks × n=500 pulls (issue target: under 5 s each on one core),
and the full RL² Table 1 cells at 1000 tasks. Run: `make bench` or
`taskset -c 0 .venv/bin/python -m pytest benchmarks/test_bandit_baselines.py -o addopts= --benchmark-only`."""

import pytest

import metaplastic

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
