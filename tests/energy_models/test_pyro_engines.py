"""The pyro engines (``nuts``, ``svi``) on a 2-armed Bernoulli bandit with a Beta(1, 1)
prior, where the posterior is conjugate: after 8 successes and 2 failures on arm 0 it is
Beta(9, 3) for arm 0 (mean 0.75, std 0.120) and Beta(1, 1) for arm 1 (mean 0.5, std 0.289)."""

from __future__ import annotations

import numpy as np
import pytest

pyro = pytest.importorskip("pyro", reason="the pyro engines need the 'pyro' extra (torch and pyro-ppl)")

import torch  # noqa: E402
from scipy.special import betaln, digamma  # noqa: E402

import metaplastic  # noqa: E402
from metaplastic.core import OpCounts  # noqa: E402
from metaplastic.energy_models.engines import make_engine  # noqa: E402
from metaplastic.energy_models.engines.base import InferenceSettings  # noqa: E402
from metaplastic.energy_models.engines.pyro_engines import (  # noqa: E402
    ELBO_PARTICLES, NutsEngine, SviEngine, pyro_reason)
from metaplastic.energy_models.history import History  # noqa: E402
from metaplastic.energy_models.model import EnergyModel  # noqa: E402
from metaplastic.energy_models.priors import BetaPrior  # noqa: E402
from metaplastic.errors import ConfigError  # noqa: E402

#: Rewards of ten pulls of arm 0: 8 successes, 2 failures.
PULLS = (1, 1, 1, 1, 0, 1, 1, 1, 0, 1)
ENGINES = [("nuts", "mean-field"), ("svi", "mean-field"), ("svi", "flow")]


def bandit_model(k: int = 2) -> EnergyModel:
    """A ``k``-armed Bernoulli bandit's energy model with a uniform Beta(1, 1) prior."""
    return EnergyModel(metaplastic.make_tasks(f"bandits:k={k}").latent(), BetaPrior(1.0, 1.0), 0.0, 0.0)


def pull(h: History, lane: int, arm: int, reward: float) -> None:
    """Append a pull of ``arm`` with ``reward`` to ``lane``'s history."""
    h.append(np.array([lane]), np.zeros((1, 1)), np.full((1, 1), float(arm)), np.array([reward]), np.zeros((1, 1)))


def beta_kl(a1: float, b1: float, a2: float, b2: float) -> float:
    """KL(Beta(a1, b1) || Beta(a2, b2)) in nats."""
    return float(betaln(a2, b2) - betaln(a1, b1) + (a1 - a2) * digamma(a1) + (b1 - b2) * digamma(b1)
                 + (a2 - a1 + b2 - b1) * digamma(a1 + b1))


def beta_by_moments(x: np.ndarray) -> tuple[float, float]:
    """The Beta with the mean and variance of the samples ``x``."""
    m, v = float(x.mean()), float(x.var())
    common = m * (1.0 - m) / v - 1.0
    return m * common, (1.0 - m) * common


def beta_std(a: float, b: float) -> float:
    """The standard deviation of Beta(a, b)."""
    return float(np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0))))


@pytest.mark.slow
@pytest.mark.parametrize("name,guide", ENGINES)
def test_posterior_matches_the_conjugate_beta(name, guide):
    """NUTS (one update on all ten pulls, 500 samples after 100 warm-up steps) and SVI (an
    update after each pull, 50 steps each, 1000 guide draws) against the exact posterior.

    Tolerances, about twice the worst error seen over seeds 0-9 of each engine (Monte Carlo
    error of the samples plus, for SVI, the jitter of the final guide): means within 0.04
    (arm 0) and 0.07 (arm 1, the wide uniform); sample stds within 20% of the Beta's;
    KL(exact || Beta fitted to the samples by moments) below 0.04 nats for arm 0 and 0.08
    for arm 1. The KL bound rejects a posterior that misses the prior (Beta(8, 2): 0.11) or
    a pull (Beta(9, 2): 0.18, Beta(8, 3) is not caught: 0.016).
    """
    nuts = name == "nuts"
    settings = InferenceSettings(samples=500, warmup=100) if nuts else InferenceSettings(guide=guide, samples=1000)
    eng = make_engine(name, bandit_model(), 1, settings, OpCounts())
    eng.reset(np.random.default_rng(1))
    h = History(1, 1, 1)
    for reward in PULLS:
        pull(h, 0, 0, float(reward))
        if not nuts:
            eng.update(np.array([0]), h)
    if nuts:
        eng.update(np.array([0]), h)
    b = eng.belief(0)
    assert b.points.shape == (settings.samples, 2)
    np.testing.assert_allclose(b.weights, 1.0 / settings.samples)
    z = b.points
    assert abs(z[:, 0].mean() - 0.75) < 0.04
    assert abs(z[:, 1].mean() - 0.5) < 0.07
    assert abs(z[:, 0].std() / beta_std(9, 3) - 1.0) < 0.2
    assert abs(z[:, 1].std() / beta_std(1, 1) - 1.0) < 0.2
    assert beta_kl(9, 3, *beta_by_moments(z[:, 0])) < 0.04
    assert beta_kl(1, 1, *beta_by_moments(z[:, 1])) < 0.08


