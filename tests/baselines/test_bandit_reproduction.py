"""RL² Table 1 (Duan et al. 2016) and the exact Bayes-optimal values, reproduced.

Tolerance of a simulated cell: 4 standard errors of the difference between our estimate
and the paper's. Our SE is the sample SD of trial returns / sqrt(our tasks); the paper
averaged 1000 instances, so its SE is estimated as the same SD / sqrt(1000). The
exact (dynamic-programming) values are compared to the printed digits.
"""

import math

import pytest

import metaplastic
from metaplastic.baselines.bandit_bayes import bayes_value

# (n, k) -> {backend: published value}; Random, Gittins, TS, UCB1, Greedy columns
TABLE1 = {
    (10, 5): {"random": 5.0, "gittins": 6.6, "thompson": 5.7, "ucb1": 6.7, "greedy": 6.6},
    (10, 10): {"random": 5.0, "gittins": 6.6, "thompson": 5.5, "ucb1": 6.7, "greedy": 6.6},
    (10, 50): {"random": 5.1, "gittins": 6.5, "thompson": 5.2, "ucb1": 6.6, "greedy": 6.5},
    (100, 5): {"random": 49.9, "gittins": 78.3, "thompson": 74.7, "ucb1": 78.0, "greedy": 74.8},
    (100, 10): {"random": 49.9, "gittins": 82.8, "thompson": 76.7, "ucb1": 82.4, "greedy": 77.1},
    (100, 50): {"random": 49.8, "gittins": 85.2, "thompson": 64.5, "ucb1": 84.3, "greedy": 78.0},
}
N_TASKS = 2000
PAPER_INSTANCES = 1000
CELLS = [(n, k, b, v) for (n, k), row in TABLE1.items() for b, v in row.items()]


@pytest.mark.parametrize("n, k, backend, published", CELLS, ids=[f"{b}-n{n}-k{k}" for n, k, b, _ in CELLS])
def test_table1_cell(n, k, backend, published):
    res = metaplastic.evaluate(backend, f"bandits:k={k},n={n}", n_tasks=N_TASKS, seed=1)
    sd = res.trial_returns.std(ddof=1)
    se = sd * math.sqrt(1 / N_TASKS + 1 / PAPER_INSTANCES) + 0.05 / math.sqrt(3)  # + rounding of the printed value
    assert abs(res.return_mean - published) < 4 * se, f"{backend} {res.return_mean:.3f} vs published {published} (4 SE = {4 * se:.3f})"


@pytest.mark.parametrize("k, horizon, exact", [(2, 10, 6.0218), (2, 20, 12.4313), (2, 50, 31.9967), (5, 10, 6.660), (10, 10, 6.714)])
def test_exact_bayes_optimal_values(k, horizon, exact):
    digits = len(str(exact).split(".")[1])
    assert abs(bayes_value(k, horizon) - exact) <= 0.5 * 10**-digits


def test_bayes_optimal_agent_attains_its_value():
    res = metaplastic.evaluate("bayes-optimal", "bandits:k=5,n=10", n_tasks=N_TASKS, seed=2)
    se = res.trial_returns.std(ddof=1) / math.sqrt(N_TASKS)
    assert abs(res.return_mean - 6.660) < 4 * se


def test_gittins_reaches_the_issue_target_k10_n100():
    res = metaplastic.evaluate("gittins", "bandits:k=10,n=100", n_tasks=1000, seed=0)
    assert res.return_mean >= 82.3


def test_vectorized_and_per_agent_paths_agree():
    a = metaplastic.evaluate("ucb1", "bandits:k=5,n=10", n_tasks=600, seed=3, vectorized=True)
    b = metaplastic.evaluate("ucb1", "bandits:k=5,n=10", n_tasks=600, seed=3, vectorized=False)
    assert a.extra["vectorized"] and not b.extra["vectorized"]
    se = math.sqrt(a.trial_returns.var(ddof=1) / 600 + b.trial_returns.var(ddof=1) / 600)
    assert abs(a.return_mean - b.return_mean) < 4 * se
    assert a.ops.decisions == b.ops.decisions == 6000
