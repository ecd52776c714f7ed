"""Decision latency per backend at batch 1 and 256 (p50/p99 in extra_info). Run:
`.venv/bin/python -m pytest benchmarks/test_decision_latency.py -o addopts= --benchmark-only -s`."""

import pytest

import metaplastic
from metaplastic.bench.latency import decision_latency

BACKENDS = [("random", {}), ("ucb1", {}), ("torch", {"algo": "rl2"}), ("torch", {"algo": "maml"})]


@pytest.mark.benchmark(group="decision-latency")
@pytest.mark.parametrize("batch", [1, 256])
@pytest.mark.parametrize("name, config", BACKENDS, ids=[f"{n}-{c.get('algo', '')}" for n, c in BACKENDS])
def test_decision_latency(benchmark, name, config, batch):
    if name == "torch":
        pytest.importorskip("torch")
    learner = metaplastic.make(name, **config)
    tasks = metaplastic.make_tasks("nav2d" if config.get("algo") == "maml" else "bandits:k=5,n=10")
    lat = benchmark.pedantic(decision_latency, args=(learner, tasks), kwargs={"batch": batch, "decisions": 2000},
                             rounds=1, iterations=1)
    benchmark.extra_info.update(lat.as_dict())
    print(f"\n{name} {config} batch {batch}: p50 {lat.p50_s * 1e6:.1f} us, p99 {lat.p99_s * 1e6:.1f} us, "
          f"{lat.decisions_per_s:.0f} decisions/s")
    assert lat.p50_s > 0
