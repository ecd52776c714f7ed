import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import metaplastic
import metaplastic.core
import metaplastic.errors
from metaplastic.errors import ConfigError
from metaplastic.tasks.base import TaskFamily

from tests.tasks._support import compare_vector_with_single


@pytest.fixture
def grid():
    return metaplastic.make_tasks("gridnavi")


def test_defaults_are_varibads(grid):
    assert (grid.size, grid.steps, grid.episodes_per_trial) == (5, 15, 4)
    assert grid.action_space.n == 5 and grid.observation_space.shape == (2,)
    assert metaplastic.make_tasks("gridnavi:size=7,n=2").spec == metaplastic.make_tasks("gridnavi", size=7, n=2).spec


@pytest.mark.parametrize("spec, fragment", [
    ("gridnavi:size=2", "size must be an integer >= 3"),
    ("gridnavi:steps=0", "steps must be an integer >= 1"),
    ("gridnavi:n=1.5", "n must be an integer >= 1"),
    ("gridnavi:goal=3", "unknown parameter 'goal'"),
])
def test_bad_specs(spec, fragment):
    with pytest.raises(metaplastic.errors.MetaplasticError) as err:
        metaplastic.make_tasks(spec)
    assert fragment in str(err.value)


def test_sampling_is_reproducible_and_splits_disjoint(grid):
    a = grid.sample(50, seed=3, split="train")
    assert a == grid.sample(50, seed=3, split="train") and a != grid.sample(50, seed=4, split="train")
    seeds = {s: {t.seed for t in grid.sample(300, seed=0, split=s)} for s in ("train", "test", "ood")}
    assert not (seeds["train"] & seeds["test"]) and not (seeds["train"] & seeds["ood"]) and not (seeds["test"] & seeds["ood"])
    assert {TaskFamily.split_of(t) for t in grid.sample(5, seed=0, split="ood")} == {"ood"}


def test_goal_cells_and_ood_shift(grid):
    train = {tuple(c) for c in grid.goal_cells("train")}
    assert len(train) == 21 and not train & {(0, 0), (0, 1), (1, 0), (1, 1)}
    drawn = {tuple(t.params["goal"]) for t in grid.sample(2000, seed=0, split="test")}
    assert drawn == train  # every cell of the prior is drawn, nothing else
    ood = {tuple(t.params["goal"]) for t in grid.sample(300, seed=0, split="ood")}
    assert ood == {(0, 1), (1, 0), (1, 1)}
    goals = grid.goals(grid.sample(4200, seed=1))
    counts = np.bincount(goals[:, 0] * 5 + goals[:, 1], minlength=25)
    p = 1 / 21  # uniform: every count within 4 binomial standard errors of 4200/21
    assert np.all(np.abs(counts[counts > 0] - 4200 * p) < 4 * np.sqrt(4200 * p * (1 - p)))


def test_env_passes_gymnasium_check(grid):
    check_env(grid.make_env(grid.sample(1, seed=0)[0]), skip_render_check=True)


def test_moves_walls_rewards_and_truncation(grid):
    env = grid.make_env(metaplastic.core.Task("gridnavi", {"goal": (1, 2)}, seed=0))
    obs, _ = env.reset(seed=0)
    seen = []
    for a in (4, 3, 1, 1, 2, 0):  # left/down bump the walls, then up, up, right onto the goal, stay
        obs, r, term, trunc, _ = env.step(a)
        seen.append((obs.tolist(), r, term))
    assert seen == [([0, 0], -0.1, False), ([0, 0], -0.1, False), ([0, 1], -0.1, False), ([0, 2], -0.1, False),
                    ([1, 2], 1.0, False), ([1, 2], 1.0, False)]
    for t in range(7, 16):  # standing on the goal does not end the episode; the 15th step does
        obs, r, term, trunc, _ = env.step(0)
        assert r == 1.0 and not term and trunc == (t == 15)
    with pytest.raises(ValueError, match="integers in"):
        env.step(5)


def test_vector_env_agrees_with_single_env(grid):
    tasks = grid.sample(6, seed=2)
    actions = np.random.default_rng(0).integers(0, 5, size=(40, 6))
    compare_vector_with_single(grid, tasks, actions)
    venv = grid.make_vector_env(tasks)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="integers in"):
        venv.step(np.array([0, 1, 2, 3, 4, 5]))


def test_make_env_rejects_foreign_task(grid):
    with pytest.raises(ConfigError, match="family 'nav2d'"):
        grid.make_env(metaplastic.core.Task(family="nav2d", params={"goal": (0.1, 0.2)}, seed=0))
