import numpy as np
import pytest
from gymnasium import spaces

import metaplastic
from metaplastic.core import Capabilities, OpCounts, Task
from metaplastic.errors import InvalidObservation, MetaplasticError
from metaplastic.runtime.observations import check_observation


def test_opcounts_add_and_per_decision():
    total = OpCounts(macs=4, synaptic_events=2, decisions=2) + OpCounts(macs=2, decisions=1)
    assert total == OpCounts(macs=6, synaptic_events=2, decisions=3)
    assert total.per_decision()["macs"] == 2.0
    assert OpCounts().per_decision()["macs"] == 0.0


def test_capabilities_defaults_and_applies_to():
    c = Capabilities()
    assert (c.meta_train, c.spiking, c.devices, c.exports) == (False, False, ("cpu",), ())
    assert c.applies_to("anything")
    assert not Capabilities(families=("mdp",)).applies_to("bandits")


def test_task_is_frozen():
    t = Task(family="bandits", params={"p": (0.1,)}, seed=1)
    with pytest.raises(AttributeError):
        t.seed = 2


@pytest.mark.parametrize("obs, fragment", [
    ([np.nan], "NaN"), ([0.1, 0.2], "shape (2,)"), ("abc", "not numeric"), ([np.inf], "infinity"),
])
def test_box_observations_are_checked(obs, fragment):
    with pytest.raises(InvalidObservation) as err:
        check_observation(spaces.Box(0, 1, (1,)), obs)
    assert fragment in str(err.value)


def test_discrete_observations_are_checked():
    assert check_observation(spaces.Discrete(3), np.int64(2)) == 2
    for bad in (3, 1.0, True, "x"):
        with pytest.raises(InvalidObservation):
            check_observation(spaces.Discrete(3), bad)


def test_act_before_reset_is_an_error():
    agent = metaplastic.make("random").agent(metaplastic.make_tasks("bandits"))
    with pytest.raises(MetaplasticError, match="reset"):
        agent.act([0.0])


def test_random_meta_train_says_it_has_none():
    with pytest.raises(MetaplasticError, match="no meta-training"):
        metaplastic.make("random").meta_train(metaplastic.make_tasks("bandits"), budget="1s", seed=0)
