import numpy as np
import pytest
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from gymnasium.utils.env_checker import check_env

import metaplastic
import metaplastic.core
import metaplastic.errors
from metaplastic.errors import ConfigError
from metaplastic.metrics.stats import sem
from metaplastic.tasks.base import TaskFamily

HIDDEN = ("length", "masspole", "masscart")


@pytest.fixture
def cart():
    return metaplastic.make_tasks("cartpole-dyn")


def test_defaults_and_gymnasium_spaces(cart):
    assert (cart.max_steps, cart.episodes_per_trial) == (500, 2)
    ref = CartPoleEnv()
    assert cart.observation_space == ref.observation_space and cart.action_space == ref.action_space
    assert cart.ranges("test") == {"length": (0.25, 0.75), "masspole": (0.05, 0.2), "masscart": (0.5, 1.5)}
    assert cart.ranges("ood") == {"length": (0.8, 1.2), "masspole": (0.25, 0.4), "masscart": (1.6, 2.5)}


@pytest.mark.parametrize("spec, fragment", [
    ("cartpole-dyn:length_low=0", "length_low must be a number > 0"),
    ("cartpole-dyn:length_low=0.9", "length_low (0.9) is above length_high (0.75)"),
    ("cartpole-dyn:ood_masscart_high=1", "ood_masscart_low (1.6) is above ood_masscart_high (1)"),
    ("cartpole-dyn:max_steps=0", "max_steps must be an integer >= 1"),
    ("cartpole-dyn:gravity=3", "unknown parameter 'gravity'"),
    ("cartpole-dyn:" + ",".join(f"ood_{k}_{e}={v}" for k, r in
                                 {"length": (0.25, 0.75), "masspole": (0.05, 0.2), "masscart": (0.5, 1.5)}.items()
                                 for e, v in zip(("low", "high"), r)), "ood ranges equal the training ranges"),
])
def test_bad_specs(spec, fragment):
    with pytest.raises(metaplastic.errors.MetaplasticError) as err:
        metaplastic.make_tasks(spec)
    assert fragment in str(err.value)


def test_sampling_is_reproducible_and_splits_disjoint(cart):
    a = cart.sample(50, seed=3, split="train")
    assert a == cart.sample(50, seed=3, split="train") and a != cart.sample(50, seed=4, split="train")
    seeds = {s: {t.seed for t in cart.sample(300, seed=0, split=s)} for s in ("train", "test", "ood")}
    assert not (seeds["train"] & seeds["test"]) and not (seeds["train"] & seeds["ood"]) and not (seeds["test"] & seeds["ood"])
    assert {TaskFamily.split_of(t) for t in cart.sample(5, seed=0, split="ood")} == {"ood"}


@pytest.mark.parametrize("split", ["test", "ood"])
def test_parameters_uniform_in_their_ranges_and_ood_outside_training(cart, split):
    phys = cart.physics(cart.sample(3000, seed=0, split=split))
    for key, (lo, hi) in cart.ranges(split).items():
        x = phys[key]
        assert np.all((x >= lo) & (x <= hi)) and abs(x.mean() - (lo + hi) / 2) < 4 * sem(x)
        train_lo, train_hi = cart.ranges("train")[key]
        assert np.all((x < train_lo) | (x > train_hi)) == (split == "ood")


def test_env_uses_the_task_physics(cart):
    task = cart.sample(1, seed=0)[0]
    env = cart.make_env(task)
    p = task.params
    assert (env.length, env.masspole, env.masscart) == (p["length"], p["masspole"], p["masscart"])
    assert env.total_mass == p["masspole"] + p["masscart"] and env.polemass_length == p["masspole"] * p["length"]


@pytest.mark.filterwarnings("ignore:.*infinity")  # gymnasium's own CartPole space has infinite velocity bounds
def test_env_passes_gymnasium_check(cart):
    check_env(cart.make_env(cart.sample(1, seed=0)[0]), skip_render_check=True)


def test_single_env_truncates_and_checks_actions():
    short = metaplastic.make_tasks("cartpole-dyn:max_steps=3")
    env = short.make_env(short.sample(1, seed=0)[0])
    env.reset(seed=0)
    assert [env.step(i % 2)[3] for i in range(3)] == [False, False, True]
    with pytest.raises(ValueError, match="push right"):
        env.step(2)


def test_vector_env_agrees_with_single_env_from_the_same_state(cart):
    tasks = cart.sample(8, seed=1) + cart.sample(8, seed=1, split="ood")
    envs = [cart.make_env(t) for t in tasks]
    venv = cart.make_vector_env(tasks)
    venv.reset(seed=0)
    start = np.random.default_rng(0).uniform(-0.05, 0.05, size=(len(tasks), 4))
    venv.state[:] = start.T
    for env, s in zip(envs, start):
        env.reset(seed=0)
        env.state = s.copy()
    live = np.ones(len(tasks), dtype=bool)
    rng = np.random.default_rng(1)
    while live.any():  # until every lane has ended once (each then restarts from its own random state)
        a = rng.integers(0, 2, size=len(tasks))
        obs, rew, term, trunc, _ = venv.step(a)
        for i in np.flatnonzero(live):
            o, r, te, tr, _ = envs[i].step(int(a[i]))
            assert np.allclose(obs[i], o, rtol=0, atol=1e-6) and (r, te, tr) == (rew[i], term[i], trunc[i])
            live[i] = not (te or tr)


def test_hidden_physics_change_the_trajectory(cart):
    light, heavy = (metaplastic.core.Task("cartpole-dyn", {"length": l, "masspole": m, "masscart": c}, seed=0)
                    for l, m, c in ((0.3, 0.05, 0.5), (0.7, 0.2, 1.5)))
    venv = cart.make_vector_env([light, heavy])
    venv.reset(seed=0)
    venv.state[:] = 0.01
    for _ in range(5):
        obs, *_ = venv.step(np.array([1, 1]))
    assert np.all(np.abs(obs[0] - obs[1]) > 1e-3)


def test_vector_env_resets_on_the_next_step():
    short = metaplastic.make_tasks("cartpole-dyn:max_steps=3")
    venv = short.make_vector_env(short.sample(2, seed=0))
    venv.reset(seed=0)
    flags = [venv.step(np.array([0, 1]))[3].tolist() for _ in range(3)]
    assert flags == [[False, False], [False, False], [True, True]]
    obs, rew, term, trunc, _ = venv.step(np.array([0, 1]))  # the autoreset step: fresh start, no reward
    assert np.all(np.abs(obs) <= 0.05) and rew.tolist() == [0.0, 0.0] and not (term.any() or trunc.any())
    with pytest.raises(ValueError, match=r"integers in \{0, 1\}"):
        venv.step(np.array([0, 2]))


def test_make_env_rejects_foreign_task(cart):
    with pytest.raises(ConfigError, match="family 'nav2d'"):
        cart.make_env(metaplastic.core.Task(family="nav2d", params={"goal": (0.1, 0.2)}, seed=0))
