"""A third-party plugin, installed as a distribution with entry points, passes the kit."""

import pytest

import metaplastic
from metaplastic.testing import LearnerConformance


class TestProbePlugin(LearnerConformance):
    @pytest.fixture
    def learner(self, plugin_site):
        return metaplastic.make("probe")

    @pytest.fixture
    def meta_train_budget(self):
        return 1


class TestUnavailablePluginIsSkippedOrRequired(LearnerConformance):
    """A backend whose extra is missing is skipped (or fails under METAPLASTIC_REQUIRE_BACKENDS)."""

    @pytest.fixture
    def learner(self, plugin_site):
        return metaplastic.make("needs-extra")


GENERATED = """
import pytest
from metaplastic.errors import BackendUnavailable
from metaplastic.testing import LearnerConformance

class TestGhost(LearnerConformance):
    @pytest.fixture
    def learner(self):
        raise BackendUnavailable("backend 'ghost' cannot be used here: needs ghostlib", name="ghost")
"""


@pytest.mark.parametrize("required, outcome", [("", {"skipped": 10}), ("ghost", {"errors": 10}), ("other", {"skipped": 10})])
def test_missing_backend_skips_unless_required(pytester, monkeypatch, required, outcome):
    monkeypatch.setenv("METAPLASTIC_REQUIRE_BACKENDS", required)
    pytester.makepyfile(test_ghost=GENERATED)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-o", "addopts=")
    result.assert_outcomes(**outcome)
