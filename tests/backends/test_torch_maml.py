"""MAML in the torch backend: conformance on nav2d, adaptation at end_episode, sparse
(head-only) adaptation, first-order option, op counts of the inner loop."""

import numpy as np
import pytest

import metaplastic
from metaplastic.testing import LearnerConformance

torch = pytest.importorskip("torch", reason="the torch backend needs the 'torch' extra")

NAV = "nav2d:n=2,max_steps=20"


class TestTorchMAML(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("torch", algo="maml", mlp_hidden=16, batch_tasks=10, seed=0)

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks(NAV)

    @pytest.fixture
    def meta_train_budget(self):
        return 60  # updates (a few seconds)


def _trained(**kw):
    tasks = metaplastic.make_tasks(NAV)
    learner = metaplastic.make("torch", algo="maml", mlp_hidden=16, batch_tasks=6, seed=0, **kw)
    learner.meta_train(tasks, budget=3, seed=0, show_progress=False)
    return learner, tasks


def _play_one_episode(learner, tasks):
    agent = learner.vector_agent(tasks, 2)
    agent.reset([1, 2])
    venv = tasks.make_vector_env(tasks.sample(2, seed=0, split="test"))
    obs, _ = venv.reset(seed=0)
    before = {k: v.clone() for k, v in agent.params.items()}
    for _ in range(20):
        a = agent.act(obs, np.ones(2, bool))
        nxt, r, te, tr, _ = venv.step(a)
        agent.observe(obs, a, r, nxt, te, tr, np.ones(2, bool))
        obs = nxt
    ops_before = agent.ops()
    agent.end_episode(np.ones(2, bool))
    return agent, before, ops_before


@pytest.mark.parametrize("adapt", ["all", "head"])
def test_agent_adapts_at_end_of_episode(adapt):
    learner, tasks = _trained(adapt=adapt)
    agent, before, ops_before = _play_one_episode(learner, tasks)
    changed = {k for k, v in agent.params.items() if v.shape != before[k].shape or not torch.equal(v[0] if v.dim() > before[k].dim() else v, before[k])}
    if adapt == "head":
        assert changed and all(k.startswith("head.") for k in changed)
    else:
        assert any(k.startswith("body.") for k in changed)
    after = agent.ops()
    assert after.decisions == ops_before.decisions == 40
    assert after.macs > ops_before.macs  # the inner loop's forward and backward passes are counted


def test_head_only_adaptation_costs_less():
    costs = {}
    for adapt in ("all", "head"):
        learner, tasks = _trained(adapt=adapt)
        agent, _, ops_before = _play_one_episode(learner, tasks)
        costs[adapt] = agent.ops().macs - ops_before.macs
    assert costs["head"] < costs["all"]


def test_first_order_option_trains():
    tasks = metaplastic.make_tasks(NAV)
    learner = metaplastic.make("torch", algo="maml", mlp_hidden=16, batch_tasks=6, seed=0, first_order=True)
    before = [p.detach().clone() for p in learner.ensure_model(tasks).parameters()]
    state = learner.meta_train(tasks, budget=3, seed=0, show_progress=False)
    assert state.progress.updates == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, learner.model.parameters()))
