"""The two induction engines agree: on shared random trials of keydoor and blocks, the
programs clingo finds consistent are exactly those the enumeration engine leaves with zero
mispredictions; and the clingo-engine learner plays like the enumeration one."""

from __future__ import annotations

import numpy as np
import pytest

import metaplastic
from metaplastic.runtime.vector import drive_trials

pytest.importorskip("clingo", reason="the clingo engine needs the 'symbolic' extra (clingo)")


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["keydoor:steps=12,n=2", "keydoor:steps=5,n=1,keys=4,doors=4", "blocks:steps=15,n=2"])
def test_consistent_programs_agree(spec):
    tasks = metaplastic.make_tasks(spec)
    n = 30
    chunk = tasks.sample(n, seed=4, split="test")
    agents = {e: metaplastic.make("symbolic", prior="uniform", engine=e).vector_agent(tasks, n)
              for e in ("enumerate", "clingo")}
    rng = np.random.default_rng(1)
    for agent in agents.values():
        agent.reset(np.arange(n))

    def act(obs, active):
        for agent in agents.values():
            agent.act(obs, active)
        return rng.integers(tasks.action_space.n, size=n)

    def observe(*args):
        for agent in agents.values():
            agent.observe(*args)

    def end_episode(mask):
        for agent in agents.values():
            agent.end_episode(mask)

    drive_trials(tasks.make_vector_env(chunk), 2, env_seed=2, act=act, observe=observe, end_episode=end_episode)
    enum, solver = agents["enumerate"].inducer, agents["clingo"].inducer
    sizes = []
    for lane in range(n):
        m = enum.n_programs[lane]
        zero = np.flatnonzero(enum.mism[lane, :m] == 0)
        np.testing.assert_array_equal(np.flatnonzero(solver.consistent(lane)), zero)
        sizes.append(len(zero))
    assert min(sizes) >= 1 and max(sizes) > 1  # every trial keeps the truth; some stay ambiguous


def test_clingo_engine_learner_recovers_keydoor_rules():
    tasks = metaplastic.make_tasks("keydoor:n=2")
    learner = metaplastic.make("symbolic", engine="clingo", prior_tasks=500)
    learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    result = metaplastic.evaluate(learner, tasks, n_tasks=16, seed=3)
    oracle = metaplastic.evaluate("oracle", tasks, n_tasks=16, seed=3)
    assert result.return_mean >= 0.95 * oracle.return_mean
