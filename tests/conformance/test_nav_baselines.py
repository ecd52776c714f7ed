"""The conformance kit on the navigation and control reference backends."""

import pytest

import metaplastic
from metaplastic.testing import LearnerConformance


class TestGridNaviBaselines(LearnerConformance):
    @pytest.fixture(params=["bayes-optimal", "oracle"])
    def learner(self, request):
        return metaplastic.make(request.param)

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("gridnavi:n=2")


class TestNav2DOracle(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("oracle")

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("nav2d:n=2,max_steps=30")


class TestCartPoleOracle(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("oracle")

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("cartpole-dyn:n=1,max_steps=50")
