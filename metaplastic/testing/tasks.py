"""``TaskFamilyConformance``: the checks every task family passes (the kit's task checks).

Subclass it with a ``tasks`` fixture returning the distribution to check::

    class TestMyFamily(TaskFamilyConformance):
        @pytest.fixture
        def tasks(self):
            return metaplastic.make_tasks("myfamily:size=3")
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import metaplastic
from metaplastic.core import TaskDistribution
from metaplastic.errors import ConfigError

SPLITS = ("train", "test", "ood")


def _offered(tasks: Any, split: str) -> bool:
    """Whether ``tasks`` offers ``split``; a family may offer fewer than the three (Meta-World
    defines no ``ood``), but then asking for it must be a one-line error naming it."""
    try:
        tasks.sample(1, seed=0, split=split)
    except ConfigError as e:
        assert split in str(e) and len(str(e).splitlines()) == 1, f"refusing split {split!r} must say so in one line"
        return False
    return True


def _same(a: Any, b: Any) -> bool:
    return np.array_equal(np.asarray(a), np.asarray(b))


class TaskFamilyConformance:
    """Contract, reproducibility, split hygiene, gymnasium compliance, batched path."""

    #: Steps after which an episode that has not ended fails the check.
    max_episode_steps: int = 100_000

    @pytest.fixture
    def tasks(self) -> TaskDistribution:
        pytest.fail("a TaskFamilyConformance subclass must define a `tasks` fixture")

    def test_contract(self, tasks: Any) -> None:
        assert isinstance(tasks, TaskDistribution), "the distribution lacks part of the TaskDistribution protocol"
        assert isinstance(tasks.name, str) and tasks.name
        assert isinstance(tasks.episodes_per_trial, (int, np.integer)) and tasks.episodes_per_trial >= 1

    def test_sampling_is_reproducible(self, tasks: Any) -> None:
        a, b = tasks.sample(5, seed=7, split="train"), tasks.sample(5, seed=7, split="train")
        assert [t.seed for t in a] == [t.seed for t in b]
        assert all(pickle.loads(pickle.dumps(x)) == y for x, y in zip(a, b)), "tasks must pickle and compare equal"
        assert [t.seed for t in a] != [t.seed for t in tasks.sample(5, seed=8, split="train")]
        assert {t.family for t in a} == {tasks.name}

    def test_splits_are_disjoint(self, tasks: Any) -> None:
        offered = [s for s in SPLITS if _offered(tasks, s)]
        assert "train" in offered and "test" in offered, "every family offers train and test tasks"
        seeds = {s: {t.seed for t in tasks.sample(100, seed=0, split=s)} for s in offered}
        for i, s in enumerate(offered):
            for other in offered[i + 1 :]:
                assert not seeds[s] & seeds[other], f"{s} and {other} share task seeds"

    @pytest.mark.parametrize("split", SPLITS)
    def test_env_passes_gymnasium_check(self, tasks: Any, split: str) -> None:
        if not _offered(tasks, split):  # refused in one line (checked there)
            return
        env = tasks.make_env(tasks.sample(1, seed=1, split=split)[0])
        assert env.action_space == tasks.action_space
        assert env.observation_space == tasks.observation_space
        check_env(env, skip_render_check=True)

    def test_env_is_deterministic_under_seed(self, tasks: Any) -> None:
        task = tasks.sample(1, seed=2, split="test")[0]
        space = tasks.action_space
        space.seed(0)
        actions = [space.sample() for _ in range(30)]
        runs = []
        for _ in range(2):
            env = tasks.make_env(task)
            obs, _ = env.reset(seed=3)
            trace = [obs]
            for a in actions:
                obs, r, term, trunc, _ = env.step(a)
                trace += [obs, r]
                if term or trunc:
                    obs, _ = env.reset()
                    trace.append(obs)
            runs.append(trace)
        assert all(_same(x, y) for x, y in zip(*runs)), "the same task, seed and actions gave different results"

    def test_episodes_end(self, tasks: Any) -> None:
        env = tasks.make_env(tasks.sample(1, seed=4, split="test")[0])
        env.reset(seed=0)
        env.action_space.seed(0)
        for _ in range(self.max_episode_steps):
            _, _, term, trunc, _ = env.step(env.action_space.sample())
            if term or trunc:
                return
        pytest.fail(f"an episode did not end within {self.max_episode_steps} steps; truncate it")

    def test_vector_env(self, tasks: Any) -> None:
        make_vec = getattr(tasks, "make_vector_env", None)
        if make_vec is None:
            pytest.skip("no batched fast path")
        batch = tasks.sample(4, seed=5, split="test")
        try:
            venv = make_vec(batch)
        except NotImplementedError as exc:
            pytest.skip(str(exc))
        assert venv.num_envs == 4
        assert venv.single_action_space == tasks.action_space
        assert venv.single_observation_space == tasks.observation_space
        assert venv.metadata.get("autoreset_mode") in (AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP)
        obs, _ = venv.reset(seed=0)
        assert obs.shape[0] == 4
        venv.action_space.seed(0)
        for _ in range(5):
            obs, rew, term, trunc, _ = venv.step(venv.action_space.sample())
            assert obs.shape[0] == 4 and np.shape(rew) == (4,) and np.shape(term) == (4,) and np.shape(trunc) == (4,)

    def test_spec_round_trip(self, tasks: Any) -> None:
        spec = getattr(tasks, "spec", None)
        if spec is None:
            pytest.skip("the distribution has no spec string")
        assert metaplastic.make_tasks(spec).spec == spec
