"""Success at any step of an episode, read from the env's ``info["success"]``, through both
trial loops and both autoreset modes."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from metaplastic.runtime.vector import drive_trials


class Blink(gymnasium.Env):
    """Episodes of 3 steps; ``info["success"]`` is set on step ``when`` of episodes in ``good``."""

    def __init__(self, when: int, good: set[int]):
        self.observation_space = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.when, self.good, self.episode, self.t = when, good, -1, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        success = float(self.t == self.when and self.episode in self.good)
        return np.zeros(1, dtype=np.float32), 0.0, False, self.t >= 3, {"success": success}


@pytest.mark.parametrize("mode", [AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP])
def test_an_episode_succeeds_if_success_is_set_at_any_step(mode):
    # lane 0 succeeds mid-episode in episodes 0 and 2; lane 1 on its last step of episode 1
    venv = SyncVectorEnv([lambda: Blink(2, {0, 2}), lambda: Blink(3, {1})], autoreset_mode=mode)
    successes = np.zeros((2, 3), dtype=bool)
    drive_trials(venv, 3, env_seed=0, act=lambda obs, decide: np.zeros(2, dtype=np.int64), successes=successes)
    assert successes.tolist() == [[True, False, True], [False, True, False]]


def test_the_per_agent_loop_reads_success_too():
    import metaplastic
    from metaplastic.runtime.trials import trial_steps

    env = Blink(3, {1})
    agent = metaplastic.make("random").agent(_Family(env))
    agent.reset(seed=0)
    flags = [(d.episode, d.step, d.success) for d in trial_steps(agent, env, 2, seed=0)]
    assert [f for f in flags if f[2]] == [(1, 2, True)]


class _Family:
    name = "blink"
    episodes_per_trial = 2

    def __init__(self, env):
        self.observation_space, self.action_space = env.observation_space, env.action_space


def test_success_rate_interval_stays_in_the_unit_interval():
    """A success rate's interval is Wilson's: never below 0 or above 1, and not of zero width
    when no task (or every task) succeeded; where Student's t would give [-0.008, 0.128]."""
    from metaplastic.evaluation import Evaluation
    from metaplastic.core import OpCounts

    def evaluation(successes):
        s = np.asarray(successes, dtype=bool)
        return Evaluation(backend="b", tasks="t", split="test", seed=0, returns=np.zeros(s.shape), ops=OpCounts(),
                          wall_time_s=0.0, successes=s, scored_episodes=range(1, s.shape[1]))

    few = evaluation([[False, True]] * 3 + [[False, False]] * 47)
    lo, hi = few.success_rate_ci95
    assert few.success_rate == 0.06 and 0.0 < lo < 0.06 < hi < 0.2
    assert few.summary()["success_rate_ci95"] == [lo, hi]
    lo, hi = evaluation([[True, False]] * 50).success_rate_ci95
    assert lo == 0.0 and 0.05 < hi < 0.1
    lo, hi = evaluation([[False, True]] * 50).success_rate_ci95
    assert 0.9 < lo < 0.95 and hi == 1.0


def test_rate_interval_is_exact_at_the_extremes():
    from metaplastic.metrics.stats import rate_ci95

    for n in (1, 30, 48, 50, 1000):
        assert rate_ci95(np.zeros(n))[0] == 0.0 and rate_ci95(np.ones(n))[1] == 1.0
        lo, hi = rate_ci95(np.r_[np.ones(1), np.zeros(n - 1)])
        assert 0.0 <= lo <= 1 / n <= hi <= 1.0