@pytest.mark.parametrize("name,guide", ENGINES)
def test_reset_belief_is_prior_draws(name, guide):
    eng = make_engine(name, bandit_model(), 3, InferenceSettings(guide=guide, samples=400), OpCounts())
    eng.reset(np.random.default_rng(0))
    for lane in range(3):
        b = eng.belief(lane)
        assert b.points.shape == (400, 2) and np.all((b.points > 0) & (b.points < 1))
        assert np.all(np.abs(b.mean() - 0.5) < 0.05)                # uniform: SE 0.014
    assert not np.array_equal(eng.belief(0).points, eng.belief(1).points)
    assert eng.counts.energy_evals == 0 and eng.counts.posterior_updates == 0


@pytest.mark.parametrize("name,guide", ENGINES)
def test_op_counts_grow(name, guide):
    """Every energy at one ``u`` with T transitions is T + 1 terms; SVI takes the gradient
    of ``ELBO_PARTICLES`` energies per step (pyro's set-up trace evaluates without one)."""
    model = bandit_model()
    counts = OpCounts()
    settings = InferenceSettings(guide=guide, samples=8, warmup=8, svi_steps=5)
    eng = make_engine(name, model, 2, settings, counts)
    eng.reset(np.random.default_rng(0))
    h = History(2, 1, 1)
    pull(h, 0, 0, 1.0)
    pull(h, 1, 1, 0.0)
    eng.update(np.array([0, 1]), h)
    first = OpCounts(**vars(counts))
    assert first.energy_evals > 0 and first.grad_evals > 0 and first.macs > 0
    assert first.posterior_updates == 2
    assert first.energy_evals >= first.grad_evals
    assert first.energy_evals % 2 == 0 and first.grad_evals % 2 == 0    # T = 1: pairs of terms
    if name == "svi":
        assert first.grad_evals == 2 * settings.svi_steps * ELBO_PARTICLES * 2
    pull(h, 0, 1, 1.0)
    eng.update(np.array([0]), h)
    assert counts.posterior_updates == 3
    assert counts.energy_evals > first.energy_evals and counts.grad_evals > first.grad_evals
    assert counts.macs > first.macs
    if name == "svi":
        assert counts.grad_evals - first.grad_evals == settings.svi_steps * ELBO_PARTICLES * 3    # T = 2


def test_op_counts_price_the_terms():
    """MACs: each law term its kernel's ``macs`` (plus ``grad_macs`` when differentiated),
    each prior term ``prior.macs(d)`` once."""
    model = bandit_model()
    counts = OpCounts()
    eng = SviEngine(model, 1, InferenceSettings(svi_steps=3, samples=4), counts)
    eng.reset(np.random.default_rng(0))
    h = History(1, 1, 1)
    for reward in (1.0, 0.0, 1.0):
        pull(h, 0, 0, reward)
    eng.update(np.array([0]), h)
    kernel = model.sampler_kernel()
    energies, grads = counts.energy_evals // 4, counts.grad_evals // 4       # T + 1 = 4 terms each
    assert counts.macs == 3 * (energies * kernel.macs + grads * kernel.grad_macs) + energies * model.prior.macs(2)


