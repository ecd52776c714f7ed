import numpy as np
import pytest

import metaplastic
import metaplastic.core
from metaplastic.core import OpCounts
from metaplastic.errors import ConfigError


def test_random_on_bandits_is_half_per_pull():
    res = metaplastic.evaluate(metaplastic.make("random"), "bandits:k=5,n=10", n_tasks=1000, seed=0)
    lo, hi = res.return_ci95
    assert lo < res.return_mean < hi
    # the expected trial return of random play is n * E[p] = 5.0; 4 standard errors
    assert abs(res.return_mean - 5.0) < 4 * res.trial_returns.std(ddof=1) / np.sqrt(1000)
    assert res.ops.decisions == 10_000


def test_evaluation_is_reproducible_and_seed_sensitive():
    a = metaplastic.evaluate("random", "bandits:k=3,n=6", n_tasks=30, seed=5)
    b = metaplastic.evaluate("random", "bandits:k=3,n=6", n_tasks=30, seed=5)
    c = metaplastic.evaluate("random", "bandits:k=3,n=6", n_tasks=30, seed=6)
    assert np.array_equal(a.returns, b.returns)
    assert not np.array_equal(a.returns, c.returns)


def test_summary_has_the_pipeline_keys():
    s = metaplastic.evaluate("random", "bandits:k=3,n=4", n_tasks=5, episodes=6, split="ood", seed=0).summary()
    for key in ("backend", "tasks", "split", "n_tasks", "episodes", "return_mean", "return_ci95", "per_episode_mean"):
        assert key in s
    assert s["episodes"] == 6 and len(s["per_episode_mean"]) == 6 and s["split"] == "ood"
    assert s["tasks"].startswith("bandits:k=3,n=4")


class _Oracle:
    """Pulls the best arm: knows the task (for testing the harness only)."""

    name = "oracle-test"
    capabilities = metaplastic.core.Capabilities()

    def __init__(self, p):
        self.p = p

    def agent(self, tasks):
        outer = self

        class A:
            def reset(self, *, seed=None):
                self.n = 0

            def act(self, obs):
                self.n += 1
                return int(np.argmax(outer.p))

            def observe(self, t):
                pass

            def end_episode(self):
                pass

            def ops(self):
                return OpCounts(decisions=self.n)

        return A()


def test_returns_come_from_the_environment():
    tasks = metaplastic.make_tasks("bandits:k=4,n=50")
    task = tasks.sample(1, seed=0, split="test")[0]
    res = metaplastic.evaluate(_Oracle(task.params["p"]), tasks, n_tasks=1, seed=0)
    # the one task evaluated is the one sampled with the same seed and split
    best = max(task.params["p"])
    assert abs(res.return_mean - 50 * best) <= 4 * np.sqrt(50 * best * (1 - best)) + 1e-9


@pytest.mark.parametrize("kw, fragment", [
    ({"n_tasks": 0}, "n_tasks must be an integer >= 1"),
    ({"n_tasks": 2, "episodes": -1}, "episodes must be"),
    ({"n_tasks": 2, "split": "dev"}, "unknown split"),
])
def test_bad_arguments(kw, fragment):
    kw.setdefault("seed", 0)
    with pytest.raises(ConfigError, match=fragment):
        metaplastic.evaluate("random", "bandits", **kw)


class _Declared(_Oracle):
    """Declares a device and a spiking network through the core protocols."""

    device = "cpu:1"

    def spiking_net(self):
        class Net:
            dt = 1e-3

        return Net()


def test_optional_abilities_are_read_from_the_declared_protocols():
    tasks = metaplastic.make_tasks("bandits:k=4,n=5")
    res = metaplastic.evaluate(_Declared([0.1, 0.9, 0.2, 0.3]), tasks, n_tasks=3, seed=0)
    assert res.extra == {"vectorized": False, "device": "cpu:1", "dt_s": 1e-3}
    with pytest.raises(ConfigError, match="has no batched path"):
        metaplastic.evaluate(_Oracle([0.5] * 4), tasks, n_tasks=2, seed=0, vectorized=True)


