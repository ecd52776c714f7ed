"""The ray executor opens and closes its own Ray session (no module-wide cluster here, so
that these run with none open)."""

from __future__ import annotations

import importlib.util

import pytest

from metaplastic.errors import ConfigError
from metaplastic.training.executors import make_executor

pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                reason="ray is not installed (pip install 'metaplastic[ray]')")


def test_the_ray_executor_starts_a_local_cluster_and_shuts_it_down(monkeypatch):
    import ray

    if ray.is_initialized():
        pytest.skip("a Ray session is already open in this process")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with make_executor("ray", 2) as ex:
        assert ex.workers == 2 and ray.is_initialized()
        assert ex.map(abs, [-1, -2, 3]) == [1, 2, 3]
    assert not ray.is_initialized(), "a cluster the executor started must be shut down"


_HOLD_A_CLUSTER = """
import sys, ray
ray.init(num_cpus=2, include_dashboard=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()  # keep the cluster up until the test closes stdin
ray.shutdown()
"""


@pytest.fixture
def held_cluster():
    """A Ray cluster of our own with 2 CPUs, started by another process (never `ray stop`:
    it would stop every cluster on the machine); yields its address."""
    import subprocess
    import sys

    import ray

    if ray.is_initialized():
        pytest.skip("a Ray session is already open in this process")
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_A_CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        address = holder.stdout.readline().strip()
        assert address, "the helper process did not start a Ray cluster"
        yield address
    finally:
        holder.stdin.close()
        holder.wait(timeout=120)


def test_with_ray_address_set_it_joins_that_cluster_and_leaves_it_running(monkeypatch, held_cluster):
    import ray

    monkeypatch.setenv("RAY_ADDRESS", held_cluster)
    with make_executor("ray", 0) as ex:
        assert ex.workers == 2, "workers=0 takes one per CPU of the cluster joined"
        assert ex.map(abs, [-4]) == [4]
    assert not ray.is_initialized(), "the executor disconnects from the cluster it joined"
    ray.init(address=held_cluster, log_to_driver=False)  # the cluster itself is still up
    assert ray.cluster_resources().get("CPU") == 2
    ray.shutdown()


def test_ray_address_on_the_command_line_joins_that_cluster(monkeypatch, held_cluster, tmp_path):
    import json
    import os

    from metaplastic.cli import main

    monkeypatch.setenv("RAY_ADDRESS", "unset")  # records the original state, which teardown restores ...
    monkeypatch.delenv("RAY_ADDRESS")            # ... after --ray-address has set it for this process
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--backend", "random", "--tasks", "bandits:k=2,n=3", "--sizes", "1", "--budget", "1",
              "--n-tasks", "4", "--executor", "ray", "--ray-address", held_cluster, "--out", str(tmp_path / "sw")])
    assert e.value.code == 0
    assert os.environ.get("RAY_ADDRESS") == held_cluster
    assert len(json.loads((tmp_path / "sw" / "sweep.json").read_text())["points"]) == 1
