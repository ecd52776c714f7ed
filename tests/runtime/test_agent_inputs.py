"""The shared validator of what an agent is handed (AgentInputs), on its own: the spaces,
the stated tolerance on Box bounds, exactness elsewhere, one-line messages, and its cost."""

from __future__ import annotations

import time

import numpy as np
import pytest
from gymnasium import spaces

from metaplastic.core import Transition
from metaplastic.errors import InvalidInput, InvalidObservation
from metaplastic.runtime.observations import BOUND_TOLERANCE, AgentInputs, ObservationCheck, check_observation

UNIT = spaces.Box(0.0, 1.0, (1,), dtype=np.float32)


def test_box_bounds_have_the_stated_tolerance_and_the_harness_none():
    check = AgentInputs(spaces.Box(-2.0, 10.0, (2,), dtype=np.float32))
    edge = 10.0 + 0.9 * BOUND_TOLERANCE * 11  # relative and absolute: tol * (1 + |bound|)
    assert check.observation([edge, -2.0 - 0.9 * BOUND_TOLERANCE * 3]).tolist() == [edge, -2.0 - 0.9 * BOUND_TOLERANCE * 3]
    with pytest.raises(InvalidInput, match=r"^act: obs=.* is not in the observation space Box\(-2\.0, 10\.0"):
        check.observation([10.0 + 2 * BOUND_TOLERANCE * 11, 0.0])
    exact = ObservationCheck(spaces.Box(-2.0, 10.0, (2,), dtype=np.float32))
    assert exact.problem(np.array([edge, 0.0])) is not None  # the harness checks the env exactly
    per_coordinate = AgentInputs(spaces.Box(np.array([0.0, -1.0]), np.array([1.0, 5.0]), dtype=np.float64))
    per_coordinate.observation([1.0 + 1e-7, 5.0 + 5e-6])
    with pytest.raises(InvalidInput, match="within the space's low .. high, bounds tolerance 1e-06"):
        per_coordinate.observation([0.0, 5.1])
    unbounded = AgentInputs(spaces.Box(-np.inf, np.inf, (1,)))
    unbounded.observation([1e300])
    with pytest.raises(InvalidInput, match=r"\(an array of shape \(1,\) of finite real numbers\): it contains NaN"):
        unbounded.observation([np.nan])


def test_discrete_and_multibinary_are_exact():
    check = AgentInputs(spaces.Discrete(3, start=1), spaces.MultiBinary(2))
    assert check.observation(np.int64(3)) == 3 and type(check.observation(np.int64(3))) is int
    for bad in (0, 4, 1.0, True, np.bool_(True), "1", np.array([1])):
        with pytest.raises(InvalidInput, match=r"^act: obs=.* is not in the observation space Discrete\(3, start=1\) "
                                               r"\(an integer 1 <= x < 4\)$"):
            check.observation(bad)
    t = Transition(1, np.array([0, 1], dtype=np.int8), 0.0, 2, False, False)
    check.transition(t)
    with pytest.raises(InvalidInput, match=r"^observe: transition\.action=\[0 2\] is not in the action space "
                                           r"MultiBinary\(2\) \(a member of the space, exactly\)"):
        check.transition(Transition(1, np.array([0, 2], dtype=np.int8), 0.0, 2, False, False))


def test_box_actions_shape_and_bounds():
    check = AgentInputs(UNIT, spaces.Box(-0.1, 0.1, (2,), dtype=np.float32))
    obs = np.zeros(1, dtype=np.float32)
    check.transition(Transition(obs, np.array([0.1, -0.1], dtype=np.float32), -1.0, obs, False, True))
    for bad, why in ((np.array([0.2, 0.0]), "it is outside the bounds"), (np.zeros(3), "it has shape (3,)"),
                     ([0.0, np.inf], "it contains NaN or infinity"), ("ab", "it is not numeric")):
        with pytest.raises(InvalidInput) as err:
            check.transition(Transition(obs, bad, -1.0, obs, False, True))
        assert str(err.value).startswith("observe: transition.action=") and why in str(err.value)


def test_without_an_action_space_actions_are_not_checked():
    check = AgentInputs(UNIT)
    obs = np.zeros(1, dtype=np.float32)
    check.transition(Transition(obs, -1, 1.0, obs, True, False))


def test_messages_are_one_line_even_for_long_values():
    check = AgentInputs(spaces.Box(0.0, 1.0, (50, 50)))
    with pytest.raises(InvalidInput) as err:
        check.observation(np.full((50, 50), 2.0))
    assert "\n" not in str(err.value) and len(str(err.value)) < 600


def test_check_observation_is_the_same_check_with_the_harness_error():
    with pytest.raises(InvalidObservation, match=r"^observation=\[5\.0\] is not in the observation space"):
        check_observation(UNIT, [5.0])
    assert check_observation(UNIT, np.float32([1.0])).dtype == np.float64


def test_the_check_costs_about_a_microsecond():
    check = AgentInputs(UNIT, spaces.Discrete(5))
    obs = np.zeros(1, dtype=np.float32)
    t = Transition(obs, 3, 1.0, obs, True, False)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(2000):
            check.observation(obs)
            check.transition(t)
        best = min(best, (time.perf_counter() - t0) / 2000)
    assert best < 20e-6  # a few µs on a loaded machine; ~1.5 µs for both on an idle one
