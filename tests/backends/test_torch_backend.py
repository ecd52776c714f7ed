"""The dense torch backend: conformance (with a short RL² meta-training), op counts from
layer shapes, checkpoints, devices."""

import pickle

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runs.rundir import RunDir
from metaplastic.testing import LearnerConformance

torch = pytest.importorskip("torch", reason="the torch backend needs the 'torch' extra")


class TestTorchRL2(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("torch", algo="rl2", hidden=32, batch_tasks=128, seed=0)

    @pytest.fixture
    def meta_train_budget(self):
        return 600  # updates: about 7 s on 2 cores, trial return ~4.7 against random's 4.0


def test_macs_per_decision_come_from_layer_shapes():
    tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    learner = metaplastic.make("torch", hidden=16)
    res = metaplastic.evaluate(learner, tasks, n_tasks=3, seed=0)
    inp = 1 + 5 + 2  # obs, one-hot previous action, previous reward, boundary flag
    gru = 3 * (inp * 16 + 16 * 16) + 3 * 16
    head = 16 * 5
    assert res.ops.decisions == 30
    assert res.ops.macs == 30 * (gru + head)
    params = sum(p.numel() for p in learner.model.core.parameters()) + sum(p.numel() for p in learner.model.head.parameters())
    assert res.ops.mem_bytes == 30 * (4 * params + 2 * 4 * 16)


def test_training_improves_and_is_reproducible():
    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    a = metaplastic.make("torch", hidden=16, batch_tasks=32, seed=1)
    b = metaplastic.make("torch", hidden=16, batch_tasks=32, seed=1)
    logs = [], []
    a.meta_train(tasks, budget=5, seed=3, callback=logs[0].append, show_progress=False)
    b.meta_train(tasks, budget=5, seed=3, callback=logs[1].append, show_progress=False)
    assert [m["trial_return"] for m in logs[0]] == [m["trial_return"] for m in logs[1]]
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)


def test_resumed_training_equals_uninterrupted(tmp_path):
    tasks = metaplastic.make_tasks("bandits:k=3,n=6")
    whole = metaplastic.make("torch", hidden=16, batch_tasks=16)
    whole.meta_train(tasks, budget=6, seed=0, show_progress=False)
    half = metaplastic.make("torch", hidden=16, batch_tasks=16)

    class Stop(Exception):
        pass

    class Interrupt:  # a StatefulCallback: it gets the loop's state, as `metaplastic train`'s checkpointer does
        def on_update(self, metrics, state):
            if metrics["update"] == 3:
                half.save_checkpoint(tmp_path / "run", state)
                raise Stop

    with pytest.raises(Stop):
        half.meta_train(tasks, budget=6, seed=0, callback=Interrupt(), show_progress=False)
    resumed = metaplastic.load(tmp_path / "run")
    state = resumed.load_train_state(tmp_path / "run")
    assert state.progress.updates == 3
    resumed.meta_train(tasks, budget=6, seed=0, show_progress=False, state=state)
    for pa, pb in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_corrupt_and_foreign_checkpoints_get_clear_errors(tmp_path):
    tasks = metaplastic.make_tasks("bandits:k=3,n=6")
    learner = metaplastic.make("torch", hidden=8, batch_tasks=8)
    learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    learner.save(tmp_path / "run")
    policy = RunDir(tmp_path / "run").file(RunDir.POLICY)  # in the published checkpoint
    policy.write_bytes(b"garbage")
    with pytest.raises(RunDirError, match="corrupt or not a metaplastic checkpoint"):
        metaplastic.load(tmp_path / "run")

    class Evil:
        def __reduce__(self):
            return (print, ("arbitrary code ran",))

    policy.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(RunDirError, match="corrupt or not a metaplastic checkpoint"):
        metaplastic.load(tmp_path / "run")
    torch.save({"core.weight": torch.zeros(2, 2)}, policy)
    with pytest.raises(RunDirError, match="does not fit"):
        metaplastic.load(tmp_path / "run")


