"""The built-in executors pass the executor conformance kit; ES gives the same search on
each of them from the same seed, moving seeds and scalars, never weights."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import ConfigError
from metaplastic.testing.executors import ExecutorConformance, WorkerFailureConformance
from metaplastic.training.es import ESSettings, EvolutionStrategy, digest, member
from metaplastic.training.es_replica import ESReplica, sync_message
from metaplastic.training.executors import InProcessExecutor, ProcessPoolExecutor, make_executor
from metaplastic.training.replicas import ReplicaStale, spread

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="ray is not installed (pip install 'metaplastic[ray]')")


class TestInProcess(ExecutorConformance):  # its one worker is this process: no worker-failure checks
    @pytest.fixture
    def executor(self):
        with InProcessExecutor() as ex:
            yield ex


@pytest.fixture(scope="module")
def process_pool():
    with ProcessPoolExecutor(2) as ex:
        yield ex


class TestProcessPool(WorkerFailureConformance):
    @pytest.fixture
    def executor(self, process_pool):
        return process_pool


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray cluster with 2 CPUs for this module (the executor then leaves it running)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@needs_ray
class TestRay(WorkerFailureConformance):
    @pytest.fixture
    def executor(self, local_ray):
        ex = make_executor("ray", 2)
        yield ex
        ex.close()
        assert local_ray.is_initialized(), "the executor must not shut down a Ray session it did not open"


def test_spread_keeps_every_job_once_in_order():
    for n in range(0, 12):
        for w in range(1, 5):
            chunks = spread(list(range(n)), w)
            assert [j for c in chunks for j in c] == list(range(n))
            assert len(chunks) <= w and all(chunks)


def test_unknown_executor_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match="choose one of inprocess, process, ray"):
        make_executor("slurm")


def test_es_members_are_regenerated_from_seeds_bit_for_bit():
    es = EvolutionStrategy(np.linspace(-1, 1, 50), ESSettings(population=6, sigma=0.3))
    seed, eps = es.ask_seeded(123)
    cands = es.candidates(eps)
    for i in range(6):
        assert np.array_equal(member(es.theta, 0.3, seed, i), cands[i])
    assert not np.array_equal(cands[0], cands[2]), "pairs draw different noise"


def test_an_es_replica_follows_the_driver_and_notices_when_it_cannot():
    driver = EvolutionStrategy(np.zeros(5), ESSettings(population=4, sigma=0.1, lr=0.1))
    replica = ESReplica(EvolutionStrategy(np.zeros(5), ESSettings(population=4, sigma=0.1, lr=0.1)), lambda j: 0.0)
    messages = []
    for gen in range(3):
        seed, eps = driver.ask_seeded(gen)
        t = driver.t
        driver.tell(eps, np.arange(4.0) * (gen + 1))
        messages.append(sync_message(driver, t, seed, np.arange(4.0) * (gen + 1)))
    replica.receive(messages[0])
    with pytest.raises(ReplicaStale, match="at step 1 and got the update of step 2"):
        replica.receive(messages[2])  # missed one
    replica.receive(messages[1])
    replica.receive(messages[2])
    assert digest(replica.es.theta) == digest(driver.theta)
    replica.receive(messages[2])  # already there: nothing happens
    t, seed, f, _ = messages[2]
    bad = ESReplica(EvolutionStrategy(np.ones(5), ESSettings(population=4, sigma=0.1, lr=0.1)), lambda j: 0.0)
    bad.es.t = t
    with pytest.raises(ReplicaStale, match="differs from the driver"):
        bad.receive((t, seed, f, messages[2][3]))


def _evolve(executor: str, workers: int = 2):
    tasks = metaplastic.make_tasks("bandits:k=3,n=6")
    learner = metaplastic.make("numba", hidden=8, population=6, batch_tasks=8, seed=0, executor=executor,
                               workers=workers)
    learner.meta_train(tasks, budget=3, seed=0, show_progress=False)
    return learner.net


@pytest.mark.parametrize("executor", ["process", pytest.param("ray", marks=needs_ray)])
def test_es_gives_the_same_search_on_every_executor(executor, request):
    if executor == "ray":
        request.getfixturevalue("local_ray")
    here, there = _evolve("inprocess"), _evolve(executor)
    for name in ("w_in", "w_rec", "w_out", "b_out", "du", "dv"):
        np.testing.assert_array_equal(getattr(here, name), getattr(there, name), err_msg=name)


@needs_ray
def test_more_ray_workers_than_cluster_cpus_is_a_one_line_error(local_ray):
    with pytest.raises(ConfigError, match="the cluster has 2 CPUs; workers=3 would never all start"):
        make_executor("ray", 3)
    assert local_ray.is_initialized(), "a session the executor did not open stays open"
