"""Inference checked against exact posteriors (issue 14, Must 4).

* bandits: the exact engine's per-arm posterior equals the conjugate Beta(a + s, b + f) in
  its mean and variance to 1e-9 (Gauss–Jacobi quadrature under the Beta prior integrates
  the Bernoulli likelihood exactly); the langevin engine's particles, summarized by a Beta
  fitted by moments, are within KL 0.05 nats of it per arm.
* gridnavi: the exact engine's belief over the cells equals the one ``bayes-optimal``
  keeps (uniform over the prior's goals not yet ruled out) after every transition of
  whole trials.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import betaln, digamma

import metaplastic
from metaplastic.baselines.gridnavi_policies import BayesGridNaviPolicy
from metaplastic.core import OpCounts
from metaplastic.energy_models.agent import EnergyVectorAgent
from metaplastic.energy_models.engines import make_engine
from metaplastic.energy_models.engines.base import InferenceSettings
from metaplastic.energy_models.history import History
from metaplastic.energy_models.model import EnergyModel
from metaplastic.energy_models.priors import BetaPrior, CategoricalPrior
from metaplastic.runtime.vector import drive_trials


def _pulls(rng, k, n, p):
    arms = rng.integers(k, size=n)
    return arms, (rng.random(n) < p[arms]).astype(float)


def _feed(engine, arms, wins):
    h = History(1, 1, 1)
    for a, r in zip(arms, wins):
        h.append(np.array([0]), np.zeros((1, 1)), np.array([[a]]), np.array([r]), np.zeros((1, 1)))
        engine.update(np.array([0]), h)
    return h


def _beta_kl(a1, b1, a2, b2):
    """KL(Beta(a1, b1) ‖ Beta(a2, b2)) in nats."""
    return (betaln(a2, b2) - betaln(a1, b1) + (a1 - a2) * digamma(a1) + (b1 - b2) * digamma(b1)
            + (a2 - a1 + b2 - b1) * digamma(a1 + b1))


@pytest.mark.parametrize("a,b", [(1.0, 1.0), (0.7, 2.5), (3.0, 1.5)])
def test_exact_bandit_posterior_is_the_conjugate_beta(a, b):
    tasks = metaplastic.make_tasks("bandits:k=4,n=100")
    model = EnergyModel(tasks.latent(), BetaPrior(a, b), 0.0, 0.0)
    engine = make_engine("exact", model, 1, InferenceSettings(grid=64), OpCounts())
    engine.reset(np.random.default_rng(0))
    rng = np.random.default_rng(1)
    arms, wins = _pulls(rng, 4, 100, np.array([0.1, 0.5, 0.8, 0.95]))
    _feed(engine, arms, wins)
    s = np.bincount(arms, weights=wins, minlength=4)
    f = np.bincount(arms, weights=1 - wins, minlength=4)
    pa, pb = a + s, b + f
    mean, var = engine.moments(np.array([0]))
    np.testing.assert_allclose(mean[0], pa / (pa + pb), rtol=0, atol=1e-9)
    np.testing.assert_allclose(var[0], pa * pb / ((pa + pb) ** 2 * (pa + pb + 1)), rtol=0, atol=1e-9)


def test_langevin_bandit_posterior_is_near_the_conjugate_beta():
    """KL(exact Beta ‖ moment-matched Beta of the particles) < 0.05 nats on every arm after
    40 pulls (1024 particles)."""
    tasks = metaplastic.make_tasks("bandits:k=3,n=40")
    model = EnergyModel(tasks.latent(), BetaPrior(1.0, 1.0), 0.0, 0.0)
    engine = make_engine("langevin", model, 1, InferenceSettings(particles=1024, moves=4), OpCounts())
    engine.reset(np.random.default_rng(0))
    arms, wins = _pulls(np.random.default_rng(2), 3, 40, np.array([0.2, 0.6, 0.9]))
    _feed(engine, arms, wins)
    belief = engine.belief(0)
    m = belief.mean()
    v = belief.weights @ (belief.points - m) ** 2
    common = m * (1 - m) / v - 1
    s = np.bincount(arms, weights=wins, minlength=3)
    f = np.bincount(arms, weights=1 - wins, minlength=3)
    for i in range(3):
        assert _beta_kl(1 + s[i], 1 + f[i], m[i] * common[i], (1 - m[i]) * common[i]) < 0.05, i


def test_exact_gridnavi_belief_is_bayes_optimal_belief():
    tasks = metaplastic.make_tasks("gridnavi")
    values = tasks.latent().space.array()
    train = {tuple(c) for c in tasks.goal_cells("train").tolist()}
    prior = CategoricalPrior(np.array([1.0 if tuple(v) in train else 0.0 for v in values.astype(int).tolist()]) / len(train))
    model = EnergyModel(tasks.latent(), prior, 0.0, 0.0)
    n = 40
    chunk = tasks.sample(n, seed=4, split="test")
    agent = EnergyVectorAgent(tasks, model, n, engine="exact", acting="posterior-sampling", settings=InferenceSettings())
    bayes = BayesGridNaviPolicy(tasks, n, {})
    bayes.reset(np.arange(n))
    agent.reset(np.arange(n))
    index = (values[:, 0] * tasks.size + values[:, 1]).astype(int)  # our value order -> bayes' cell index
    checked = 0

    def observe(obs, actions, rewards, next_obs, terminated, truncated, active):
        nonlocal checked
        agent.observe(obs, actions, rewards, next_obs, terminated, truncated, active)
        bayes.observe(obs, actions, rewards, next_obs, terminated, truncated, active)
        candidate = ~bayes.ruled_out[:, index] & (prior.probs > 0)
        want = candidate / candidate.sum(axis=1, keepdims=True)
        for lane in np.flatnonzero(active):
            np.testing.assert_allclose(agent.posterior(int(lane)).weights, want[lane], rtol=0, atol=1e-12)
            checked += 1

    drive_trials(tasks.make_vector_env(chunk), tasks.episodes_per_trial, env_seed=0, act=agent.act, observe=observe,
                 end_episode=agent.end_episode)
    assert checked == n * tasks.episodes_per_trial * tasks.steps


def test_a_recorded_belief_does_not_change_with_later_updates():
    tasks = metaplastic.make_tasks("gridnavi")
    model = EnergyModel(tasks.latent(), CategoricalPrior(np.full(25, 1 / 25)), 0.0, 0.25)
    engine = make_engine("langevin", model, 1, InferenceSettings(particles=64), OpCounts())
    engine.reset(np.random.default_rng(0))
    h = History(1, 2, 1)
    h.append(np.array([0]), np.zeros((1, 2)), np.array([[2]]), np.array([-0.1]), np.array([[1.0, 0.0]]))
    engine.update(np.array([0]), h)
    before = engine.belief(0)
    points = before.points.copy()
    h.append(np.array([0]), np.array([[1.0, 0.0]]), np.array([[1]]), np.array([-0.1]), np.array([[1.0, 1.0]]))
    engine.update(np.array([0]), h)
    np.testing.assert_array_equal(before.points, points)


def test_posterior_mean_on_enumerated_values_takes_the_most_probable_value():
    """With particles (equal weights after resampling), the rule must count mass per value."""
    from metaplastic.energy_models.acting import ACTING
    from metaplastic.energy_models.diagnostics import probs_on_values

    tasks = metaplastic.make_tasks("gridnavi")
    values = tasks.latent().space.array()
    model = EnergyModel(tasks.latent(), CategoricalPrior(np.full(25, 1 / 25)), 0.0, 0.25)
    engine = make_engine("langevin", model, 1, InferenceSettings(particles=200), OpCounts())
    engine.reset(np.random.default_rng(0))
    z = ACTING["posterior-mean"].choose(engine, np.array([0]), np.zeros(1, int), np.random.default_rng(1))
    best = values[np.argmax(probs_on_values(engine.belief(0), values))]
    np.testing.assert_array_equal(z[0], best)


def test_per_arm_quantiles_in_one_pass_equal_each_beliefs_quantiles():
    tasks = metaplastic.make_tasks("bandits:k=3,n=30")
    model = EnergyModel(tasks.latent(), BetaPrior(1.0, 1.0), 0.0, 0.0)
    engine = make_engine("exact", model, 1, InferenceSettings(grid=64), OpCounts())
    engine.reset(np.random.default_rng(0))
    arms, wins = _pulls(np.random.default_rng(3), 3, 30, np.array([0.2, 0.5, 0.9]))
    _feed(engine, arms, wins)
    for q in (0.05, 0.5, 0.97):
        np.testing.assert_array_equal(engine.quantile(np.array([0]), [q])[0], engine.belief(0).quantile(q))
