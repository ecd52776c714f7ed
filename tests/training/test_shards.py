"""Sharded gradient updates (RL², MAML): the batch split over an executor's workers gives
the same parameters on every executor, and the summed gradient is the weighted sum of the
shards' gradients."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import metaplastic

torch = pytest.importorskip("torch", reason="gradient shards train torch models")

HAS_RAY = importlib.util.find_spec("ray") is not None
TASKS = "bandits:k=3,n=4"


def _train(backend: str, executor: str, **config):
    tasks = metaplastic.make_tasks(TASKS)
    learner = metaplastic.make(backend, seed=0, batch_tasks=12, shards=3, executor=executor, workers=2, **config)
    learner.meta_train(tasks, budget=3, seed=0, show_progress=False)
    return [p.detach().numpy().copy() for p in learner.model.parameters()]


CASES = [("torch", {"algo": "rl2", "hidden": 8}), ("torch", {"algo": "maml", "mlp_hidden": 8}),
         ("snntorch", {"algo": "rl2", "hidden": 8})]


@pytest.mark.parametrize("backend, config", CASES, ids=["torch-rl2", "torch-maml", "snntorch-rl2"])
def test_every_executor_trains_the_same_parameters(backend, config):
    if backend == "snntorch":
        pytest.importorskip("snntorch", reason="the snntorch backend needs the 'snn' extra")
    here = _train(backend, "inprocess", **config)
    there = _train(backend, "process", **config)
    assert len(here) == len(there)
    for a, b in zip(here, there):
        np.testing.assert_array_equal(a, b)
    first = metaplastic.make(backend, seed=0, **config)
    first.ensure_model(metaplastic.make_tasks(TASKS))
    assert any(not np.array_equal(a, p.detach().numpy()) for a, p in zip(here, first.model.parameters())), \
        "three updates must have moved the parameters"


@pytest.mark.skipif(not HAS_RAY, reason="ray is not installed (pip install 'metaplastic[ray]')")
def test_ray_trains_the_same_parameters_as_this_process():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        there = _train("torch", "ray", algo="rl2", hidden=8)
    finally:
        ray.shutdown()
    for a, b in zip(_train("torch", "inprocess", algo="rl2", hidden=8), there):
        np.testing.assert_array_equal(a, b)


def test_the_sharded_gradient_is_the_weighted_sum_of_the_shards():
    from metaplastic.rl2.loop import RL2Shard
    from metaplastic.rl2.params import settings_from_config
    from metaplastic.training.replicas import LocalSlots
    from metaplastic.nn.shards import GradientShard, apply_gradients

    tasks = metaplastic.make_tasks(TASKS)
    learner = metaplastic.make("torch", algo="rl2", hidden=8, seed=0)
    learner.ensure_model(tasks)
    model = learner.model
    shard = RL2Shard(tasks, settings_from_config(learner.config), "cpu")
    jobs = [(4, 11, 12, 13, 0.05), (6, 21, 22, 23, 0.05)]
    apply_gradients(model, LocalSlots(lambda: GradientShard(model, shard)).run(None, jobs))
    summed = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    parts = [shard(model, job) for job in jobs]  # the same shards, by hand: the mean over all their steps
    assert [w for _, _, w in parts] == [4 * 4.0, 6 * 4.0], "a shard weighs its deciding steps (4 pulls per task)"
    total = sum(loss * w for loss, _, w in parts) / sum(w for _, _, w in parts)
    total.backward()
    for a, p in zip(summed, model.parameters()):
        torch.testing.assert_close(a, p.grad)


@pytest.mark.parametrize("config, message", [
    ({"shards": 1, "executor": "process"}, "set shards to 2 or more"),
    ({"shards": 2, "device": "cuda"}, "sharded updates run on CPU workers"),
])
def test_sharding_that_would_not_mean_what_it_says_is_refused(config, message):
    from metaplastic.errors import ConfigError
    from metaplastic.nn.shards import is_sharded

    with pytest.raises(ConfigError, match=message):
        is_sharded(config["shards"], config.get("executor", "inprocess"), config.get("device", "cpu"))


def test_an_unknown_executor_is_refused_in_one_line():
    from metaplastic.errors import ConfigError

    learner = metaplastic.make("torch", algo="rl2", hidden=4, batch_tasks=4, shards=2, executor="slurm")
    with pytest.raises(ConfigError, match="unknown executor 'slurm'"):
        learner.meta_train(metaplastic.make_tasks(TASKS), budget=1, seed=0, show_progress=False)
