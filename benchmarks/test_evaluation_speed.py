"""Speed of the evaluation harness and of one decision (pytest-benchmark; `make bench`)."""

import numpy as np
import pytest

import metaplastic

pytestmark = pytest.mark.benchmark(group="decision")


@pytest.fixture(scope="module")
def bandits():
    return metaplastic.make_tasks("bandits:k=5,n=10")


def test_random_decision(benchmark, bandits):
    agent = metaplastic.make("random").agent(bandits)
    agent.reset(seed=0)
    obs = np.zeros(1, dtype=np.float32)
    action = benchmark(agent.act, obs)
    assert bandits.action_space.contains(action)


@pytest.mark.benchmark(group="evaluate")
def test_evaluate_random_100_tasks(benchmark, bandits):
    learner = metaplastic.make("random")
    res = benchmark.pedantic(metaplastic.evaluate, args=(learner, bandits), kwargs={"n_tasks": 100, "seed": 0}, rounds=3)
    totals = res.returns.sum(axis=1)
    assert res.returns.shape == (100, 10)
    assert abs(totals.mean() - 5.0) <= 4 * totals.std(ddof=1) / np.sqrt(100)  # random: 10 pulls × 0.5