def test_a_nan_observation_is_a_one_line_error_naming_task_and_step():
    from metaplastic.errors import InvalidObservation
    from metaplastic.testing.conformance import _CorruptTasks

    tasks = metaplastic.make_tasks("bandits:k=3,n=4")
    bad = _CorruptTasks(tasks, np.array([np.nan], dtype=np.float32), at_step=0)
    first = tasks.sample(2, seed=7, split="test")[0]
    with pytest.raises(InvalidObservation) as err:  # (the batched loop: tests/runtime/test_trials.py)
        metaplastic.evaluate("random", bad, n_tasks=2, seed=7)
    msg = str(err.value)
    assert msg.startswith(f"corrupted bandits, task seed {first.seed}, episode 0, step 0: ") and "\n" not in msg


def test_the_summary_of_one_task_is_strict_json_with_reasons():
    # before: `evaluate --n-tasks 1 --json` printed Infinity (the interval of one task), not JSON
    import json

    s = metaplastic.evaluate("random", "bandits:k=5,n=10", n_tasks=1, seed=0).summary()
    json.loads(json.dumps(s, allow_nan=False))
    assert s["return_ci95"] is None and s["return_ci95_reason"] == "needs at least 2 tasks"
    assert s["per_episode_ci95_halfwidth"] == [None] * 10
    assert s["per_episode_ci95_halfwidth_reason"] == "needs at least 2 tasks"
    assert s["return_std"] == 0.0 and s["n_tasks"] == 1


def test_the_summary_of_normal_input_keeps_its_keys_and_values():
    res = metaplastic.evaluate("random", "bandits:k=3,n=4", n_tasks=5, seed=0)
    s = res.summary()
    assert s["return_ci95"] == list(res.return_ci95) and not any(k.endswith("_reason") for k in s)
    assert s["per_episode_ci95_halfwidth"] == res.per_episode_ci95.tolist()


def test_non_finite_statistics_become_null_with_a_reason():
    import json

    from metaplastic.evaluation import Evaluation

    returns = np.array([[1.0, np.inf], [0.0, 1.0]])
    ev = Evaluation("x", "bandits", "test", 0, returns, OpCounts(decisions=4), float("nan"),
                    extra={"dt_s": float("inf"), "nested": {"a": [1.0, float("nan")]}})
    with np.errstate(invalid="ignore"):
        s = ev.summary()
    json.dumps(s, allow_nan=False)
    assert s["return_mean"] is None and s["return_mean_reason"] == "not a finite number"
    assert s["return_ci95"] is None and s["return_ci95_reason"] == "not a finite number"
    assert s["per_episode_mean"] == [0.5, None] and s["wall_time_s"] is None
    assert s["nested"] == {"a": [1.0, None]} and s["nested_reason"] == "not a finite number"


def test_evaluate_refuses_sizes_over_the_limits_before_running(monkeypatch):
    from metaplastic.errors import LimitExceeded
    from metaplastic.runtime import vector

    with pytest.raises(LimitExceeded, match=r"^bandits: a trial of 2000000 episodes x 1 steps"):
        metaplastic.evaluate("random", "bandits:k=3,n=4", n_tasks=2, episodes=2_000_000, seed=0)
    with pytest.raises(LimitExceeded, match=r"^evaluate: 10000000000 tasks x 4 episodes needs about \d+\.\d GiB of "
                                            r"memory, more than the \d+\.\d GiB available; use fewer tasks"):
        metaplastic.evaluate("random", "bandits:k=3,n=4", n_tasks=10**10, seed=0)
    monkeypatch.setattr(vector, "available_memory", lambda: 10**6)  # 1 MB: 1000 MDP tasks do not fit
    with pytest.raises(LimitExceeded, match=r"^evaluate: 1000 tasks x 10 episodes needs about \d+\.\d MiB of memory, more than the 1\.0 MiB"):
        metaplastic.evaluate("random", "mdp", n_tasks=1000, seed=0)
    assert metaplastic.evaluate("random", "mdp", n_tasks=2, seed=0).n_tasks == 2
