"""Sizes are bounded (issue 13, Must 8): every size parameter has a documented upper bound,
a trial is at most MAX_TRIAL_STEPS decisions, and the products that make a task large are
bounded; going over is a one-line LimitExceeded (a ConfigError), before anything runs.
Every published setting stays inside."""

from __future__ import annotations

import json

import numpy as np
import pytest

import metaplastic
from metaplastic.cli import main
from metaplastic.errors import ConfigError, LimitExceeded
from metaplastic.tasks.base import MAX_TRIAL_STEPS

PUBLISHED = [
    # RL² Table 1 (bandits) and Table 2 (MDPs), the largest settings
    "bandits:k=50,n=500", "bandits:k=5,n=500", "bandits:k=10,n=100",
    "mdp:n=100,n_states=10,n_actions=5,horizon=10",
    "gridnavi:size=5,steps=15,n=4", "nav2d:max_steps=100,n=4", "cartpole-dyn:max_steps=500,n=2",
    # headroom: ten times the published sizes
    "bandits:k=500,n=5000", "mdp:n=1000,n_states=100,n_actions=50,horizon=100",
]


@pytest.mark.parametrize("spec", PUBLISHED)
def test_published_settings_are_inside_the_limits(spec):
    assert metaplastic.make_tasks(spec).name == spec.split(":")[0]


@pytest.mark.parametrize("spec, message", [
    # before: accepted, and an evaluation ran for ever
    ("bandits:k=100000,n=10000000", "bandits: k=100000 is above its limit of 1000 (number of arms)"),
    ("bandits:n=10000000", "bandits: n=10000000 is above its limit of 100000"),
    ("bandits:k=1000,n=100000", "bandits: k x n = 1000 x 100000 = 100000000 is above the limit of 10000000"),
    ("mdp:n_states=1000,n_actions=1000", "mdp: n_actions=1000 is above its limit of 100"),
    ("mdp:n_states=1000,n_actions=2", "mdp: n_states² x n_actions = 1000² x 2 = 2000000 transition probabilities"),
    ("mdp:n=10000,horizon=1000", f"the limit of {MAX_TRIAL_STEPS} decisions per trial"),
    ("gridnavi:n=10000,steps=1000", "gridnavi: a trial of 10000 episodes x 1000 steps = 10000000 decisions"),
    ("nav2d:max_steps=1000000", "nav2d: max_steps=1000000 is above its limit of 100000"),
    ("cartpole-dyn:n=10000,max_steps=500", "cartpole-dyn: a trial of 10000 episodes x 500 steps"),
])
def test_sizes_over_the_limits_are_one_line_errors(spec, message):
    with pytest.raises(LimitExceeded) as err:
        metaplastic.make_tasks(spec)
    msg = str(err.value)
    assert message in msg and "\n" not in msg and isinstance(err.value, ConfigError)


def test_a_bad_value_is_still_a_plain_config_error():
    for spec in ("bandits:k=x", "bandits:k=1", "mdp:n_actions=0"):
        with pytest.raises(ConfigError) as err:
            metaplastic.make_tasks(spec)
        assert not isinstance(err.value, LimitExceeded)


def test_the_limits_are_listed(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["tasks", "--json"])
    assert exc.value.code in (0, None)
    families = {t["name"]: {p["name"]: p["range"] for p in t["params"]} for t in json.loads(capsys.readouterr().out)["tasks"]}
    assert families["bandits"]["k"] == "an integer >= 2 and <= 1000"
    assert families["mdp"]["horizon"] == "an integer >= 1 and <= 10000"


def test_task_memory_estimates_grow_with_the_task():
    small, big = metaplastic.make_tasks("mdp"), metaplastic.make_tasks("mdp:n_states=100,n_actions=100")
    assert 0 < small.task_bytes() < big.task_bytes()
    tasks = big.sample(2, seed=0)
    floats = 2 * 100 * 100 * 101  # what the two tasks hold, as Python floats and arrays
    assert big.task_bytes() * 2 >= floats * 32
    assert np.asarray(tasks[0].params["transitions"]).size == 100 * 100 * 100
