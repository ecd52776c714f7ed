"""Training that diverges stops (issue 13, Must 1): every outer loop (RL², MAML, ES) raises
TrainingDiverged naming the update and the likely cause, before the update reaches a
callback — a checkpointing callback never sees a non-finite state."""

from __future__ import annotations

import re

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import MetaplasticError, TrainingDiverged
from metaplastic.training.divergence import NonFinite, at_update, describe_nonfinite, nonfinite, require_finite
from metaplastic.training.es import ESSettings, EvolutionStrategy
from metaplastic.training.outer import run_outer_loop
from metaplastic.training.state import TrainState


class Watcher:
    """A StatefulCallback (as the CLI's checkpointer is) that records whether every state it
    was handed was finite, and a copy of the last one."""

    def __init__(self, finite_of):
        self.finite_of, self.updates, self.all_finite, self.last = finite_of, [], True, None

    def on_update(self, metrics, state):
        self.updates.append(metrics["update"])
        finite, copy = self.finite_of(state)
        self.all_finite &= finite
        self.last = copy
        assert np.isfinite([v for v in metrics.values() if isinstance(v, float)]).all(), metrics


# -- the shared pieces --------------------------------------------------------------------------


def test_messages_say_what_and_how():
    assert describe_nonfinite(float("inf")) == "inf"
    assert describe_nonfinite([1.0, np.nan, np.inf, -np.inf]) == "nan and inf in 3 of 4 values"
    assert nonfinite([1.0, 2.0], "the parameters") is None
    assert nonfinite([1.0, 1e39], "the parameters", limit=3.4e38) == \
        "the parameters are not finite (beyond ±3.4e+38 in 1 of 2 values)"
    with pytest.raises(NonFinite, match=r"^the loss is not finite \(nan\)$"):
        require_finite(float("nan"), "the loss")
    err = at_update(NonFinite("the policy's actions are not finite (inf in 1 of 2 values)"), 7, "lower lr")
    assert type(err) is TrainingDiverged and str(err) == \
        "update 7: the policy's actions are not finite (inf in 1 of 2 values); lower lr"
    assert isinstance(err, MetaplasticError)      # the CLI prints it on one line and exits 2


def _toy(values, check=None):
    """A toy loop whose update ``u`` reports ``values[u]`` as its loss."""
    state = TrainState(seed=0, params={"w": np.zeros(2)}, optimizer=None)
    seen = []

    def update(rng, fraction):
        v = values[state.progress.updates]
        state.params["w"] = np.full(2, v)
        return {"loss": v}, 1

    with pytest.raises(TrainingDiverged) as info:
        run_outer_loop(update, label="toy", budget=len(values), state=state, callback=seen.append,
                       show_progress=False, check=check, hint="lower lr")
    return str(info.value), seen


def test_the_loop_stops_at_a_non_finite_loss_metric_before_the_callback():
    message, seen = _toy([1.0, 2.0, float("inf"), 3.0])
    assert message == "update 3: the loss is not finite (inf); lower lr"
    assert [m["update"] for m in seen] == [1, 2]


def test_the_loop_stops_at_a_non_finite_state_and_checks_the_start():
    check = lambda s: nonfinite(s.params["w"], "the parameters")  # noqa: E731
    message, seen = _toy([1.0, float("nan")], check=check)
    assert message == "update 2: the parameters are not finite (nan in 2 of 2 values); lower lr"
    assert len(seen) == 1
    state = TrainState(seed=0, params={"w": np.array([np.nan])}, optimizer=None)
    with pytest.raises(TrainingDiverged, match=r"^update 1: before it, the parameters are not finite .* is corrupt$"):
        run_outer_loop(lambda rng, f: ({}, 1), label="toy", budget=2, state=state, show_progress=False, check=check)


# -- ES -----------------------------------------------------------------------------------------


def test_evolution_strategy_refuses_non_finite_fitness_and_keeps_its_state():
    es = EvolutionStrategy(np.zeros(3), ESSettings(population=4, sigma=0.1, lr=0.1))
    rng = np.random.default_rng(0)
    eps, _ = es.ask(rng)
    es.tell(eps, np.arange(4.0))
    before = (es.theta.copy(), es.m.copy(), es.v.copy(), es.t)
    eps, _ = es.ask(rng)
    with pytest.raises(TrainingDiverged, match=r"^the fitness is not finite \(nan in 1 of 4 values\); .*sigma=0\.1"):
        es.tell(eps, np.array([1.0, np.nan, 2.0, 3.0]))
    es_lr = EvolutionStrategy(np.zeros(3), ESSettings(population=4, sigma=0.1, lr=1e308))
    eps, _ = es_lr.ask(rng)
    for _ in range(2):  # the mean steps to ~1e308, then past the float64 range
        try:
            es_lr.tell(eps, np.arange(4.0))
        except TrainingDiverged as exc:
            assert str(exc).startswith("the search mean is not finite") and "lr=1e+308" in str(exc)
            break
    else:
        pytest.fail("an ES step past the float64 range was accepted")
    after = (es.theta, es.m, es.v, es.t)
    assert all(np.array_equal(x, y) for x, y in zip(before, after))


