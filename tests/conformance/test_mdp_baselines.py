"""The conformance kit on the reference backends that serve the tabular MDP family."""

import pytest

import metaplastic
from metaplastic.testing import LearnerConformance


class _OnMDP(LearnerConformance):
    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("mdp:n=3")


class TestPSRL(_OnMDP):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("psrl", seed=0)


class TestGreedy(_OnMDP):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("greedy", seed=0)


class TestEpsGreedy(_OnMDP):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("eps-greedy", seed=0, epsilon=0.2)


class TestOracle(_OnMDP):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("oracle", seed=0)
