import json
import pickle

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import metaplastic
import metaplastic.core
import metaplastic.errors
from metaplastic.errors import ConfigError
from metaplastic.tasks.base import TaskFamily


@pytest.fixture
def mdp():
    return metaplastic.make_tasks("mdp")


def test_defaults_are_rl2_table_2(mdp):
    assert (mdp.n_states, mdp.n_actions, mdp.horizon, mdp.episodes_per_trial) == (10, 5, 10, 10)
    assert int(mdp.observation_space.n) == 10 and int(mdp.action_space.n) == 5
    train = mdp.prior("train")
    assert (train.reward_mean, train.reward_std, train.alpha, train.noise_std) == (1.0, 1.0, 1.0, 1.0)
    assert mdp.prior("test") == train
    ood = mdp.prior("ood")
    assert (ood.reward_mean, ood.reward_std, ood.alpha) == (1.0, 2.0, 0.1)


def test_spec_and_keywords_agree():
    a = metaplastic.make_tasks("mdp:n=25,n_states=4,n_actions=3")
    b = metaplastic.make_tasks("mdp", n=25, n_states=4, n_actions=3)
    assert a.spec == b.spec and a.episodes_per_trial == 25 and int(a.action_space.n) == 3


@pytest.mark.parametrize("spec, fragment", [
    ("mdp:n=0", "n must be an integer >= 1"),
    ("mdp:n_states=0", "n_states must be an integer >= 1"),
    ("mdp:n_actions=two", "got 'two'"),
    ("mdp:horizon=0", "horizon must be an integer >= 1"),
    ("mdp:alpha=0", "alpha must be a number > 0"),
    ("mdp:reward_std=-1", "reward_std must be a number > 0"),
    ("mdp:ood_alpha=0", "ood_alpha must be a number > 0"),
    ("mdp:states=3", "unknown parameter 'states'"),
    ("mdp:ood_reward_std=1,ood_alpha=1", "ood prior equals the training prior"),
])
def test_bad_specs(spec, fragment):
    with pytest.raises(metaplastic.errors.MetaplasticError) as err:
        metaplastic.make_tasks(spec)
    assert fragment in str(err.value)


def test_sampling_is_reproducible_and_splits_disjoint(mdp):
    a = mdp.sample(20, seed=3, split="train")
    assert a == mdp.sample(20, seed=3, split="train")
    assert a != mdp.sample(20, seed=4, split="train")
    seeds = {s: {t.seed for t in mdp.sample(200, seed=0, split=s)} for s in ("train", "test", "ood")}
    assert not (seeds["train"] & seeds["test"]) and not (seeds["train"] & seeds["ood"]) and not (seeds["test"] & seeds["ood"])
    assert {TaskFamily.split_of(t) for t in a} == {"train"}


def test_task_params_are_json_friendly_and_picklable(mdp):
    task = mdp.sample(1, seed=0, split="test")[0]
    doc = json.loads(json.dumps(dict(task.params)))
    assert np.array_equal(np.array(doc["reward_mean"]), mdp.reward_means([task])[0])
    assert np.array_equal(np.array(doc["transitions"]), mdp.transition_probs([task])[0])
    assert isinstance(task.params["reward_mean"][0][0], float)
    assert pickle.loads(pickle.dumps(task)) == task
    p = mdp.transition_probs([task])[0]
    assert np.all(p >= 0) and np.allclose(p.sum(axis=-1), 1.0)


def _within(values, expected, n_se=4.0):
    """``values``' mean is within ``n_se`` standard errors (from their own spread) of ``expected``."""
    values = np.asarray(values, dtype=float)
    return abs(values.mean() - expected) <= n_se * values.std(ddof=1) / np.sqrt(values.size)


def test_ood_is_shifted(mdp):
    # The mean rewards are i.i.d. across (s, a) and tasks: test their variance (1 in
    # train, 4 in ood) via the mean of the squared deviations, within 4 standard errors.
    # The transitions' concentration: for Dirichlet(alpha) over S states, E[sum_s' p^2]
    # = (alpha + 1) / (S alpha + 1): 2/11 for alpha=1, 0.55 for alpha=0.1.
    for split, var, alpha in (("test", 1.0, 1.0), ("ood", 4.0, 0.1)):
        tasks = mdp.sample(300, seed=0, split=split)
        r = mdp.reward_means(tasks).ravel()
        assert _within(r, 1.0)
        assert _within((r - 1.0) ** 2, var)
        sq = (mdp.transition_probs(tasks) ** 2).sum(axis=-1).ravel()
        assert _within(sq, (alpha + 1) / (10 * alpha + 1))


def test_sample_arrays_follow_the_prior(mdp):
    r, p = mdp.sample_arrays(200, rng=np.random.default_rng(0), split="ood")
    assert r.shape == (200, 10, 5) and p.shape == (200, 10, 5, 10)
    assert np.allclose(p.sum(axis=-1), 1.0)
    assert _within((r.ravel() - 1.0) ** 2, 4.0)


def test_env_passes_gymnasium_check(mdp):
    env = mdp.make_env(mdp.sample(1, seed=0, split="test")[0])
    check_env(env, skip_render_check=True)