def test_learner_refuses_tasks_with_other_spaces():
    learner = metaplastic.make("torch", hidden=8)
    learner.agent(metaplastic.make_tasks("bandits:k=3"))
    with pytest.raises(ConfigError, match="spaces differ"):
        learner.agent(metaplastic.make_tasks("bandits:k=4"))


def test_device_choice():
    if torch.cuda.is_available():
        assert metaplastic.make("torch", device="auto").device == "cuda"
    else:
        assert metaplastic.make("torch", device="auto").device == "cpu"
        with pytest.raises(ConfigError, match="CUDA is not available"):
            metaplastic.make("torch", device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_trains_and_acts_on_cuda():
    tasks = metaplastic.make_tasks("bandits:k=3,n=6")
    learner = metaplastic.make("torch", device="cuda", hidden=16, batch_tasks=32)
    learner.meta_train(tasks, budget=3, seed=0, show_progress=False)
    res = metaplastic.evaluate(learner, tasks, n_tasks=20, seed=0)
    assert res.summary()["device"] == "cuda" and next(learner.model.parameters()).is_cuda


def test_gaussian_head_for_continuous_actions():
    tasks = metaplastic.make_tasks("nav2d:n=2,max_steps=10")
    learner = metaplastic.make("torch", hidden=8, batch_tasks=4)
    learner.meta_train(tasks, budget=2, seed=0, show_progress=False)
    res = metaplastic.evaluate(learner, tasks, n_tasks=4, seed=0)
    assert np.isfinite(res.return_mean)


def test_init_warm_starts_from_a_run(tmp_path):
    tasks = metaplastic.make_tasks("bandits:k=3,n=5")
    src = metaplastic.make("torch", hidden=8, batch_tasks=8, seed=1)
    src.meta_train(tasks, budget=2, seed=0, show_progress=False)
    src.save(tmp_path / "src")
    warm = metaplastic.make("torch", hidden=8, seed=2, init=str(tmp_path / "src"))
    warm.ensure_model(tasks)
    for a, b in zip(warm.model.parameters(), src.model.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(RunDirError, match="does not exist"):
        metaplastic.make("torch", hidden=8, init=str(tmp_path / "nope")).ensure_model(tasks)
    with pytest.raises(RunDirError, match="does not fit"):
        metaplastic.make("torch", hidden=16, init=str(tmp_path / "src")).ensure_model(tasks)


def test_init_rl2_plastic_from_an_rl2_run(tmp_path):
    pytest.importorskip("snntorch")
    tasks = metaplastic.make_tasks("bandits:k=3,n=5")
    src = metaplastic.make("snntorch", hidden=8, batch_tasks=8, seed=1)
    src.meta_train(tasks, budget=1, seed=0, show_progress=False)
    src.save(tmp_path / "src")
    plastic = metaplastic.make("snntorch", algo="rl2-plastic", hidden=8, init=str(tmp_path / "src"))
    plastic.ensure_model(tasks)
    assert torch.equal(plastic.model.w_rec.weight, src.model.w_rec.weight)
    assert not plastic.model.lr_rec_matrix().any()  # new parameters start fresh: no plasticity yet


def test_linear_lr_schedule_decays_to_zero_over_the_budget():
    tasks = metaplastic.make_tasks("bandits:k=3,n=4")
    logs: dict[str, list] = {"constant": [], "linear": []}
    for schedule, log in logs.items():
        learner = metaplastic.make("torch", hidden=8, batch_tasks=8, lr=0.01, lr_schedule=schedule)
        learner.meta_train(tasks, budget=4, seed=0, callback=log.append, show_progress=False)
    assert [m["lr"] for m in logs["constant"]] == [0.01] * 4
    assert [m["lr"] for m in logs["linear"]] == pytest.approx([0.01, 0.0075, 0.005, 0.0025])
    with pytest.raises(ConfigError, match="lr_schedule must be one of constant, linear"):
        metaplastic.make("torch", lr_schedule="cosine")
