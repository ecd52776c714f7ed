"""The lava backend: conformance, configuration, run directories and the command line."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.spiking import Plasticity
from metaplastic.testing import LearnerConformance

from .conftest import TRAINED_RUN, random_net, trained_net

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "metaplastic"]


class TestLavaConformance(LearnerConformance):
    @pytest.fixture(params=["fixed_pt", "floating_pt"])
    def learner(self, request, lava_runtime):
        tasks = metaplastic.make_tasks("bandits:k=3,n=8")
        return metaplastic.make("lava", net=random_net(tasks, neurons=16), mode=request.param, seed=0)


def test_needs_a_network_and_refuses_plastic_ones():
    with pytest.raises(ConfigError, match="runs a given network"):
        metaplastic.make("lava")
    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    net = random_net(tasks, neurons=8)
    plastic = replace(net, plasticity=Plasticity(lr_rec=0.01))
    with pytest.raises(ConfigError, match="without plasticity.*learning rates") as e:
        metaplastic.make("lava", net=plastic)
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="mode"):
        metaplastic.make("lava", net=net, mode="half_pt")


def test_save_load_round_trip(tmp_path, lava_runtime):
    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    learner = metaplastic.make("lava", net=random_net(tasks, neurons=8), mode="floating_pt")
    learner.save(tmp_path / "run")
    again = metaplastic.load(tmp_path / "run")
    assert again.name == "lava" and again.config["mode"] == "floating_pt"
    assert again.spiking_net() == learner.spiking_net()


def test_runs_the_network_of_a_snntorch_run(lava_runtime):
    learner = metaplastic.load(TRAINED_RUN, backend="lava")
    assert learner.name == "lava" and learner.spiking_net() == trained_net()
    res = metaplastic.evaluate(learner, metaplastic.make_tasks(learner.tasks_spec), n_tasks=16, seed=0)
    assert res.returns.shape == (16, 6) and np.isfinite(res.returns).all()
    torch_run = TRAINED_RUN.parent / "torch-rl2"
    with pytest.raises(ConfigError, match="no spiking network"):
        metaplastic.load(torch_run, backend="lava")
    with pytest.raises(RunDirError, match="saved by backend 'snntorch', not 'numba'"):
        metaplastic.load(TRAINED_RUN, backend="numba")


def test_cli_evaluate_a_nir_file(tmp_path, lava_runtime):
    nir = pytest.importorskip("nir", reason="writing a NIR file needs the 'snn' extra")
    tasks = metaplastic.make_tasks("bandits:k=3,n=6")
    net = random_net(tasks, neurons=8)
    nir.write(str(tmp_path / "policy.nir"), net.to_nir())
    out = subprocess.run([*CLI, "evaluate", "--backend", "lava", "--set", f"net={tmp_path / 'policy.nir'}",
                          "--set", "mode=floating_pt", "--tasks", "bandits:k=3,n=6", "--n-tasks", "8", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["backend"] == "lava" and summary["n_tasks"] == 8


def test_cli_bench_runs_a_trained_run_on_lava(tmp_path, lava_runtime):
    pytest.importorskip("torch", reason="reading the snntorch fixture needs the 'snn' extra")
    out = subprocess.run([*CLI, "bench", "--backends", "lava", "--run", f"lava={TRAINED_RUN}",
                          "--tasks", "bandits:k=3,n=6", "--n-tasks", "20", "--quick",
                          "--out", str(tmp_path / "bench")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "bench" / "report.json").read_text())
    row = report["backends"]["lava"]
    assert row["ops_per_decision"]["spikes"] > 0
    assert row["energy_per_decision_j"]["loihi"] > 0 and row["device"] == "loihi2-sim"


def test_backends_lists_lava_unavailable_without_the_runtime(tmp_path):
    env = dict(os.environ, METAPLASTIC_HOME=str(tmp_path / "empty"))
    out = subprocess.run([*CLI, "backends", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lava = next(b for b in json.loads(out.stdout)["backends"] if b["name"] == "lava")
    assert lava["available"] is False
    assert "metaplastic runtime install lava" in lava["reason"]
    out = subprocess.run([*CLI, "evaluate", "--backend", "lava", "--set", "net=x.npz", "--tasks", "bandits"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "metaplastic runtime install lava" in out.stderr
