"""The numba event-driven runtime against snntorch and a dense torch step.

* decision latency at batch 1 of one 128-neuron recurrent spiking policy, run by the
  numba kernels and by snntorch in the same run (the ratio is printed and kept in
  ``extra_info``); set ``METAPLASTIC_BENCH_NET`` to a trained run directory (or a
  SpikingNet .npz) to time that network, otherwise an untrained snntorch policy is used;
* cost of one simulation step of a 4,096-neuron recurrent layer at 1%, 5% and 20%
  activity, beside a dense torch matrix-vector step of the same layer.

Run: ``.venv/bin/python -m pytest benchmarks/test_numba_runtime.py -o addopts= --benchmark-only -s``
(``benchmarks/numba_latency.py`` prints the batch-1 figures, act and act+observe, numba and
snntorch, from one run.)
"""

import os

import numpy as np
import pytest

import metaplastic
from metaplastic.bench.latency import decision_latency
from metaplastic.spiking import SpikingNet
from metaplastic.spiking import kernels as K
from metaplastic.spiking.event_runtime import EventDrivenLanes

TASKS = "bandits:k=5,n=10"
_LATENCY: dict[str, float] = {}


def _policy_net():
    tasks = metaplastic.make_tasks(TASKS)
    where = os.environ.get("METAPLASTIC_BENCH_NET")
    if where and where.endswith(".npz"):
        return SpikingNet.load(where)
    learner = metaplastic.load(where) if where else metaplastic.make("snntorch", hidden=128, seed=0)
    if not where:
        learner.ensure_model(tasks)
    return learner.spiking_net()


@pytest.mark.benchmark(group="decision-latency-spiking")
@pytest.mark.parametrize("runtime", ["numba", "snntorch"])
def test_spiking_decision_latency(benchmark, runtime):
    pytest.importorskip("snntorch")
    net = _policy_net()
    assert net.n_neurons == 128 or os.environ.get("METAPLASTIC_BENCH_NET")
    learner = metaplastic.make(runtime, net=net)
    tasks = metaplastic.make_tasks(TASKS)
    lat = benchmark.pedantic(decision_latency, args=(learner, tasks), kwargs={"decisions": 5000}, rounds=1,
                             iterations=1)
    benchmark.extra_info.update(lat.as_dict())
    _LATENCY[runtime] = lat.act_p50_s
    print(f"\n{runtime} ({net.n_neurons} neurons): agent.act p50 {lat.act_p50_s * 1e6:.1f} us, "
          f"p99 {lat.act_p99_s * 1e6:.1f} us; act+observe p50 {lat.p50_s * 1e6:.1f} us, p99 {lat.p99_s * 1e6:.1f} us")
    if len(_LATENCY) == 2:
        ratio = _LATENCY["snntorch"] / _LATENCY["numba"]
        benchmark.extra_info["snntorch_over_numba_p50"] = ratio
        print(f"snntorch / numba agent.act p50: {ratio:.0f}x")


N_BIG = 4096


def _layer_at(activity: float):
    """A 4,096-neuron layer whose previous step emitted ``activity`` x N spikes; thresholds
    so high that nothing new fires, so every timed step delivers the same spikes."""
    rng = np.random.default_rng(0)
    net = SpikingNet(w_in=np.zeros((N_BIG, 1)), w_rec=rng.normal(0, 0.01, (N_BIG, N_BIG)).astype(np.float32),
                     w_out=np.zeros((1, N_BIG)), du=0.5, dv=0.5, vth=1e30, substeps=1)
    lanes = EventDrivenLanes(net, 1)
    k = int(round(activity * N_BIG))
    fired = np.sort(rng.choice(N_BIG, size=k, replace=False)).astype(np.int32)
    return lanes, fired


@pytest.mark.benchmark(group="step-cost-4096")
@pytest.mark.parametrize("activity", [0.01, 0.05, 0.20])
def test_event_driven_step(benchmark, activity):
    lanes, fired = _layer_at(activity)
    x, mod, active = np.zeros((1, 1), np.float32), np.zeros(1, np.float32), np.ones(1, bool)

    def step():
        lanes.spk[0, : fired.size] = fired
        lanes.nspk[0] = fired.size
        lanes.decide(x, mod, active)

    step()
    benchmark.pedantic(step, rounds=200, iterations=5, warmup_rounds=5)
    benchmark.extra_info["activity"] = activity
    benchmark.extra_info["synaptic_events_per_step"] = int(fired.size * N_BIG)


@pytest.mark.benchmark(group="step-cost-4096")
def test_dense_torch_step(benchmark):
    torch = pytest.importorskip("torch")
    w = torch.randn(N_BIG, N_BIG) * 0.01
    s = (torch.rand(N_BIG) < 0.05).float()
    benchmark.pedantic(lambda: torch.mv(w, s), rounds=200, iterations=5, warmup_rounds=5)
    benchmark.extra_info["torch_threads"] = torch.get_num_threads()
