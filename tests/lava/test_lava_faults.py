"""A Lava worker that crashes, hangs or is killed ends in one line within the timeout, and
leaves no process behind (the worker's whole process group is killed)."""

import os
import signal
import sys
import time

import numpy as np
import pytest

import metaplastic
from metaplastic.errors import WorkerFailed
from metaplastic.workers.process import WorkerProcess

from .conftest import random_net

pytestmark = pytest.mark.slow


def _gone(pid):
    """Whether no process of ``pid``'s group is left (the worker leads its group)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _agent(timeout=30.0):
    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    learner = metaplastic.make("lava", net=random_net(tasks, neurons=8), mode="floating_pt", timeout=timeout)
    agent = learner.vector_agent(tasks, 2)
    agent.reset([0, 1])
    obs = np.zeros((2,) + tasks.observation_space.shape, tasks.observation_space.dtype)
    return agent, obs


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_worker_is_one_line_and_leaves_nothing(lava_runtime, how):
    agent, obs = _agent()
    agent.act(obs, np.ones(2, bool))
    pid = agent.lanes.pid
    with open(agent.lanes.worker.shm_log) as f:
        segments = [line.strip() for line in f if line.strip()]
    assert segments, "the worker lists the shared memory Lava's channels use"
    os.kill(pid, how)
    with pytest.raises(WorkerFailed, match=rf"lava worker \(pid {pid}\)") as e:
        for _ in range(5):
            agent.act(obs, np.ones(2, bool))
    assert "\n" not in str(e.value)
    assert _gone(pid)
    # what the killed worker could not remove, the host did
    assert not [s for s in segments if os.path.exists(os.path.join("/dev/shm", s))]


def test_a_hung_worker_times_out(lava_runtime):
    agent, obs = _agent(timeout=2.0)
    pid = agent.lanes.pid
    os.kill(pid, signal.SIGSTOP)
    t0 = time.monotonic()
    with pytest.raises(WorkerFailed, match=r"did not answer 'step' within 2 s.*timeout=SECONDS"):
        agent.act(obs, np.ones(2, bool))
    assert time.monotonic() - t0 < 10
    assert _gone(pid)


def test_a_worker_error_is_reported_and_the_worker_ends(lava_runtime):
    from metaplastic.spiking.lava_lanes import lava_worker

    worker = lava_worker(timeout=30.0)
    with pytest.raises(WorkerFailed, match=r"lava worker \(pid \d+\): RuntimeError: asked to step before a network was built"):
        worker.request("step", {"x": np.zeros((1, 3))}, {"steps": 1})
    assert _gone(worker.pid)


def test_closing_stops_the_worker_and_its_children(lava_runtime):
    agent, obs = _agent()
    agent.act(obs, np.ones(2, bool))
    pid = agent.lanes.pid
    agent.lanes.close()
    assert _gone(pid)


def test_a_worker_that_never_answers_is_killed_at_the_deadline():
    worker = WorkerProcess([sys.executable, "-c", "import time; time.sleep(60)"], name="demo", timeout=0.5)
    with pytest.raises(WorkerFailed, match=r"demo worker \(pid \d+\) did not answer 'ping' within 0.5 s"):
        worker.request("ping")
    assert _gone(worker.pid)


def test_a_worker_that_dies_at_start_is_one_line():
    worker = WorkerProcess([sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"],
                           name="demo", timeout=5)
    time.sleep(0.5)
    with pytest.raises(WorkerFailed, match=r"exited with code 3; its last output: boom"):
        worker.request("ping")


def test_dropped_lanes_stop_their_worker(lava_runtime):
    import gc

    from metaplastic.spiking.lava_lanes import LavaLanes

    tasks = metaplastic.make_tasks("bandits:k=3,n=8")
    lanes = LavaLanes(random_net(tasks, neurons=8), 1, mode="floating_pt")
    lanes.reset()
    pid = lanes.pid
    del lanes
    gc.collect()
    assert _gone(pid)
