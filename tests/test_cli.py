"""The command line: JSON for pipelines, one-line errors with exit code 2 for bad input."""

import json
import os
import subprocess
import sys

import pytest


def run(*args, env_extra=None, cwd=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "metaplastic", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_evaluate_random_json_matches_reference():
    proc = run("evaluate", "--backend", "random", "--tasks", "bandits:k=5,n=10", "--n-tasks", "1000", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in ("backend", "tasks", "split", "n_tasks", "episodes", "return_mean", "return_ci95", "per_episode_mean"):
        assert key in out
    assert out["backend"] == "random" and out["n_tasks"] == 1000 and out["episodes"] == 10 and out["split"] == "test"
    assert abs(out["return_mean"] - 5.0) < 0.4  # RL² Table 1: random = 5.0; 4 standard errors
    assert out["return_ci95"][0] < out["return_mean"] < out["return_ci95"][1]


def test_evaluate_writes_out_file_atomically(tmp_path):
    target = tmp_path / "res.json"
    proc = run("evaluate", "--backend", "random", "--tasks", "bandits:k=3,n=4", "--n-tasks", "5", "--out", str(target))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(target.read_text())["n_tasks"] == 5
    assert "trial return" in proc.stdout  # the table for people


def test_backends_and_tasks_json():
    b = json.loads(run("backends", "--json").stdout)
    assert any(x["name"] == "random" and x["available"] for x in b["backends"])
    t = json.loads(run("tasks", "--json").stdout)
    fam = {x["name"]: x for x in t["tasks"]}["bandits"]
    assert {p["name"] for p in fam["params"]} >= {"k", "n", "a", "b"}
    assert set(fam["splits"]) == {"train", "test", "ood"}


def test_compare_prints_a_table():
    proc = run("compare", "--backends", "random", "--tasks", "bandits:k=3,n=5", "--n-tasks", "10")
    assert proc.returncode == 0, proc.stderr
    assert "random" in proc.stdout and "95% interval" in proc.stdout


@pytest.mark.parametrize("args, fragment", [
    (["evaluate", "--backend", "nope", "--tasks", "bandits"], "unknown backend 'nope'"),
    (["evaluate", "--backend", "random", "--tasks", "nope:k=3"], "unknown task family 'nope'"),
    (["evaluate", "--backend", "random", "--tasks", "bandits:k"], "malformed spec"),
    (["evaluate", "--backend", "random", "--tasks", "bandits:k=-2"], "k must be an integer >= 2"),
    (["evaluate", "--backend", "random", "--tasks", "bandits:k=x"], "got 'x'"),
    (["evaluate", "--backend", "random", "--tasks", "bandits", "--n-tasks", "-5"], "--n-tasks"),
    (["evaluate", "--backend", "random", "--tasks", "bandits", "--n-tasks", "ten"], "--n-tasks"),
    (["evaluate", "--backend", "random", "--tasks", "bandits", "--split", "dev"], "--split"),
    (["evaluate", "--backend", "random", "--tasks", "bandits", "--frobnicate"], "No such option"),
    (["evaluate", "--tasks", "bandits"], "--backend"),
    (["frobnicate"], "No such command"),
    (["compare", "--backends", "random,nope"], "unknown backend 'nope'"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, fragment):
    target = tmp_path / "out.json"
    proc = run(*args, "--out", str(target)) if args[0] in ("evaluate", "compare") and "--frobnicate" not in args else run(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stdout == ""
    assert not target.exists()


def test_third_party_plugin_shows_up_and_runs(plugin_site):
    env = {"PYTHONPATH": os.pathsep.join([str(plugin_site), os.environ.get("PYTHONPATH", "")])}
    listing = json.loads(run("backends", "--json", env_extra=env).stdout)
    names = {b["name"]: b for b in listing["backends"]}
    assert names["probe"]["available"] and names["probe"]["distribution"] == "metaplastic-probe"
    assert not names["broken"]["available"]
    proc = run("evaluate", "--backend", "probe", "--tasks", "bandits:k=5,n=10", "--n-tasks", "50", "--json", env_extra=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["backend"] == "probe"
    broken = run("evaluate", "--backend", "broken", "--tasks", "bandits", env_extra=env)
    assert broken.returncode == 2 and "import failed" in broken.stderr and "Traceback" not in broken.stderr
