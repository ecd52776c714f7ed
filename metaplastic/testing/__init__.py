"""The conformance kit shipped to plugin authors (needs pytest).

Example (a plugin's test file)::

    import pytest, metaplastic
    from metaplastic.testing import LearnerConformance

    class TestMine(LearnerConformance):
        @pytest.fixture
        def learner(self):
            return metaplastic.make("mine")
"""

from metaplastic.testing.conformance import LearnerConformance, play_trial
from metaplastic.testing.tasks import TaskFamilyConformance

__all__ = ["LearnerConformance", "TaskFamilyConformance", "play_trial"]
