import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import metaplastic
import metaplastic.core
import metaplastic.errors
from metaplastic.errors import ConfigError
from metaplastic.tasks.base import TaskFamily


@pytest.fixture
def bandits():
    return metaplastic.make_tasks("bandits:k=5,n=10")


def test_spec_and_keywords_agree():
    a = metaplastic.make_tasks("bandits:k=7,n=3")
    b = metaplastic.make_tasks("bandits", k=7, n=3)
    assert a.spec == b.spec and a.action_space.n == 7 and a.episodes_per_trial == 3


@pytest.mark.parametrize("spec, fragment", [
    ("bandits:k=1", "k must be an integer >= 2"),
    ("bandits:k=five", "got 'five'"),
    ("bandits:n=-3", "n must be an integer >= 1"),
    ("bandits:arms=3", "unknown parameter 'arms'"),
    ("bandits:a=0", "a must be a number > 0"),
    ("bandits:ood_a=1,ood_b=1", "ood prior equals the training prior"),
    ("bandit:k=3", "unknown task family 'bandit' (did you mean 'bandits'?)"),
])
def test_bad_specs(spec, fragment):
    with pytest.raises(metaplastic.errors.MetaplasticError) as err:
        metaplastic.make_tasks(spec)
    assert fragment in str(err.value)


def test_same_key_twice_is_rejected():
    with pytest.raises(ConfigError, match="given both"):
        metaplastic.make_tasks("bandits:k=3", k=4)


def test_sampling_is_reproducible_and_splits_disjoint(bandits):
    a = bandits.sample(50, seed=3, split="train")
    assert a == bandits.sample(50, seed=3, split="train")
    assert a != bandits.sample(50, seed=4, split="train")
    seeds = {s: {t.seed for t in bandits.sample(200, seed=s0, split=s)} for s0 in (0,) for s in ("train", "test", "ood")}
    assert not (seeds["train"] & seeds["test"]) and not (seeds["train"] & seeds["ood"]) and not (seeds["test"] & seeds["ood"])
    assert {TaskFamily.split_of(t) for t in a} == {"train"}


def test_unknown_split(bandits):
    with pytest.raises(ConfigError, match="unknown split 'val'"):
        bandits.sample(1, seed=0, split="val")


def test_ood_prior_is_shifted(bandits):
    p_test = bandits.arm_probs(bandits.sample(2000, seed=0, split="test")).ravel()
    p_ood = bandits.arm_probs(bandits.sample(2000, seed=0, split="ood")).ravel()
    # U[0,1] has variance 1/12; Beta(.5,.5) has variance 1/8
    assert abs(p_test.var() - 1 / 12) < 0.005
    assert abs(p_ood.var() - 1 / 8) < 0.006


def test_env_passes_gymnasium_check_and_pays_bernoulli(bandits):
    task = bandits.sample(1, seed=0, split="test")[0]
    env = bandits.make_env(task)
    check_env(env, skip_render_check=True)
    env.reset(seed=1)
    best = int(np.argmax(task.params["p"]))
    rewards = [env.step(best)[1] for _ in range(4000)]
    p = task.params["p"][best]
    assert abs(np.mean(rewards) - p) < 4 * np.sqrt(p * (1 - p) / 4000) + 1e-9


def test_vector_env_matches_probabilities(bandits):
    tasks = bandits.sample(3, seed=2, split="test")
    venv = bandits.make_vector_env(tasks)
    venv.reset(seed=0)
    total = np.zeros(3)
    for _ in range(3000):
        _, r, term, trunc, _ = venv.step(np.zeros(3, dtype=int))
        total += r
        assert term.all() and not trunc.any()
    p0 = bandits.arm_probs(tasks)[:, 0]
    assert np.all(np.abs(total / 3000 - p0) < 4 * np.sqrt(p0 * (1 - p0) / 3000) + 1e-9)
    with pytest.raises(ValueError, match="arm indices"):
        venv.step(np.array([0, 5, 0]))


def test_make_env_rejects_foreign_task(bandits):
    foreign = metaplastic.core.Task(family="mdp", params={}, seed=0)
    with pytest.raises(ConfigError, match="family 'mdp'"):
        bandits.make_env(foreign)
