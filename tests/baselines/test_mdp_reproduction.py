"""Reproduction of RL²'s Table 2 (tabular MDPs; /work/shared/REFERENCES.md) on a few
hundred tasks (the 1000-task versions are in benchmarks/test_mdp_reproduction.py).

Every tolerance comes from the standard error of the estimate itself, never from a
number picked to pass: a row passes when the measured mean is within 4 standard errors
of the published figure, the standard error combining ours (the spread of the sampled
trial returns over sqrt(n_tasks)) and the paper's own sampling error (each cell averages
1000 MDPs; we estimate its SE with our spread over sqrt(1000), as the paper gives none).
"""

import numpy as np
import pytest

import metaplastic
from metaplastic.metrics.stats import sem

PAPER_TASKS = 1000  # each cell of Table 2 averages 1000 MDPs
N_SE = 4.0


def _se_vs_paper(trial_returns: np.ndarray) -> float:
    """Standard error of (our mean - the paper's mean): ours and the paper's, combined."""
    se_ours = float(sem(trial_returns))
    se_paper = float(np.std(trial_returns, ddof=1)) / np.sqrt(PAPER_TASKS)
    return float(np.hypot(se_ours, se_paper))


def _returns(backend: str, n: int, n_tasks: int, seed: int = 0) -> np.ndarray:
    return metaplastic.evaluate(backend, f"mdp:n={n}", n_tasks=n_tasks, seed=seed).trial_returns


@pytest.mark.parametrize("n, paper", [(10, 100.1), (25, 250.2)])
def test_random_matches_table_2(n, paper):
    r = _returns("random", n, n_tasks=400)
    # random play earns E[R(s,a)] = 1 a step whatever the state: 10 n in expectation
    assert abs(r.mean() - 10 * n) <= N_SE * sem(r)
    assert abs(r.mean() - paper) <= N_SE * _se_vs_paper(r), (r.mean(), paper)


def test_psrl_n10_is_in_the_accepted_band():
    # Paper: 138.1. A standard PSRL need not reproduce it exactly (an independent standard
    # PSRL measured 131.3 ± 1.1); the issue accepts an expected return in [128, 142]. We
    # reject only when our estimate lies more than 4 of its standard errors outside the band.
    r = _returns("psrl", 10, n_tasks=600)
    se = float(sem(r))
    assert 128.0 - N_SE * se <= r.mean() <= 142.0 + N_SE * se, (r.mean(), se)


def test_psrl_n25_matches_table_2():
    # Paper: 408.8. Our standard PSRL measured 404.6 (95% CI 400.7-408.4) on 1000 tasks,
    # seed 0: 1.5 standard errors of the difference below the paper, i.e. consistent with
    # it, so the row is tested against the paper's figure itself (4 SE of the difference).
    r = _returns("psrl", 25, n_tasks=600)
    assert abs(r.mean() - 408.8) <= N_SE * _se_vs_paper(r), (r.mean(), _se_vs_paper(r))


def test_psrl_adapts_within_a_trial():
    res = metaplastic.evaluate("psrl", "mdp:n=10", n_tasks=600, seed=1)
    gain = res.returns[:, -1] - res.returns[:, 0]  # paired: same task
    assert gain.mean() > N_SE * sem(gain)


@pytest.mark.parametrize("n", [10, 25])
def test_oracle_bounds_the_learners(n):
    # same tasks and env seeds for every backend; paired differences, 4 SE
    o, p, g = (_returns(b, n, n_tasks=300, seed=2) for b in ("oracle", "psrl", "greedy"))
    for learner in (p, g):
        diff = o - learner
        assert diff.mean() > N_SE * sem(diff)


# -- sanity of the planners behind the figures ----------------------------------------------

def test_dynamic_programming_matches_a_plain_loop():
    from metaplastic.baselines.mdp_planners import plan_finite_horizon

    rng = np.random.default_rng(0)
    r, p = metaplastic.make_tasks("mdp:n_states=4,n_actions=3").sample_arrays(2, rng=rng)
    q = plan_finite_horizon(r, p, 5)
    for b in range(2):
        v = np.zeros(4)
        for h in range(4, -1, -1):
            expected = np.array([[r[b, s, a] + sum(p[b, s, a, t] * v[t] for t in range(4)) for a in range(3)]
                                 for s in range(4)])
            assert np.allclose(q[b, h], expected)
            v = expected.max(axis=1)


def test_posterior_samples_have_the_conjugate_mean_and_variance():
    from metaplastic.baselines.mdp_planners import NormalDirichletPosterior
    from metaplastic.tasks.mdp import MDPPrior

    post = NormalDirichletPosterior(1, 2, 1, MDPPrior(reward_mean=1.0, reward_std=1.0, alpha=1.0))
    one = np.array([0])
    for r, s2 in ((2.0, 1), (4.0, 1), (0.0, 0)):  # three visits of (0, 0)
        post.update(one, one, one, np.array([r]), np.array([s2]))
    # rewards: precision 1 + 3 = 4, mean (1 + 6) / 4; transitions: Dirichlet(1 + 1, 1 + 2)
    rng = np.random.default_rng(1)
    draws = [post.sample(one, rng) for _ in range(4000)]
    r = np.array([d[0][0, 0, 0] for d in draws])
    p1 = np.array([d[1][0, 0, 0, 1] for d in draws])
    se = lambda x: x.std(ddof=1) / np.sqrt(x.size)  # noqa: E731
    assert abs(r.mean() - 7 / 4) <= 4 * se(r) and abs(r.var() - 1 / 4) <= 4 * se((r - 7 / 4) ** 2)
    assert abs(p1.mean() - 3 / 5) <= 4 * se(p1)
    assert np.allclose(post.mean(one)[1][0, 0, 0], [2 / 5, 3 / 5])


def test_op_counts_are_the_plans_that_ran():
    h, s, a = 10, 10, 5
    psrl = metaplastic.evaluate("psrl", "mdp:n=4", n_tasks=30, seed=0).ops
    assert psrl.macs == 30 * 4 * h * s * a * s  # one plan per lane and episode
    assert psrl.acs == 30 * 4 * h * s * a + 3 * psrl.decisions
    oracle = metaplastic.evaluate("oracle", "mdp:n=4", n_tasks=30, seed=0).ops
    assert oracle.macs == 30 * h * s * a * s and oracle.decisions == 30 * 4 * h  # planned once per trial


@pytest.mark.parametrize("backend", ["psrl", "eps-greedy"])
def test_vectorized_and_per_agent_paths_agree(backend):
    # same tasks, different random streams: the paired difference is 0 in expectation
    fast = metaplastic.evaluate(backend, "mdp:n=5", n_tasks=150, seed=4).trial_returns
    slow = metaplastic.evaluate(backend, "mdp:n=5", n_tasks=150, seed=4, vectorized=False).trial_returns
    diff = fast - slow
    assert abs(diff.mean()) <= N_SE * sem(diff)