def test_nuts_starts_at_the_last_sample_of_the_previous_chain():
    eng = NutsEngine(bandit_model(), 1, InferenceSettings(samples=8, warmup=8), OpCounts())
    eng.reset(np.random.default_rng(0))
    prior_last = eng.U[0][-1].copy()
    h = History(1, 1, 1)
    pull(h, 0, 0, 1.0)
    eng.update(np.array([0]), h)
    np.testing.assert_array_equal(eng.started_from[0]["u"], prior_last)
    last = eng.U[0][-1].copy()
    seen = []
    numba_energy = eng.lane_energy.energy

    def recording(u, *args):
        seen.append(u.copy())
        return numba_energy(u, *args)

    eng.lane_energy.energy = recording
    pull(h, 0, 0, 1.0)
    eng.update(np.array([0]), h)
    np.testing.assert_array_equal(eng.started_from[0]["u"], last)
    assert any(np.array_equal(u, last) for u in seen)          # pyro evaluated the chain's start
    assert not np.array_equal(eng.U[0][-1], last)


@pytest.mark.parametrize("guide", ["mean-field", "flow"])
def test_svi_guide_persists_across_updates(guide):
    eng = SviEngine(bandit_model(), 2, InferenceSettings(guide=guide, svi_steps=5, samples=8), OpCounts())
    eng.reset(np.random.default_rng(0))
    assert eng.guide_params(0) == {}
    h = History(2, 1, 1)
    pull(h, 0, 0, 1.0)
    eng.update(np.array([0]), h)
    after_first = eng.guide_params(0)
    assert after_first and eng.started_from[0] == {}
    pull(h, 0, 0, 1.0)
    pull(h, 1, 0, 0.0)
    eng.update(np.array([0, 1]), h)
    assert eng.started_from[0].keys() == after_first.keys()
    for key, value in after_first.items():
        np.testing.assert_array_equal(eng.started_from[0][key], value)
    after_second = eng.guide_params(0)
    assert any(not np.array_equal(after_second[k], v) for k, v in after_first.items())
    assert eng.started_from[1] == {}                           # lane 1's first update: its own fresh guide


def test_svi_lanes_keep_their_own_guides_and_leave_the_callers_param_store_alone():
    store = pyro.get_param_store()
    store.clear()
    try:
        pyro.param("callers", torch.tensor(3.0))
        eng = SviEngine(bandit_model(), 2, InferenceSettings(svi_steps=20, samples=200), OpCounts())
        eng.reset(np.random.default_rng(0))
        h = History(2, 1, 1)
        for _ in range(5):
            pull(h, 0, 0, 1.0)
            pull(h, 1, 0, 0.0)
            eng.update(np.array([0, 1]), h)
        assert list(store.keys()) == ["callers"] and float(pyro.param("callers").detach()) == 3.0
        m0, m1 = eng.belief(0).mean()[0], eng.belief(1).mean()[0]
        assert m0 > 0.7 and m1 < 0.3                           # Beta(6, 1): 0.857, Beta(1, 6): 0.143
    finally:
        store.clear()


def test_unknown_guide_is_a_config_error():
    with pytest.raises(ConfigError, match=r"unknown SVI guide 'bogus'; choose one of mean-field, flow"):
        make_engine("svi", bandit_model(), 1, InferenceSettings(guide="bogus"), OpCounts())


@pytest.mark.parametrize("name,guide", ENGINES)
def test_same_seed_same_samples(name, guide):
    def run(seed: int) -> np.ndarray:
        eng = make_engine(name, bandit_model(), 1, InferenceSettings(guide=guide, samples=8, warmup=8, svi_steps=5),
                          OpCounts())
        eng.reset(np.random.default_rng(seed))
        h = History(1, 1, 1)
        for reward in (1.0, 0.0):
            pull(h, 0, 0, reward)
            eng.update(np.array([0]), h)
        return eng.belief(0).points

    first = run(7)
    np.testing.assert_array_equal(run(7), first)
    assert not np.array_equal(run(8), first)


def test_pyro_reason_follows_langevin():
    assert pyro_reason(bandit_model()) is None
    why = pyro_reason(bandit_model(k=65))
    assert why is not None and "nuts and svi" in why and "65" in why
    with pytest.raises(ConfigError, match="nuts and svi"):
        make_engine("nuts", bandit_model(k=65), 1, InferenceSettings(), OpCounts())
