"""A plugin written only to the core contract (no vector_agent, no reveal_task, no
config_params, no observation checks of its own) passes the whole conformance kit: what
the environment hands an agent is the harness's to validate, not the plugin's."""

import importlib
import sys

import numpy as np
import pytest

import metaplastic
from metaplastic.core import (Configurable, DeviceLearner, PrivilegedAgent, SpikingExporter, VectorLearner)
from metaplastic.errors import InvalidObservation
from metaplastic.registry import BACKENDS
from metaplastic.testing import LearnerConformance
from tests.conftest import write_distribution


@pytest.fixture
def minimal_site(tmp_path, monkeypatch):
    site = write_distribution(tmp_path / "site", "metaplastic-minimal", "0.1.0",
                              {"metaplastic.backends": {"minimal": "minimal_plugin:MinimalLearner"}},
                              modules=("minimal_plugin",))
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    BACKENDS.refresh()
    yield site
    sys.modules.pop("minimal_plugin", None)
    BACKENDS.refresh()


class TestMinimalPlugin(LearnerConformance):
    @pytest.fixture
    def learner(self, minimal_site):
        return metaplastic.make("minimal")

    @pytest.fixture
    def meta_train_budget(self):
        return 1


class TestMinimalPluginOnATabularMDP(TestMinimalPlugin):
    """The same plugin on a family with Discrete observations (out-of-range states)."""

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("mdp")


def test_the_plugin_offers_nothing_optional(minimal_site):
    learner = metaplastic.make("minimal")
    agent = learner.agent(metaplastic.make_tasks("bandits:k=3,n=8"))
    for protocol in (VectorLearner, SpikingExporter, DeviceLearner, Configurable):
        assert not isinstance(learner, protocol), protocol.__name__
    assert not isinstance(agent, PrivilegedAgent)
    agent.reset(seed=0)
    assert agent.act(np.array([np.nan])) in range(3)  # it would act on NaN: checking is the harness's job


def test_evaluate_and_latency_run_it_and_check_its_inputs(minimal_site):
    from metaplastic.bench.latency import decision_latency
    from metaplastic.testing.conformance import _CorruptTasks

    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    learner = metaplastic.make("minimal")
    res = metaplastic.evaluate(learner, tasks, n_tasks=20, seed=0)
    assert res.returns.shape == (20, 8) and res.extra == {"vectorized": False, "device": "cpu"}
    assert decision_latency(learner, tasks, decisions=50, warmup=5).samples == 50
    bad = _CorruptTasks(tasks, np.array([np.nan], dtype=np.float32), at_step=1)
    with pytest.raises(InvalidObservation, match=r"task seed \d+, episode 0, step 1: .*NaN"):
        metaplastic.evaluate(learner, bad, n_tasks=2, seed=0)
    with pytest.raises(InvalidObservation, match="NaN"):
        decision_latency(learner, bad, decisions=50, warmup=5)
