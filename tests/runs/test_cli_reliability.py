"""`metaplastic train/evaluate/export/bench` on bad inputs and faults (issue 13): nothing
written before a command is known to be valid, no traceback for anything a user can cause
(one line, exit code 2), a run without its training state is an error, no checkpoint of a
diverged update, strict JSON."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from metaplastic.cli import main
from metaplastic.errors import TrainingDiverged
from metaplastic.runs.rundir import RunDir

FIXTURES = Path(__file__).parents[1] / "fixtures" / "runs_v0_1_0"
TRAIN = ["train", "--backend", "torch", "--algo", "rl2", "--tasks", "bandits:k=3,n=6", "--set", "hidden=8",
         "--set", "batch_tasks=8", "--seed", "0"]


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _refused(args: list[str], capsys, fragment: str) -> str:
    code, out, err = _run(args, capsys)
    assert code == 2, (out, err)
    errors = [line for line in err.splitlines() if line.startswith("metaplastic: error:")]
    assert "Traceback" not in err and len(errors) == 1, err  # a "resuming ..." note may come first
    assert fragment in errors[0], err
    return errors[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("trained") / "run"
    with pytest.raises(SystemExit) as exc:
        main([*TRAIN, "--budget", "2", "--out", str(out)])
    assert exc.value.code == 0
    return out


@pytest.fixture
def run(trained: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "run"
    shutil.copytree(trained, dst)
    return dst


def _evaluate(run: Path) -> list[str]:
    return ["evaluate", "--run", run, "--n-tasks", "4", "--json"]


# -- Must 5: nothing is written before the command is known to be valid ----------------------
def test_unreadable_init_writes_nothing_and_the_corrected_command_runs(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "r"
    _refused([*TRAIN, "--budget", "1", "--set", f"init={tmp_path / 'no' / 'such' / 'run'}", "--out", out], capsys,
             "init= must name a trained run directory")
    assert not out.exists()
    code, _, err = _run([*TRAIN, "--budget", "1", "--out", out], capsys)
    assert code == 0, err


def test_empty_out_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _refused([*TRAIN, "--budget", "1", "--out", ""], capsys, "--out is empty")
    _refused(["evaluate", "--backend", "random", "--tasks", "bandits", "--out", ""], capsys, "--out is empty")
    assert not list(tmp_path.iterdir())


def _ro(monkeypatch, folder: Path) -> None:
    """Make ``folder`` read-only (as root, chmod does not stop writes: os.access is faked)."""
    folder.chmod(0o555)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == folder else real(p, mode, **kw))


@pytest.mark.parametrize("command", [
    [*TRAIN, "--budget", "1"],
    ["evaluate", "--backend", "random", "--tasks", "bandits"],
    ["compare", "--backends", "random", "--tasks", "bandits"],
    ["export", "--run", "nowhere"],
    ["bench", "--backends", "random", "--quick"],
], ids=["train", "evaluate", "compare", "export", "bench"])
@pytest.mark.parametrize("where", ["read-only", "under-a-file"])
def test_out_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys, monkeypatch, command, where):
    import metaplastic.bench.runner as runner

    monkeypatch.setattr(runner, "run_bench", lambda *a, **k: pytest.fail("bench worked before checking --out"))
    base = tmp_path / "base"
    base.mkdir()
    if where == "read-only":
        _ro(monkeypatch, base)
        fragment = "is not writable"
    else:
        (base / "file").write_text("")
        base = base / "file"
        fragment = "is a file, not a folder"
    try:
        _refused([*command, "--out", base / "sub" / "out"], capsys, fragment)
    finally:
        (tmp_path / "base").chmod(0o755)
    assert not (tmp_path / "base" / "sub").exists()


def test_os_error_while_writing_is_one_line(tmp_path, capsys, monkeypatch):
    import metaplastic.runs.atomic as atomic

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(atomic, "atomic_write_bytes", full)
    target = tmp_path / "res.json"
    _refused(["evaluate", "--backend", "random", "--tasks", "bandits:k=3,n=4", "--n-tasks", "2", "--out", target],
             capsys, "No space left on device")
    assert not target.exists()


def test_os_error_inside_a_checkpoint_is_one_line_and_keeps_the_last(run, capsys, monkeypatch):
    import metaplastic.runs.rundir as rundir

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(rundir, "write_synced", full)
    _refused([*TRAIN, "--budget", "3", "--out", run], capsys, "No space left on device")
    assert RunDir(run).progress()["updates"] == 2
    assert [p.name for p in (run / "checkpoints").iterdir()] == [RunDir(run).file(RunDir.POLICY).parent.name]


# -- Must 6: out-of-range integers and run files of the wrong shape -------------------------------
@pytest.mark.parametrize("args, option", [
    (["evaluate", "--backend", "random", "--tasks", "bandits", "--episodes", "99999999999999999999"], "--episodes"),
    (["evaluate", "--backend", "random", "--tasks", "bandits", "--n-tasks", "99999999999999999999"], "--n-tasks"),
    (["evaluate", "--backend", "random", "--tasks", "bandits", "--seed", "99999999999999999999"], "--seed"),
    (["train", "--backend", "torch", "--tasks", "bandits", "--budget", "1", "--seed", "99999999999999999999",
      "--out", "r"], "--seed"),
    (["bench", "--n-tasks", "99999999999999999999"], "--n-tasks"),
])
def test_integers_too_large_are_one_line_errors(tmp_path, capsys, monkeypatch, args, option):
    monkeypatch.chdir(tmp_path)
    _refused(args, capsys, option)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("doc, fragment", [
    ([1, 2], "not a JSON object"),
    ({"tasks": "bandits:k=3,n=6", "updates": "x", "checkpoint": "KEEP", "files": "KEEP"}, '"updates" must be'),
    ({"tasks": ["bandits"], "checkpoint": "KEEP", "files": "KEEP"}, '"tasks" must be'),
    ({"tasks": "bandits:k=3,n=6", "seconds": "1 s", "checkpoint": "KEEP", "files": "KEEP"}, '"seconds" must be'),
])
@pytest.mark.parametrize("command", ["evaluate", "resume"])
def test_progress_json_of_the_wrong_shape(run, capsys, doc, fragment, command):
    if isinstance(doc, dict):
        old = json.loads((run / "progress.json").read_text())
        doc = {k: (old[k] if v == "KEEP" else v) for k, v in doc.items()}
    (run / "progress.json").write_text(json.dumps(doc))
    args = _evaluate(run) if command == "evaluate" else [*TRAIN, "--budget", "3", "--out", run]
    _refused(args, capsys, fragment)


@pytest.mark.parametrize("doc, fragment", [
    ([1], "not a JSON object"),
    ({"backend": "torch", "tasks": "bandits:k=3,n=6", "seed": "0", "config": {}}, '"seed" must be'),
    ({"backend": "torch", "tasks": "bandits:k=3,n=6", "seed": 0, "config": "hidden=8"}, '"config" must be'),
])
def test_train_json_of_the_wrong_shape(run, capsys, doc, fragment):
    (run / "train.json").write_text(json.dumps(doc))
    _refused([*TRAIN, "--budget", "3", "--out", run], capsys, fragment)


@pytest.mark.parametrize("doc, fragment", [
    ([1], 'has no "backend"'),
    ({"backend": "torch", "config": [1]}, '"config" must be an object'),
    ({"backend": "torch", "config": {"hidden": [8]}}, "is invalid"),
    ({"backend": "torch", "config": {"hidden": "many"}}, "is invalid"),
])
def test_config_json_of_the_wrong_shape(run, capsys, doc, fragment):
    RunDir(run).file(RunDir.CONFIG).write_text(json.dumps(doc))
    _refused(_evaluate(run), capsys, fragment)


@pytest.mark.parametrize("line", ['[1, 2]', '{"update": "x"}', '"just a string"'])
def test_metrics_lines_of_the_wrong_shape(run, capsys, line):
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write(line + "\n")
    _refused([*TRAIN, "--budget", "3", "--out", run], capsys, "line 3 is not a metrics object")


def test_evaluate_json_is_strict(trained, capsys):
    code, out, err = _run(["evaluate", "--run", trained, "--n-tasks", "1", "--json"], capsys)
    assert code == 0, err
    json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))


# -- Must 7: missing or partial training state is an error -------------------------------------------
@pytest.mark.parametrize("remove, fragment", [
    ("progress.json", "progress.json' is missing"),
    ("policy.pt", "lacks policy.pt"),
    ("optimizer.pt", "lacks optimizer.pt"),
    ("config.json", "lacks config.json"),
])
def test_a_run_without_its_training_state_is_an_error(run, capsys, remove, fragment):
    path = run / remove if remove == "progress.json" else RunDir(run).file(remove)
    path.unlink()
    _refused(_evaluate(run), capsys, fragment)
    _refused([*TRAIN, "--budget", "3", "--out", run], capsys, fragment)


@pytest.mark.parametrize("name, remove, fragment", [
    ("torch-rl2", "progress.json", "has no progress.json"),
    ("torch-rl2", "policy.pt", "records 3 updates but has no policy.pt"),
    ("numba-es", "progress.json", "has no progress.json"),
    ("numba-es", "net.npz", "has no net.npz"),
])
def test_an_old_run_without_its_training_state_is_an_error(tmp_path, capsys, name, remove, fragment):
    if name.startswith("torch"):
        pytest.importorskip("torch")
    run = tmp_path / name
    shutil.copytree(FIXTURES / name, run)
    (run / remove).unlink()
    _refused(_evaluate(run), capsys, fragment)


def test_an_old_run_without_its_optimizer_does_not_resume_from_scratch(tmp_path, capsys):
    pytest.importorskip("torch")
    run = tmp_path / "torch-rl2"
    shutil.copytree(FIXTURES / "torch-rl2", run)
    (run / "optimizer.pt").unlink()
    req = json.loads((run / "train.json").read_text())
    _refused(["train", "--backend", "torch", "--algo", "rl2", "--tasks", req["tasks"], "--set", "hidden=8",
              "--set", "batch_tasks=16", "--budget", "5", "--out", run], capsys, "has no optimizer.pt")


@pytest.mark.parametrize("backend, config", [("torch", {"hidden": 8}), ("numba", {"hidden": 4})])
def test_an_untrained_learner_saved_still_loads(tmp_path, backend, config):
    if backend == "torch":
        pytest.importorskip("torch")
    import metaplastic

    metaplastic.make(backend, **config).save(tmp_path / "run")
    loaded = metaplastic.load(tmp_path / "run")
    assert loaded.name == backend and RunDir(tmp_path / "run").progress()["tasks"] is None


# -- Must 1 (loading half): non-finite parameters are refused ------------------------------------------
def test_a_nan_weight_in_a_checkpoint_is_refused(run, capsys):
    import torch

    policy = RunDir(run).file(RunDir.POLICY)
    state = torch.load(policy, weights_only=True)
    key = next(iter(state))
    state[key] = state[key].clone().fill_(float("nan"))
    torch.save(state, policy)
    _refused(_evaluate(run), capsys, f"holds a NaN or an infinity in {key!r}")


def test_a_nan_in_a_numba_network_is_refused(tmp_path, capsys):
    run = tmp_path / "numba-es"
    shutil.copytree(FIXTURES / "numba-es", run)
    with np.load(run / "net.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["w_in"] = np.full_like(arrays["w_in"], np.inf)
    np.savez(run / "net.npz", **arrays)
    err = _refused(_evaluate(run), capsys, "w_in")
    assert "finite" in err or "infinity" in err


def test_divergence_writes_no_checkpoint_and_keeps_the_last_good_one(tmp_path, capsys, monkeypatch):
    pytest.importorskip("torch")
    from metaplastic.backends.base_torch import TorchModelLearner

    real = TorchModelLearner.meta_train

    def diverging(self, tasks, *, callback=None, **kw):
        class Guard:  # the outer loop raises before a bad update reaches the callback
            def on_update(self, metrics, state):
                if metrics["update"] == 3:
                    raise TrainingDiverged("update 3: loss is NaN; lower lr")
                callback.on_update(metrics, state)

        return real(self, tasks, callback=Guard(), **kw)

    monkeypatch.setattr(TorchModelLearner, "meta_train", diverging)
    out = tmp_path / "run"
    _refused([*TRAIN, "--budget", "5", "--checkpoint-every", "0", "--out", out], capsys, "update 3: loss is NaN")
    assert RunDir(out).progress()["updates"] == 2
    assert [m["update"] for m in RunDir(out).metrics()] == [1, 2]


def test_divergence_at_the_first_update_leaves_nothing(tmp_path, capsys, monkeypatch):
    pytest.importorskip("torch")
    from metaplastic.backends.base_torch import TorchModelLearner

    def diverging(self, tasks, **kw):
        raise TrainingDiverged("update 1: loss is NaN; lower lr")

    monkeypatch.setattr(TorchModelLearner, "meta_train", diverging)
    out = tmp_path / "run"
    _refused([*TRAIN, "--budget", "5", "--out", out], capsys, "update 1")
    assert not out.exists()


def test_an_optimizer_state_of_the_wrong_structure_is_refused_on_resume(run, capsys):
    import torch

    path = RunDir(run).file(RunDir.OPTIMIZER)
    saved = torch.load(path, weights_only=True)
    torch.save({"param_groups": saved["param_groups"]}, path)  # no "state"
    _refused([*TRAIN, "--budget", "3", "--out", run], capsys, "does not fit this model's optimizer")
    first = next(iter(saved["state"].values()))
    first["exp_avg"] = torch.zeros(7, 7)  # a moment of another shape
    torch.save(saved, path)
    _refused([*TRAIN, "--budget", "3", "--out", run], capsys, "does not fit this model's optimizer")


def test_an_es_search_of_the_wrong_shape_is_refused_on_resume(tmp_path, capsys):
    run = tmp_path / "numba-es"
    shutil.copytree(FIXTURES / "numba-es", run)
    with np.load(run / "es_state.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["m"] = arrays["m"][:-1]
    np.savez(run / "es_state.npz", **arrays)
    req = json.loads((run / "train.json").read_text())
    updates = json.loads((run / "progress.json").read_text())["updates"]
    args = ["train", "--backend", req["backend"], "--tasks", req["tasks"], "--budget", updates + 1,
            "--seed", req["seed"], "--out", run]
    for k, v in req["config"].items():
        args += ["--algo", v] if k == "algo" else ["--set", f"{k}={v}"]
    _refused(args, capsys, "does not fit this network's search")
