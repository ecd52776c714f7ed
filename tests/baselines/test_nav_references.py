"""The navigation and control references: exact values where the play is deterministic,
standard errors of paired differences where it is random (4 SE, as elsewhere)."""

import numpy as np
import pytest

import metaplastic
from metaplastic.baselines.cartpole_policies import RICCATI_MACS
from metaplastic.metrics.stats import sem

N_TASKS = 500
STEPS = 15  # gridnavi's default episode length
N_SE = 4.0


def _bfs_distances(size):
    """Steps from the start (0, 0) to every cell, by breadth-first search over the 4 moves."""
    dist = {(0, 0): 0}
    frontier = [(0, 0)]
    while frontier:
        nxt = []
        for x, y in frontier:
            for dx, dy in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                cell = (x + dx, y + dy)
                if 0 <= cell[0] < size and 0 <= cell[1] < size and cell not in dist:
                    dist[cell] = dist[(x, y)] + 1
                    nxt.append(cell)
        frontier = nxt
    return dist


def _oracle_episode(d):
    """The return of an episode that reaches the goal at step d and stays: d-1 steps off it,
    then on it until the 15th step, summed in the order the steps happen."""
    total = 0.0
    for t in range(1, STEPS + 1):
        total += 1.0 if t >= d else -0.1
    return total


def _evaluate(backend, split="test", spec="gridnavi"):
    return metaplastic.evaluate(backend, spec, n_tasks=N_TASKS, seed=0, split=split)


@pytest.mark.parametrize("split", ["test", "ood"])
def test_gridnavi_oracle_return_is_exact(split):
    grid = metaplastic.make_tasks("gridnavi")
    dist = _bfs_distances(5)
    goals = grid.goals(grid.sample(N_TASKS, seed=0, split=split))
    expected = np.array([_oracle_episode(dist[tuple(g)]) for g in goals])
    res = _evaluate("oracle", split)
    assert np.array_equal(res.returns, np.repeat(expected[:, None], 4, axis=1))
    if split == "test":  # and the prior mean, over the 21 goal cells
        prior = [_oracle_episode(dist[tuple(c)]) for c in grid.goal_cells("train")]
        assert res.return_mean == pytest.approx(4 * np.mean(prior), abs=N_SE * sem(res.trial_returns))


def test_gridnavi_bayes_lies_between_random_and_oracle():
    bayes, oracle, rand = (_evaluate(b).trial_returns for b in ("bayes-optimal", "oracle", "random"))
    assert np.all(bayes <= oracle)  # per task: the oracle's return is the most a trial can earn
    for low, high in ((rand, bayes), (bayes, oracle)):  # paired: the same tasks
        diff = high - low
        assert diff.mean() > N_SE * sem(diff), (low.mean(), high.mean())


@pytest.mark.parametrize("split", ["test", "ood"])
def test_gridnavi_bayes_plays_like_the_oracle_once_it_found_the_goal(split):
    bayes, oracle = _evaluate("bayes-optimal", split).returns, _evaluate("oracle", split).returns
    found = bayes > -0.1 * STEPS + 0.05  # an episode that touched the goal earned at least one +1
    assert found.any(axis=1).all()  # within the trial, even off the prior (ood)
    later = np.arange(4)[None, :] > np.argmax(found, axis=1)[:, None]
    assert np.array_equal(bayes[later], oracle[later])


def test_nav2d_oracle_reaches_every_goal():
    nav = metaplastic.make_tasks("nav2d")
    tasks = nav.sample(200, seed=0) + nav.sample(200, seed=0, split="ood")
    agent = metaplastic.make("oracle").vector_agent(nav, len(tasks))
    agent.reset(np.arange(len(tasks)))
    agent.reveal_tasks(tasks)
    venv = nav.make_vector_env(tasks)
    obs, _ = venv.reset(seed=0)
    ended_at = np.zeros(len(tasks), dtype=int)
    reached = np.zeros(len(tasks), dtype=bool)
    for t in range(1, nav.max_steps + 1):
        obs, _, term, trunc, _ = venv.step(agent.act(obs, ended_at == 0))
        first = (ended_at == 0) & (term | trunc)
        ended_at[first], reached[first] = t, term[first]
    assert reached.all()
    # the fastest approach: 0.1 per axis until that axis is closed; done once within 0.01
    k = np.arange(1, nav.max_steps + 1)[None, :, None]
    left = np.maximum(np.abs(nav.goals(tasks) - 0.5)[:, None, :] - 0.1 * k, 0.0)
    assert np.array_equal(ended_at, 1 + np.argmax(np.hypot(left[..., 0], left[..., 1]) < 0.01, axis=1))


def test_cartpole_oracle_keeps_the_pole_up_and_counts_its_macs():
    res = metaplastic.evaluate("oracle", "cartpole-dyn:n=1", n_tasks=200, seed=0, split="train")
    assert (res.returns[:, 0] == 500).mean() >= 0.95
    lqr = res.ops.macs - 4 * res.ops.decisions  # 4 MACs of K s per decision, the rest is the Riccati solve
    assert lqr > 0 and lqr % (RICCATI_MACS * 200) == 0
    rand = metaplastic.evaluate("random", "cartpole-dyn:n=1", n_tasks=200, seed=0, split="train")
    assert rand.return_mean < 100
