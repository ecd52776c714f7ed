"""Energy-aware meta-training: ``energy_coef`` penalizes a spiking policy's firing rate in
the RL² loss (``metaplastic.nn.activity``); a dense policy refuses it in one line."""

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import ConfigError
from metaplastic.runtime.vector import run_vector_trials




def _firing_rate(learner, tasks, n=64):
    agent = learner.vector_agent(tasks, n)
    venv = tasks.make_vector_env(tasks.sample(n, seed=0, split="test"))
    run_vector_trials(agent, venv, tasks.episodes_per_trial, agent_seeds=np.arange(n), env_seed=0)
    venv.close()
    ops = agent.ops()
    return ops.spikes / ops.neuron_updates


def test_the_penalty_lowers_the_firing_rate():
    pytest.importorskip("snntorch", reason="spiking RL² needs the 'snn' extra")
    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    rates, metrics = {}, {}
    for coef in (0.0, 2.0):
        learner = metaplastic.make("snntorch", hidden=16, seed=0, energy_coef=coef, batch_tasks=64)
        seen = []
        learner.meta_train(tasks, budget=40, seed=0, show_progress=False, callback=lambda m: seen.append(m))
        rates[coef], metrics[coef] = _firing_rate(learner, tasks), seen[-1]
    assert rates[2.0] < 0.7 * rates[0.0], rates
    assert "firing_rate" in metrics[2.0] and "firing_rate" not in metrics[0.0]
    assert 0.0 <= metrics[2.0]["firing_rate"] <= 1.0


def test_a_dense_policy_refuses_the_penalty():
    pytest.importorskip("torch")
    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    with pytest.raises(ConfigError, match="energy_coef=0.1 penalizes a policy's firing rate, and this .* reports none"):
        metaplastic.make("torch", energy_coef=0.1).prepare(tasks)


def test_energy_aware_evolution_lowers_the_firing_rate():
    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    rates = {}
    for coef in (0.0, 20.0):
        learner = metaplastic.make("numba", hidden=16, population=16, batch_tasks=32, sigma=0.1, lr=0.05, seed=0,
                                   energy_coef=coef)
        learner.meta_train(tasks, budget=15, seed=0, show_progress=False)
        rates[coef] = _firing_rate(learner, tasks)
    assert rates[20.0] < 0.8 * rates[0.0], rates
