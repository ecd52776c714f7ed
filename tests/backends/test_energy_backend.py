"""The ``energy`` backend: conformance on three families, what meta-training learns, run
directories, one-line errors, op counts, and the torch-free path."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runs.rundir import RunDir
from metaplastic.testing import LearnerConformance


class TestEnergyBandits(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("energy", prior_tasks=500)


class TestEnergyGridNaviExact(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("energy", prior_tasks=500, engine="exact")

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("gridnavi:steps=8,n=2")


class TestEnergyNav2DLangevin(LearnerConformance):
    @pytest.fixture
    def learner(self):
        return metaplastic.make("energy", prior_tasks=500, engine="langevin", particles=64, resample_every=1)

    @pytest.fixture
    def tasks(self):
        return metaplastic.make_tasks("nav2d:max_steps=6,n=2")


def _trained(spec: str, **config):
    tasks = metaplastic.make_tasks(spec)
    learner = metaplastic.make("energy", **config)
    learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    return learner, tasks


def test_meta_training_learns_the_training_prior():
    learner, _ = _trained("bandits:k=5,a=2,b=5,ood_a=1,ood_b=1", prior_tasks=5000)
    assert abs(learner.model.prior.a - 2.0) < 0.2 and abs(learner.model.prior.b - 5.0) < 0.5
    learner, tasks = _trained("gridnavi", prior_tasks=5000, floor=0.0)
    probs = learner.model.prior.probs
    train = np.zeros(len(probs), dtype=bool)
    values = tasks.latent().space.array().astype(int).tolist()
    for cell in tasks.goal_cells("train").tolist():
        train[values.index(cell)] = True
    assert probs[~train].sum() == 0.0
    assert np.abs(probs[train] - 1 / 21).max() < 0.015


def test_meta_training_beats_the_untrained_prior_on_shifted_bandits():
    """A prior fitted to arms near 0 or 1 beats the uniform prior of an untrained learner."""
    spec = "bandits:k=5,n=20,a=0.3,b=0.3,ood_a=1,ood_b=1"
    trained, tasks = _trained(spec, prior_tasks=2000, acting="posterior-mean")
    untrained = metaplastic.make("energy", acting="posterior-mean")
    a = metaplastic.evaluate(trained, tasks, n_tasks=2000, seed=3).trial_returns
    b = metaplastic.evaluate(untrained, tasks, n_tasks=2000, seed=3).trial_returns
    diff = a - b
    assert diff.mean() > 2 * diff.std(ddof=1) / np.sqrt(len(diff))


def test_saved_run_reloads_the_same_prior(tmp_path):
    learner, tasks = _trained("nav2d", prior_tasks=300, components=3)
    learner.save(tmp_path / "run")
    loaded = metaplastic.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.model.prior.means, learner.model.prior.means)
    assert RunDir(tmp_path / "run").has(RunDir.ENERGY)


def test_corrupt_or_foreign_prior_is_one_line(tmp_path):
    learner, _ = _trained("bandits:k=3", prior_tasks=100)
    learner.save(tmp_path / "run")
    path = RunDir(tmp_path / "run").file(RunDir.ENERGY)
    path.write_bytes(b"not an npz")
    with pytest.raises(RunDirError, match="corrupt or foreign") as err:
        metaplastic.load(tmp_path / "run")
    assert "\n" not in str(err.value)
    other, _ = _trained("gridnavi", prior_tasks=100)
    other.save(tmp_path / "grid")
    path.write_bytes(RunDir(tmp_path / "grid").file(RunDir.ENERGY).read_bytes())
    with pytest.raises(RunDirError) as err:
        metaplastic.load(tmp_path / "run")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("spec,config,fragment", [
    ("cartpole-dyn", {"engine": "exact"}, "use engine=langevin"),
    ("mdp", {"engine": "langevin"}, "use engine=exact"),
    ("gridnavi", {"acting": "bayes-ucb"}, "needs per-action coordinates"),
])
def test_engine_or_rule_that_does_not_apply_is_one_line(spec, config, fragment):
    with pytest.raises(ConfigError, match=fragment) as err:
        metaplastic.make("energy", **config).vector_agent(metaplastic.make_tasks(spec), 2)
    assert "\n" not in str(err.value)


def test_family_without_a_latent_is_refused():
    class NoLatent:
        name = "plain"
        observation_space = metaplastic.make_tasks("bandits").observation_space
        action_space = metaplastic.make_tasks("bandits").action_space
        episodes_per_trial = 1

    with pytest.raises(ConfigError, match="declares no latent"):
        metaplastic.make("energy").vector_agent(NoLatent(), 1)
    assert not metaplastic.make("energy").capabilities.applies_to("plain")


@pytest.mark.parametrize("engine", ["exact", "langevin"])
def test_op_counts_per_posterior_update(engine):
    learner = metaplastic.make("energy", engine=engine, prior_tasks=100, particles=32)
    tasks = metaplastic.make_tasks("gridnavi:steps=5,n=2")
    ops = metaplastic.evaluate(learner, tasks, n_tasks=10, seed=0).ops
    assert ops.posterior_updates == ops.decisions == 10 * 5 * 2
    assert ops.energy_evals >= ops.posterior_updates and ops.macs > 0
    if engine == "exact":
        assert ops.energy_evals == ops.posterior_updates * 25  # every cell, once per transition
        assert ops.grad_evals == 0


def test_every_family_plays_a_trial():
    for spec in ("bandits:k=3,n=5", "mdp:n=2", "gridnavi:n=1", "nav2d:max_steps=5,n=1", "cartpole-dyn:max_steps=10,n=1"):
        learner, tasks = _trained(spec, prior_tasks=200, particles=32)
        result = metaplastic.evaluate(learner, tasks, n_tasks=4, seed=0)
        assert np.isfinite(result.returns).all(), spec


def test_agent_posterior_is_a_normalized_belief():
    learner, tasks = _trained("gridnavi", prior_tasks=200)
    agent = learner.agent(tasks)
    assert isinstance(agent, metaplastic.core.InferenceAgent)
    agent.reset(seed=0)
    agent.act(np.zeros(2, dtype=np.float32))
    belief = agent.posterior()
    assert belief.points.shape == (25, 2) and abs(belief.weights.sum() - 1) < 1e-12


def test_cli_train_and_evaluate(tmp_path):
    env = {**os.environ, "COLUMNS": "120"}
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "metaplastic"]
    train = subprocess.run([*cmd, "train", "--backend", "energy", "--tasks", "bandits:k=3,n=5", "--budget", "1",
                            "--out", str(out), "--set", "prior_tasks=200"], capture_output=True, text=True, env=env)
    assert train.returncode == 0, train.stderr
    ev = subprocess.run([*cmd, "evaluate", "--run", str(out), "--n-tasks", "20"], capture_output=True, text=True, env=env)
    assert ev.returncode == 0, ev.stderr
    bad = subprocess.run([*cmd, "train", "--backend", "energy", "--tasks", "bandits", "--budget", "1",
                          "--out", str(tmp_path / "bad"), "--set", "engine=magic"], capture_output=True, text=True,
                         env=env)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_exact_and_langevin_paths_import_no_torch():
    code = ("import sys, metaplastic\n"
            "for spec, engine in (('gridnavi:n=1', 'exact'), ('nav2d:max_steps=5,n=1', 'langevin')):\n"
            "    l = metaplastic.make('energy', engine=engine, prior_tasks=100, particles=16)\n"
            "    l.meta_train(metaplastic.make_tasks(spec), budget=1, seed=0, show_progress=False)\n"
            "    metaplastic.evaluate(l, spec, n_tasks=2, seed=0)\n"
            "assert 'torch' not in sys.modules and 'pyro' not in sys.modules, 'torch was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_prior_of_other_tasks_is_refused():
    learner, _ = _trained("gridnavi", prior_tasks=100)
    with pytest.raises(ConfigError, match="meta-train it on") as err:
        learner.vector_agent(metaplastic.make_tasks("gridnavi:size=7"), 1)
    assert "\n" not in str(err.value)
