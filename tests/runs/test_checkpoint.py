"""RunDir's checkpoints: one unit, published in one step, read back as one; runs of 0.1.0
(every file at the top) read as they are; strict JSON; one-line errors for files of the
wrong shape (issue 13, Musts 3, 6, 7)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from metaplastic.errors import RunDirError
from metaplastic.runs.atomic import atomic_write_json
from metaplastic.runs.rundir import RunDir, finite_metrics


def _save(run: RunDir, updates: int, blob: bytes = b"x") -> None:
    with run.checkpoint(backend="random", config={"seed": updates}) as ckpt:
        ckpt.save_npz(RunDir.ES_STATE, {"mean": np.full(3, float(updates))})
        ckpt.write_progress(tasks="bandits:k=2", progress={"updates": updates})


def test_a_checkpoint_is_published_in_one_step_and_replaces_the_last(tmp_path):
    run = RunDir(tmp_path / "run")
    _save(run, 1)
    _save(run, 2)
    again = RunDir(run.path)
    assert again.progress()["updates"] == 2 and again.config()["config"] == {"seed": 2}
    assert again.load_npz(RunDir.ES_STATE, ("mean",))["mean"].tolist() == [2.0, 2.0, 2.0]
    assert [p.name for p in (run.path / "checkpoints").iterdir()] == ["000002"]
    assert json.loads((run.path / "config.json").read_text())["config"] == {"seed": 2}  # the copy for people


def test_a_failed_checkpoint_leaves_the_previous_one(tmp_path):
    run = RunDir(tmp_path / "run")
    _save(run, 1)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with run.checkpoint(backend="random", config={"seed": 9}) as ckpt:
            ckpt.save_npz(RunDir.ES_STATE, {"mean": np.zeros(3)})
            raise Boom
    again = RunDir(run.path)
    assert again.progress()["updates"] == 1 and again.config()["config"] == {"seed": 1}
    assert [p.name for p in (run.path / "checkpoints").iterdir()] == ["000001"]


def test_an_unpublished_folder_is_ignored_and_cleaned(tmp_path):
    run = RunDir(tmp_path / "run")
    _save(run, 1)
    stale = run.path / "checkpoints" / "000002"  # a kill inside the second checkpoint
    stale.mkdir()
    (stale / "es_state.npz").write_bytes(b"half")
    (run.path / ".progress.json.abc.tmp").write_text("{")
    assert RunDir(run.path).progress()["updates"] == 1
    _save(run, 3)
    assert [p.name for p in (run.path / "checkpoints").iterdir()] == ["000003"]
    assert not list(run.path.glob(".*.tmp"))


def test_an_old_flat_run_is_read_and_then_superseded(tmp_path):
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    atomic_write_json(run.path / "config.json", {"backend": "random", "config": {"seed": 0}, "format_version": 1})
    atomic_write_json(run.path / "progress.json", {"tasks": "bandits", "updates": 3})
    np.savez(run.path / "es_state.npz", mean=np.ones(2))
    assert run.has(RunDir.ES_STATE) and run.file(RunDir.ES_STATE) == run.path / "es_state.npz"
    assert run.progress()["updates"] == 3 and run.is_complete()
    _save(run, 4)
    assert not (run.path / "es_state.npz").exists()
    assert RunDir(run.path).load_npz(RunDir.ES_STATE, ("mean",))["mean"].tolist() == [4.0] * 3


@pytest.mark.parametrize("doc, fragment", [
    ([1, 2], "not a JSON object"),
    ({"updates": "x"}, '"updates" must be a whole number'),
    ({"updates": -1}, '"updates" must be a whole number'),
    ({"updates": True}, '"updates" must be a whole number'),
    ({"seconds": "x"}, '"seconds" must be a number'),
    ({"tasks_seen": 1.5}, '"tasks_seen" must be a whole number'),
    ({"tasks": 5}, '"tasks" must be a task spec'),
    ({"device": []}, '"device" must be a device name'),
    ({"checkpoint": "../../etc", "files": ["config.json"]}, '"checkpoint" must be a folder'),
    ({"checkpoint": "checkpoints/000001", "files": "config.json"}, '"files" must be the list'),
    ({"checkpoint": "checkpoints/000001"}, "without its files"),
    ({"checkpoint": "checkpoints/000009", "files": ["config.json"]}, "lacks config.json"),
])
def test_progress_of_the_wrong_shape_is_a_one_line_error(tmp_path, doc, fragment):
    run = RunDir(tmp_path / "run")
    _save(run, 1)
    (run.path / "progress.json").write_text(json.dumps(doc))
    with pytest.raises(RunDirError, match=fragment) as exc:
        RunDir(run.path).progress()
    assert "\n" not in str(exc.value)


def test_missing_files_of_the_published_checkpoint_are_errors(tmp_path):
    run = RunDir(tmp_path / "run")
    _save(run, 1)
    RunDir(run.path).file(RunDir.ES_STATE).unlink()
    with pytest.raises(RunDirError, match="lacks es_state.npz"):
        RunDir(run.path).has(RunDir.ES_STATE)
    (run.path / "progress.json").unlink()
    with pytest.raises(RunDirError, match="progress.json'? is missing"):
        RunDir(run.path).config()


@pytest.mark.parametrize("doc, fragment", [
    ([1], "not a JSON object"),
    ({"backend": 3, "tasks": "bandits", "seed": 0, "config": {}}, '"backend" must be a name'),
    ({"backend": "torch", "tasks": "bandits", "seed": "0", "config": {}}, '"seed" must be a whole number'),
    ({"backend": "torch", "tasks": "bandits", "seed": 0, "config": [1]}, '"config" must be an object'),
])
def test_train_json_of_the_wrong_shape_is_a_one_line_error(tmp_path, doc, fragment):
    (tmp_path / "train.json").write_text(json.dumps(doc))
    with pytest.raises(RunDirError, match=fragment):
        RunDir(tmp_path).request()


@pytest.mark.parametrize("lines, fragment", [
    ('[1]\n{"update": 2}\n', "line 1 is not a metrics object"),
    ('{"update": "x"}\n', "line 1 is not a metrics object"),
    ('{"update": 1}\nnot json\n{"update": 3}\n', "line 2 is not JSON"),
])
def test_metric_lines_of_the_wrong_shape_are_one_line_errors(tmp_path, lines, fragment):
    (tmp_path / "metrics.jsonl").write_text(lines)
    with pytest.raises(RunDirError, match=fragment):
        RunDir(tmp_path).trim_metrics(5)


def test_metric_lines_are_strict_json(tmp_path):
    run = RunDir(tmp_path)
    log = run.open_metrics()
    log.write({"update": 1, "loss": float("inf"), "grad_norm": np.float32("nan"), "lr": 0.1})
    log.close()
    line = (tmp_path / "metrics.jsonl").read_text()
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line) == {"update": 1, "loss": None, "grad_norm": None, "lr": 0.1, "nonfinite": ["loss", "grad_norm"]}
    assert finite_metrics({"update": 2, "nonfinite": ["x"], "y": -math.inf})["nonfinite"] == ["x", "y"]


def test_json_files_are_strict(tmp_path):
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "x.json", {"a": float("nan")})
    assert not list(tmp_path.iterdir())


def test_non_finite_arrays_are_refused_on_load(tmp_path):
    run = RunDir(tmp_path / "run")
    with run.checkpoint(backend="random", config={}) as ckpt:
        ckpt.save_npz(RunDir.ES_STATE, {"mean": np.array([1.0, np.nan])})
    with pytest.raises(RunDirError, match="NaN or an infinity in 'mean'"):
        RunDir(run.path).load_npz(RunDir.ES_STATE, ("mean",))


def test_non_finite_tensors_are_refused_on_load(tmp_path):
    torch = pytest.importorskip("torch")
    run = RunDir(tmp_path / "run")
    with run.checkpoint(backend="random", config={}) as ckpt:
        ckpt.save_torch(RunDir.POLICY, {"core.weight": torch.tensor([1.0, float("inf")]), "steps": torch.tensor(3)})
    with pytest.raises(RunDirError, match="NaN or an infinity in 'core.weight'"):
        RunDir(run.path).load_torch(RunDir.POLICY)


def test_a_checkpoint_refuses_reserved_names(tmp_path):
    with pytest.raises(ValueError, match="cannot hold a file named"):
        with RunDir(tmp_path).checkpoint(backend="random", config={}) as ckpt:
            ckpt.save_npz("progress.json", {})
    assert RunDir(tmp_path).progress() is None


def test_the_lock_names_its_holder(tmp_path):
    from metaplastic.errors import RunLocked
    import os
    import subprocess
    import sys

    run = RunDir(tmp_path / "run")
    code = ("import sys, time; from metaplastic.runs.rundir import RunDir\n"
            "with RunDir(sys.argv[1]).lock():\n    print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(run.path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLocked, match=f"being written by process {holder.pid};"):
            with run.lock():
                pass
    finally:
        holder.kill()
        holder.wait()
    with run.lock():  # a killed holder's lock is released
        assert (run.path / ".lock").read_text().strip() == str(os.getpid())