def _es_learner(**config):
    return metaplastic.make("numba", hidden=6, population=4, batch_tasks=4, seed=0, **config)


def _es_watcher():
    from metaplastic.spiking.es_train import state_net

    def finite_of(state):
        net = state_net(state)
        return bool(np.isfinite(state.optimizer.theta).all() and np.isfinite(net.w_rec).all()), \
            state.optimizer.theta.copy()

    return Watcher(finite_of)


def test_es_with_a_huge_sigma_stops_at_the_first_generation():
    w = _es_watcher()
    with pytest.raises(TrainingDiverged, match=r"^update 1: the candidates are not finite .*sigma=1e\+300 is probably "
                                               r"too large"):
        _es_learner(sigma=1e300).meta_train(metaplastic.make_tasks("bandits:k=2,n=3"), budget=3, seed=0,
                                             callback=w, show_progress=False)
    assert w.updates == []


def test_es_with_a_fitness_that_turns_nan_stops_and_keeps_the_last_good_search(monkeypatch):
    from metaplastic.spiking import es_train

    real = es_train.TrialReturnFitness

    class NaNFromTheThirdGeneration(real):
        calls = 0

        def __call__(self, job):
            type(self).calls += 1
            value = super().__call__(job)
            # one warm-up evaluation (compiling the kernels), then population 4: generations 1, 2 are fine
            return float("nan") if type(self).calls > 1 + 8 else value

    monkeypatch.setattr(es_train, "TrialReturnFitness", NaNFromTheThirdGeneration)
    learner, w = _es_learner(), _es_watcher()
    with pytest.raises(TrainingDiverged) as info:
        learner.meta_train(metaplastic.make_tasks("bandits:k=2,n=3"), budget=5, seed=0, callback=w,
                           show_progress=False)
    assert re.match(r"^update 3: the fitness is not finite \(nan in 4 of 4 values\); the perturbed networks probably "
                    r"overflow — lower sigma=0\.1", str(info.value)), str(info.value)
    assert w.updates == [1, 2] and w.all_finite


# -- torch: RL² and MAML ------------------------------------------------------------------------


def _torch_watcher():
    torch = pytest.importorskip("torch", reason="RL² and MAML need the 'torch' extra")

    def finite_of(state):
        params = [p.detach().clone() for p in state.params.parameters()]
        return bool(all(torch.isfinite(p).all() for p in params)), params

    return Watcher(finite_of)


@pytest.mark.parametrize("algo, tasks, config", [
    ("rl2", "bandits:k=5,n=10", {"hidden": 8}),
    ("maml", "nav2d:n=2,max_steps=10", {"mlp_hidden": 8}),
])
def test_a_huge_learning_rate_stops_training_naming_the_update(algo, tasks, config):
    w = _torch_watcher()
    learner = metaplastic.make("torch", algo=algo, batch_tasks=8, lr=1e30, seed=0, **config)
    with pytest.raises(TrainingDiverged) as info:
        learner.meta_train(metaplastic.make_tasks(tasks), budget=20, seed=0, callback=w, show_progress=False)
    message = str(info.value)
    assert "\n" not in message
    m = re.match(r"^update (\d+): the (loss|gradient norm|parameters|policy's actions) (is|are) not finite "
                 r"\(.+\); the learning rate lr=1e\+30 .*is probably too large — lower lr", message)
    assert m, message
    assert int(m.group(1)) == len(w.updates) + 1 >= 2       # update 1 is finite; the callback saw only good ones
    assert w.all_finite


def test_rl2_raises_before_the_optimizer_steps():
    """The loss turns non-finite at update 2: the weights stay those update 1 left."""
    torch = pytest.importorskip("torch", reason="RL² needs the 'torch' extra")
    w = _torch_watcher()
    learner = metaplastic.make("torch", hidden=8, batch_tasks=8, lr=1e30, seed=0)
    with pytest.raises(TrainingDiverged, match=r"^update 2: the loss is not finite \(inf\); the learning rate "
                                               r"lr=1e\+30 is probably too large — lower lr or max_grad_norm$"):
        learner.meta_train(metaplastic.make_tasks("bandits:k=5,n=10"), budget=20, seed=0, callback=w,
                           show_progress=False)
    for kept, now in zip(w.last, learner.model.parameters()):
        assert torch.equal(kept, now.detach())


def test_a_checkpointing_run_keeps_its_last_good_checkpoint(tmp_path):
    """The training checkpointer, saving after every update, never writes the diverged state."""
    torch = pytest.importorskip("torch", reason="RL² needs the 'torch' extra")
    from metaplastic.runs.rundir import RunDir
    from metaplastic.runs.training import Checkpointer

    learner = metaplastic.make("torch", hidden=8, batch_tasks=8, lr=1e30, seed=0)
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    writer = Checkpointer(run, learner, every_s=0.0)
    try:
        with pytest.raises(TrainingDiverged, match="^update 2: "):
            learner.meta_train(metaplastic.make_tasks("bandits:k=5,n=10"), budget=20, seed=0, callback=writer,
                               show_progress=False)
    finally:
        writer.close()
    saved = metaplastic.load(run.path)
    assert all(torch.isfinite(p).all() for p in saved.model.parameters())
    assert saved.load_train_state(run.path).progress.updates == 1
