"""The conformance kit on the bandit reference backends."""

import pytest

import metaplastic
from metaplastic.testing import LearnerConformance


@pytest.fixture(params=["greedy", "eps-greedy", "ucb1", "thompson", "gittins", "bayes-optimal", "oracle"])
def bandit_baseline(request):
    return request.param


class TestBanditBaselines(LearnerConformance):
    @pytest.fixture
    def learner(self, bandit_baseline):
        return metaplastic.make(bandit_baseline)
