import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import metaplastic
import metaplastic.core
import metaplastic.errors
from metaplastic.errors import ConfigError
from metaplastic.metrics.stats import sem
from metaplastic.tasks.base import TaskFamily


@pytest.fixture
def nav():
    return metaplastic.make_tasks("nav2d")


def _task(goal):
    return metaplastic.core.Task("nav2d", {"goal": goal}, seed=0)


def test_defaults_and_spaces(nav):
    assert (nav.max_steps, nav.episodes_per_trial) == (100, 4)
    assert nav.action_space.shape == (2,) and np.allclose(nav.action_space.high, 0.1)
    assert nav.observation_space.shape == (2,) and np.all(np.isfinite(nav.observation_space.low))


@pytest.mark.parametrize("spec, fragment", [
    ("nav2d:max_steps=0", "max_steps must be an integer >= 1"),
    ("nav2d:n=zero", "got 'zero'"),
    ("nav2d:radius=1", "unknown parameter 'radius'"),
])
def test_bad_specs(spec, fragment):
    with pytest.raises(metaplastic.errors.MetaplasticError) as err:
        metaplastic.make_tasks(spec)
    assert fragment in str(err.value)


def test_sampling_is_reproducible_and_splits_disjoint(nav):
    a = nav.sample(50, seed=3, split="train")
    assert a == nav.sample(50, seed=3, split="train") and a != nav.sample(50, seed=4, split="train")
    seeds = {s: {t.seed for t in nav.sample(300, seed=0, split=s)} for s in ("train", "test", "ood")}
    assert not (seeds["train"] & seeds["test"]) and not (seeds["train"] & seeds["ood"]) and not (seeds["test"] & seeds["ood"])
    assert {TaskFamily.split_of(t) for t in nav.sample(5, seed=0, split="ood")} == {"ood"}


def test_goals_uniform_in_the_square_and_ood_outside(nav):
    g = nav.goals(nav.sample(3000, seed=0, split="test"))
    assert np.all((g >= 0) & (g <= 1))
    assert np.all(np.abs(g.mean(axis=0) - 0.5) < 4 * sem(g))  # U[0,1]: mean 1/2
    o = nav.goals(nav.sample(3000, seed=0, split="ood"))
    assert np.all((o >= -0.5) & (o <= 1.5)) and not np.any(np.all((o >= 0) & (o <= 1), axis=1))
    assert np.all(np.abs(o.mean(axis=0) - 0.5) < 4 * sem(o))  # the ring is symmetric about the centre


def test_env_passes_gymnasium_check(nav):
    check_env(nav.make_env(nav.sample(1, seed=0)[0]), skip_render_check=True)


def test_clipping_reward_termination_and_truncation(nav):
    env = nav.make_env(_task((0.8, 0.5)))
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [0.5, 0.5]
    obs, r, term, trunc, _ = env.step(np.array([1.0, -0.02]))  # clipped to (0.1, -0.02)
    assert np.allclose(obs, [0.6, 0.48]) and r == pytest.approx(-(0.2**2 + 0.02**2)) and not (term or trunc)
    env.step(np.array([0.1, 0.02]))
    obs, r, term, trunc, _ = env.step(np.array([0.1, 0.005]))  # 0.005 from the goal: within 0.01
    assert term and not trunc and r == pytest.approx(-(0.005**2))
    short = metaplastic.make_tasks("nav2d:max_steps=3").make_env(_task((0.0, 0.0)))
    short.reset(seed=0)
    flags = [short.step(np.zeros(2))[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]
    with pytest.raises(ValueError, match="finite numbers of shape"):
        env.step(np.array([np.nan, 0.0]))


def test_vector_env_agrees_with_single_env(nav):
    tasks = nav.sample(5, seed=2) + [_task((0.55, 0.5))]  # the last one terminates and restarts
    envs = [nav.make_env(t) for t in tasks]
    venv = nav.make_vector_env(tasks)
    obs, _ = venv.reset(seed=0)
    assert np.array_equal(obs, np.stack([e.reset(seed=0)[0] for e in envs]))
    rng = np.random.default_rng(0)
    ended = {"terminated": 0, "truncated": 0}
    for _ in range(120):  # past the 100-step truncation
        a = rng.uniform(-0.15, 0.15, size=(6, 2)).astype(np.float32)
        a[5] = [0.05, 0.0] if rng.random() < 0.5 else [-0.05, 0.0]
        obs, rew, term, trunc, info = venv.step(a)
        for i, env in enumerate(envs):
            o, r, te, tr, _ = env.step(a[i])
            assert (r, te, tr) == (rew[i], term[i], trunc[i])
            if te or tr:
                ended["terminated" if te else "truncated"] += 1
                assert info["_final_obs"][i] and np.array_equal(info["final_obs"][i], o)
                o, _ = env.reset()
            assert np.array_equal(obs[i], o)
    assert ended["terminated"] >= 1 and ended["truncated"] >= 5


def test_make_env_rejects_foreign_task(nav):
    with pytest.raises(ConfigError, match="family 'gridnavi'"):
        nav.make_env(metaplastic.core.Task(family="gridnavi", params={"goal": (1, 2)}, seed=0))
