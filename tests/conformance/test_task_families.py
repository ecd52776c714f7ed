"""The kit's task checks on every built-in task family."""

import pytest

import metaplastic
from metaplastic.registry import TASKS
from metaplastic.testing import TaskFamilyConformance

SMALL = {"bandits": "bandits:k=3,n=5", "metaworld": "metaworld:max_steps=50"}


# every built-in family whose extra is installed (the Makefile installs them all)
@pytest.fixture(params=[n for n in TASKS.names() if TASKS.info(n).distribution == "metaplastic" and TASKS.info(n).available])
def family(request):
    return request.param


@pytest.mark.filterwarnings("ignore:.*infinity")  # CartPole's own unbounded velocity space
class TestBuiltinFamilies(TaskFamilyConformance):
    @pytest.fixture
    def tasks(self, family):
        return metaplastic.make_tasks(SMALL.get(family, family))
