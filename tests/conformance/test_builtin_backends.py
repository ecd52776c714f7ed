"""The conformance kit on every built-in backend."""

import pytest

import metaplastic
from metaplastic.testing import LearnerConformance


class TestRandom(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("random", seed=0)
