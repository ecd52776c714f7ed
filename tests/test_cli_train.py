"""`metaplastic train`: run directories, resume, refusal of mismatched options, and
`metaplastic evaluate --run`."""

import json
import os
import subprocess
import sys

import pytest

from metaplastic.runs.rundir import RunDir

pytest.importorskip("torch", reason="training needs the 'torch' extra")


def run(*args):
    return subprocess.run([sys.executable, "-m", "metaplastic", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "120"})


def test_train_resume_and_evaluate(tmp_path):
    out = tmp_path / "run"
    base = ["train", "--backend", "torch", "--algo", "rl2", "--tasks", "bandits:k=3,n=5", "--seed", "1",
            "--out", str(out), "--set", "hidden=8", "--set", "batch_tasks=16"]
    first = run(*base, "--budget", "4")
    assert first.returncode == 0, first.stderr
    assert "run saved in" in first.stdout
    for name in ("config.json", "metrics.jsonl", "progress.json", "train.json"):
        assert (out / name).is_file(), name
    ckpt = RunDir(out)
    assert all(ckpt.has(name) for name in (RunDir.CONFIG, RunDir.POLICY, RunDir.OPTIMIZER))
    assert [p.name for p in (out / "checkpoints").iterdir()] == [ckpt.file(RunDir.POLICY).parent.name]
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 4
    second = run(*base, "--budget", "7")
    assert second.returncode == 0, second.stderr
    assert "resuming" in second.stderr
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["update"] for m in lines] == list(range(1, 8))

    other = run(*[a if a != "1" else "2" for a in base], "--budget", "9")
    assert other.returncode == 2 and "was started with seed=1" in other.stderr and "Traceback" not in other.stderr

    ev = run("evaluate", "--run", str(out), "--n-tasks", "20", "--json")
    assert ev.returncode == 0, ev.stderr
    res = json.loads(ev.stdout)
    assert res["backend"] == "torch" and res["tasks"].startswith("bandits:k=3,n=5") and res["device"] in ("cpu", "cuda")


@pytest.mark.parametrize("args, fragment", [
    (["--budget", "soon"], "budget 'soon'"),
    (["--budget", "3", "--set", "hidden"], "is not KEY=VALUE"),
    (["--budget", "3", "--set", "hidde=8"], "unknown parameter 'hidde'"),
    (["--budget", "3", "--algo", "ppo"], "algo must be one of"),
])
def test_train_bad_input_writes_nothing(tmp_path, args, fragment):
    out = tmp_path / "run"
    proc = run("train", "--backend", "torch", "--tasks", "bandits", "--out", str(out), *args)
    assert proc.returncode == 2 and fragment in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_random_cannot_be_trained(tmp_path):
    proc = run("train", "--backend", "random", "--tasks", "bandits", "--budget", "3", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and "no meta-training" in proc.stderr


def test_evaluate_corrupt_run_is_one_line(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{")
    proc = run("evaluate", "--run", str(tmp_path / "run"), "--tasks", "bandits")
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr and len(proc.stderr.splitlines()) == 1
