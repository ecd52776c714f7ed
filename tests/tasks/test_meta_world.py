"""The Meta-World family: the benchmark's own train and test tasks, its spaces, its env
pool, success at any step, and the versions every result records."""

from __future__ import annotations

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import ConfigError

pytest.importorskip("metaworld", reason="the metaworld family needs the 'metaworld' extra")

SMALL = "metaworld:benchmark=ML1,env=reach-v3,adapt_episodes=1,eval_episodes=2,max_steps=40"


def test_train_and_test_tasks_are_the_benchmarks_own():
    import metaworld

    tasks = metaplastic.make_tasks(SMALL)
    bench = metaworld.ML1("reach-v3", seed=0)
    for split, listed in (("train", bench.train_tasks), ("test", bench.test_tasks)):
        for task in tasks.sample(5, seed=3, split=split):
            mw_task = listed[task.params["index"]]
            env = tasks.make_env(task)
            expected = np.asarray(__import__("pickle").loads(mw_task.data)["rand_vec"])
            np.testing.assert_array_equal(env.env._last_rand_vec, expected)
            env.close()
    train_goals = {tuple(np.round(tasks.make_env(t).env._last_rand_vec, 6)) for t in tasks.sample(20, seed=0)}
    assert len(train_goals) > 1, "tasks differ in their hidden goal"


def test_the_goal_is_hidden_and_episodes_truncate_at_max_steps():
    tasks = metaplastic.make_tasks(SMALL)
    env = tasks.make_env(tasks.sample(1, seed=0, split="test")[0])
    obs, _ = env.reset(seed=0)
    assert obs.shape == (39,) and np.all(obs[-3:] == 0.0)
    for t in range(40):
        obs, reward, term, trunc, info = env.step(np.zeros(4, dtype=np.float32))
        assert "success" in info and np.isfinite(reward)
        assert trunc == (t == 39) and not term  # truncated at max_steps=40, not before


def test_built_envs_are_reused_only_after_close():
    tasks = metaplastic.make_tasks(SMALL)
    a_task, b_task = tasks.sample(2, seed=1)
    a = tasks.make_env(a_task)
    b = tasks.make_env(b_task)
    assert a.env is not b.env, "two open envs never share a simulator"
    inner = a.env
    a.close()
    c = tasks.make_env(b_task)
    assert c.env is inner, "a closed env's simulator is handed out again"


def test_unknown_environment_is_a_one_line_error():
    with pytest.raises(ConfigError, match="unknown environment 'reach-v2'; did you mean 'reach-v3'"):
        metaplastic.make_tasks("metaworld:env=reach-v2")


def test_there_is_no_ood_split():
    tasks = metaplastic.make_tasks(SMALL)
    with pytest.raises(ConfigError, match="unknown split 'ood'"):
        tasks.sample(1, seed=0, split="ood")


def test_an_arm_driven_to_the_goal_succeeds_and_is_counted():
    """A test-only controller that reads the hidden goal drives the hand there: the episodes
    succeed and the trial loop records it (after adaptation or not, per episode)."""
    from metaplastic.runtime.vector import drive_trials

    tasks = metaplastic.make_tasks("metaworld:adapt_episodes=0,eval_episodes=2,max_steps=120")
    venv = tasks.make_vector_env(tasks.sample(3, seed=0, split="test"))

    def act(obs, decide):
        goals = np.stack([e.env._target_pos for e in venv.envs])  # hidden: set by Meta-World's reset
        a = np.zeros((3, 4), dtype=np.float32)
        a[:, :3] = np.clip((goals - obs[:, :3]) * 20.0, -1.0, 1.0)
        return a

    successes = np.zeros((3, 2), dtype=bool)
    drive_trials(venv, 2, env_seed=0, act=act, successes=successes)
    assert successes.all(), "driving the hand to its goal must count as success"
    idle = np.zeros((3, 2), dtype=bool)
    drive_trials(tasks.make_vector_env(tasks.sample(3, seed=0, split="test")), 2, env_seed=0,
                 act=lambda obs, decide: np.zeros((3, 4), dtype=np.float32), successes=idle)
    assert not idle.any(), "a hand that does not move does not reach a goal"


def test_evaluate_reports_the_success_rate_and_the_versions():
    for vectorized in (True, False):
        r = metaplastic.evaluate("random", SMALL, n_tasks=3, seed=0, vectorized=vectorized)
        s = r.summary()
        assert r.successes.shape == (3, 3) and s["scored_episodes"] == [1, 3]
        assert 0.0 <= s["success_rate"] <= 1.0 and len(s["success_per_episode"]) == 3
        assert s["versions"] == {"metaworld": "3.1.1", "reward_version": "v2"}


def test_ml10_trains_on_ten_environments_and_tests_on_five_others():
    tasks = metaplastic.make_tasks("metaworld:benchmark=ML10,adapt_episodes=1,eval_episodes=1,max_steps=10")
    train = {t.params["env"] for t in tasks.sample(200, seed=0, split="train")}
    test = {t.params["env"] for t in tasks.sample(100, seed=0, split="test")}
    assert len(train) == 10 and len(test) == 5 and not train & test
    env = tasks.make_env(tasks.sample(1, seed=0, split="test")[0])
    obs, _ = env.reset()
    assert env.observation_space.contains(obs) and env.observation_space == tasks.observation_space


def test_bench_reports_success_rates_and_no_ood(tmp_path):
    import json

    from metaplastic.cli import main

    out = tmp_path / "b"
    with pytest.raises(SystemExit) as e:
        main(["bench", "--backends", "random", "--tasks", SMALL, "--quick", "--n-tasks", "4", "--budget", "1",
              "--profiles", "cpu-45nm", "--out", str(out)])
    assert e.value.code == 0
    report = json.loads((out / "report.json").read_text())
    row = report["backends"]["random"]
    assert 0.0 <= row["success_rate"]["mean"] <= 1.0 and row["success_rate"]["scored_episodes"] == [1, 3]
    assert row["ood_trial_return"] is None and row["adaptation"]["ood_fraction"]["reason"].endswith("no ood split")
    assert report["task_versions"] == {"metaworld": "3.1.1", "reward_version": "v2"}
    assert "## Success rate" in (out / "report.md").read_text()
