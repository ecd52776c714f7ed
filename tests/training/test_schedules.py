"""Schedules follow progress in updates (issue 13, Must 9): an update budget reproduces a
run exactly; a time budget fixes a horizon H after its first update, records it, and
``--budget H`` reproduces the run exactly; a resumed run keeps H."""

from __future__ import annotations

import numpy as np
import pytest

from metaplastic.errors import RunDirError
from metaplastic.training import budget as budget_module
from metaplastic.training.budget import OVERRUN, Budget
from metaplastic.training.outer import run_outer_loop
from metaplastic.training.state import TrainProgress, TrainState

TIMING = ("elapsed_s", "update_s")


def _untimed(lines: list[dict]) -> list[dict]:
    return [{k: v for k, v in line.items() if k not in TIMING} for line in lines]


class FakeTime:
    """A ``time`` module whose clock moves only when an update says it spent time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(budget_module, "time", fake)
    return fake


def _run(budget, *, seed=0, state=None, costs=lambda u: 1.0, fake=None, stop_at=None):
    """A toy outer loop whose metrics depend on the randomness and the schedule fraction."""
    state = state or TrainState(seed=seed, params=None, optimizer=None)
    lines: list[dict] = []

    def update(rng, fraction):
        u = state.progress.updates
        if stop_at is not None and u == stop_at:
            raise KeyboardInterrupt
        if fake is not None:
            fake.now += costs(u)
        return {"x": float(rng.random()), "fraction": fraction, "lr": 0.1 * (1 - fraction)}, 4

    run_outer_loop(update, label="toy", budget=budget, state=state, callback=lines.append, show_progress=False)
    return state, lines


def test_an_update_budget_is_the_horizon_and_reproduces_exactly():
    state, a = _run(8)
    _, b = _run(8)
    assert _untimed(a) == _untimed(b)
    assert [m["fraction"] for m in a] == [u / 8 for u in range(8)]
    assert state.progress.horizon == 8 and state.progress.updates == 8


def test_a_time_budget_fixes_the_horizon_after_the_first_update(fake_time):
    state, lines = _run("10s", fake=fake_time)           # every update costs 1 s: 10 fit
    assert state.progress.horizon == 10 and state.progress.updates == 10
    assert [m["fraction"] for m in lines] == [u / 10 for u in range(10)]


def test_two_time_budgeted_runs_with_one_seed_are_identical(fake_time):
    _, a = _run("10s", seed=4, fake=fake_time, costs=lambda u: 1.0 + 0.1 * (u % 3))
    _, b = _run("10s", seed=4, fake=fake_time, costs=lambda u: 1.0 + 0.1 * (u % 3))
    assert _untimed(a) == _untimed(b) and len(a) == 10


def test_the_update_budget_of_the_recorded_horizon_reproduces_a_time_budgeted_run(fake_time):
    # the first update is slow and the rest fast: the calibration is off, yet the run is reproducible
    timed, a = _run("20s", seed=2, fake=fake_time, costs=lambda u: 4.0 if u == 0 else 0.5)
    assert timed.progress.horizon == 5 == timed.progress.updates
    _, b = _run(timed.progress.horizon, seed=2)
    assert _untimed(a) == _untimed(b)


def test_a_run_far_over_its_time_budget_stops_early_and_records_it(fake_time):
    # 1 s for the first update fixes H = 10; then every update takes 3 s
    state, lines = _run("10s", fake=fake_time, costs=lambda u: 1.0 if u == 0 else 3.0)
    assert state.progress.horizon == 10
    assert state.progress.updates == 5 < state.progress.horizon   # 1 + 4 * 3 = 13 s >= 1.25 * 10 s
    assert lines[-1]["elapsed_s"] >= OVERRUN * 10
    # --budget H reproduces every line it made
    _, full = _run(state.progress.horizon)
    assert _untimed(full[: len(lines)]) == _untimed(lines)


def test_an_update_that_alone_spends_the_time_budget_is_the_whole_horizon(fake_time):
    state, lines = _run("2s", fake=fake_time, costs=lambda u: 5.0)
    assert (state.progress.updates, state.progress.horizon) == (1, 1)
    assert lines[0]["fraction"] == 0.0


def test_a_resumed_time_budgeted_run_keeps_its_horizon(fake_time):
    whole, a = _run("10s", seed=1, fake=fake_time)
    half = TrainState(seed=1, params=None, optimizer=None)
    with pytest.raises(KeyboardInterrupt):
        _run("10s", state=half, fake=fake_time, stop_at=4)
    assert (half.progress.updates, half.progress.horizon) == (4, 10)
    # what a checkpoint saved, read back; the resumed session's updates are slower
    state = TrainState(seed=1, params=None, optimizer=None, progress=TrainProgress.from_dict(half.as_dict()))
    state, b = _run("10s", state=state, fake=fake_time, costs=lambda u: 1.2)
    assert state.progress.horizon == 10 and state.progress.updates == 10
    assert _untimed(b) == _untimed(a[4:])


def test_a_legacy_run_without_a_horizon_resumes_with_one_from_its_average_cost(fake_time):
    state = TrainState(seed=0, params=None, optimizer=None,
                       progress=TrainProgress.from_dict({"updates": 2, "seconds": 4.0, "tasks_seen": 8}))
    assert state.progress.horizon is None
    state, lines = _run("10s", state=state, fake=fake_time, costs=lambda u: 2.0)
    assert state.progress.horizon == 5 == state.progress.updates
    assert [m["fraction"] for m in lines] == [2 / 5, 3 / 5, 4 / 5]


def test_an_update_budget_ignores_a_saved_horizon():
    # an update budget's schedule is today's (bit-identical): over the budget given
    state = TrainState(seed=0, params=None, optimizer=None, progress=TrainProgress(updates=2, horizon=10))
    state, lines = _run(4, state=state)
    assert [m["fraction"] for m in lines] == [2 / 4, 3 / 4]
    assert state.progress.horizon == 4


def test_budget_clock_fraction_is_exactly_updates_over_budget():
    clock = Budget(updates=7).clock(updates_done=3)
    assert clock.fraction() == 3 / 7 and clock.horizon == 7


def test_progress_round_trips_and_rejects_wrong_shapes():
    p = TrainProgress(updates=3, seconds=1.5, tasks_seen=12, horizon=9)
    assert TrainProgress.from_dict(p.__class__(**p.__dict__).__dict__) == p
    assert TrainState(seed=0, params=None, optimizer=None, progress=p).as_dict() == \
        {"updates": 3, "seconds": 1.5, "tasks_seen": 12, "horizon": 9}
    assert TrainProgress.from_dict({"tasks": "bandits", "updates": 2}) == TrainProgress(updates=2)
    assert TrainProgress.from_dict(None) == TrainProgress()
    for bad, key in [({"updates": "3"}, "updates"), ({"updates": -1}, "updates"), ({"seconds": "x"}, "seconds"),
                     ({"seconds": float("nan")}, "seconds"), ({"horizon": 0}, "horizon"), ({"horizon": 2.5}, "horizon"),
                     ({"tasks_seen": True}, "tasks_seen")]:
        with pytest.raises(RunDirError, match=f"'{key}' must be"):
            TrainProgress.from_dict(bad)
    with pytest.raises(RunDirError, match="must be a JSON object"):
        TrainProgress.from_dict([1, 2])


# -- the real loops -----------------------------------------------------------------------------


def test_es_records_its_horizon_through_the_shared_loop():
    import metaplastic
    from metaplastic.spiking.es_fitness import random_net
    from metaplastic.spiking.es_train import ESSettings, init_es_state, train_es

    tasks = metaplastic.make_tasks("bandits:k=2,n=3")
    state = init_es_state(random_net(tasks, neurons=6, seed=0), ESSettings(population=4), seed=0)
    state = train_es(state, tasks, budget="0.5s", batch_tasks=4, show_progress=False)
    assert state.progress.horizon is not None and 1 <= state.progress.updates <= state.progress.horizon
    assert state.as_dict()["horizon"] == state.progress.horizon


def _torch_rl2_lines(budget, **config):
    import metaplastic

    learner = metaplastic.make("torch", hidden=8, batch_tasks=8, seed=0, lr=0.01, lr_schedule="linear", **config)
    lines: list[dict] = []
    state = learner.meta_train(metaplastic.make_tasks("bandits:k=2,n=3"), budget=budget, seed=5,
                               callback=lines.append, show_progress=False)
    return state, lines, learner


def test_torch_rl2_update_budget_reproduces_exactly():
    torch = pytest.importorskip("torch", reason="RL² needs the 'torch' extra")
    _, a, la = _torch_rl2_lines(5)
    _, b, lb = _torch_rl2_lines(5)
    assert _untimed(a) == _untimed(b)
    assert [m["ent_coef"] for m in a] == pytest.approx([0.05 * (1 - u / 5) for u in range(5)])
    for pa, pb in zip(la.model.parameters(), lb.model.parameters()):
        assert torch.equal(pa, pb)


def test_torch_rl2_time_budget_is_reproduced_by_its_recorded_horizon():
    torch = pytest.importorskip("torch", reason="RL² needs the 'torch' extra")
    timed, a, la = _torch_rl2_lines("1s")
    h = timed.progress.horizon
    assert h is not None and h >= 1 and timed.progress.updates == len(a)
    assert [m["lr"] for m in a] == pytest.approx([0.01 * (1 - u / h) for u in range(len(a))])
    again, b, lb = _torch_rl2_lines(h)
    assert _untimed(b[: len(a)]) == _untimed(a)   # all of them; a prefix if a loaded machine stopped it early
    if timed.progress.updates == h:
        assert again.as_dict()["horizon"] == h
        for pa, pb in zip(la.model.parameters(), lb.model.parameters()):
            assert torch.equal(pa, pb)