def test_episode_starts_in_0_and_truncates_at_the_horizon():
    tasks = metaplastic.make_tasks("mdp:horizon=7")
    env = tasks.make_env(tasks.sample(1, seed=1)[0])
    for ep in range(3):
        obs, _ = env.reset(seed=ep)
        assert obs == 0
        for t in range(7):
            obs, reward, term, trunc, _ = env.step(t % 5)
            assert isinstance(reward, float) and env.observation_space.contains(obs)
            assert not term and trunc == (t == 6)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    env.reset()
    with pytest.raises(ValueError, match="not one of the 5 actions"):
        env.step(5)


def test_single_env_pays_the_true_means_and_moves_by_the_true_transitions():
    # horizon 1: every step starts from state 0, so (0, a) is sampled again and again
    tasks = metaplastic.make_tasks("mdp:horizon=1")
    task = tasks.sample(1, seed=5, split="test")[0]
    env = tasks.make_env(task)
    r_true, p_true = tasks.reward_means([task])[0, 0, 2], tasks.transition_probs([task])[0, 0, 2]
    env.reset(seed=0)
    rewards, states = [], []
    for _ in range(4000):
        obs, r, _, trunc, _ = env.step(2)
        assert trunc
        rewards.append(r)
        states.append(obs)
        env.reset()
    assert _within(rewards, r_true)
    freq = np.bincount(states, minlength=10) / 4000
    assert np.all(np.abs(freq - p_true) <= 4 * np.sqrt(p_true * (1 - p_true) / 4000) + 1e-9)


def test_vector_env_pays_the_true_means_and_moves_by_the_true_transitions():
    tasks = metaplastic.make_tasks("mdp:horizon=1")
    chosen = tasks.sample(3, seed=2, split="test")
    venv = tasks.make_vector_env(chosen)
    obs, _ = venv.reset(seed=0)
    actions = np.array([0, 1, 4])
    rewards, states = [], []
    for _ in range(4000):
        obs, r, term, trunc, info = venv.step(actions)
        assert trunc.all() and not term.any() and np.all(obs == 0)
        rewards.append(r)
        states.append(info["final_obs"])
    rewards, states = np.array(rewards), np.array(states)
    r_true = tasks.reward_means(chosen)[np.arange(3), 0, actions]
    p_true = tasks.transition_probs(chosen)[np.arange(3), 0, actions]
    for i in range(3):
        assert _within(rewards[:, i], r_true[i])
        freq = np.bincount(states[:, i], minlength=10) / 4000
        assert np.all(np.abs(freq - p_true[i]) <= 4 * np.sqrt(p_true[i] * (1 - p_true[i]) / 4000) + 1e-9)


def test_vector_env_agrees_with_single_env_over_whole_episodes(mdp):
    # The same task and the same open-loop action sequence, 2000 episodes each way: the
    # episode returns and final states agree in distribution (two-sample, 4 standard errors).
    task = mdp.sample(1, seed=7, split="test")[0]
    plan = np.arange(10) % 5
    env = mdp.make_env(task)
    env.reset(seed=0)
    single_ret, single_final = [], []
    for _ in range(2000):
        env.reset()
        ret = 0.0
        for a in plan:
            s, r, _, _, _ = env.step(int(a))
            ret += r
        single_ret.append(ret)
        single_final.append(s)
    venv = mdp.make_vector_env([task] * 2000)
    venv.reset(seed=1)
    vec_ret = np.zeros(2000)
    for h, a in enumerate(plan):
        _, r, _, trunc, info = venv.step(np.full(2000, a))
        vec_ret += r
        assert trunc.all() == (h == 9)
    vec_final = info["final_obs"]
    a, b = np.array(single_ret), vec_ret
    assert abs(a.mean() - b.mean()) <= 4 * np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    fa, fb = np.bincount(single_final, minlength=10) / 2000, np.bincount(vec_final, minlength=10) / 2000
    pooled = (fa + fb) / 2
    assert np.all(np.abs(fa - fb) <= 4 * np.sqrt(2 * pooled * (1 - pooled) / 2000) + 1e-9)


def test_vector_env_truncates_every_lane_at_the_horizon_and_restarts_in_0():
    tasks = metaplastic.make_tasks("mdp:horizon=3")
    venv = tasks.make_vector_env(tasks.sample(4, seed=0))
    assert venv.metadata["autoreset_mode"].name == "SAME_STEP"
    obs, _ = venv.reset(seed=0)
    assert obs.tolist() == [0, 0, 0, 0] and venv.observation_space.contains(obs)
    for t in range(6):
        obs, r, term, trunc, info = venv.step(np.array([0, 1, 2, 3]))
        assert r.shape == (4,) and not term.any()
        assert trunc.all() == (t % 3 == 2) and trunc.any() == trunc.all()
        assert ("final_obs" in info) == (t % 3 == 2)
        if trunc.all():
            assert obs.tolist() == [0, 0, 0, 0] and info["_final_obs"].all()
    with pytest.raises(ValueError, match="action indices"):
        venv.step(np.array([0, 5, 0, 0]))


def test_tasks_of_another_shape_or_family_are_rejected(mdp):
    small = metaplastic.make_tasks("mdp:n_states=3").sample(2, seed=0)
    with pytest.raises(ConfigError, match="expects"):
        mdp.make_vector_env(small)
    foreign = metaplastic.core.Task(family="bandits", params={"p": (0.5, 0.5)}, seed=0)
    with pytest.raises(ConfigError, match="family 'bandits'"):
        mdp.make_env(foreign)
