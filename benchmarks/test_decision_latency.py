"""One decision and one adaptation step per backend, at batch 1 (p50/p99 in extra_info),
grouped so that `pytest benchmarks --benchmark-compare` puts backends side by side. Run:
`.venv/bin/python -m pytest benchmarks/test_decision_latency.py -o addopts= --benchmark-only -s`."""

import numpy as np
import pytest

import metaplastic
from metaplastic.bench.latency import decision_latency
from metaplastic.core import Transition

BACKENDS = [("random", {}), ("ucb1", {}), ("torch", {"algo": "rl2"}), ("torch", {"algo": "maml"}),
            ("snntorch", {"algo": "rl2"}), ("snntorch", {"algo": "rl2-plastic"}), ("numba", {}),
            ("numba", {"plastic": True})]
IDS = [f"{n}-{c.get('algo', '')}{'-plastic' if c.get('plastic') else ''}" for n, c in BACKENDS]
NEEDS = {"torch": "torch", "snntorch": "snntorch"}


def _learner(name, config):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    tasks = metaplastic.make_tasks("nav2d" if config.get("algo") == "maml" else "bandits:k=5,n=10")
    return metaplastic.make(name, **config), tasks


@pytest.mark.benchmark(group="decision-latency")
@pytest.mark.parametrize("batch", [1, 256])
@pytest.mark.parametrize("name, config", BACKENDS, ids=IDS)
def test_decision_latency(benchmark, name, config, batch):
    learner, tasks = _learner(name, config)
    lat = benchmark.pedantic(decision_latency, args=(learner, tasks), kwargs={"batch": batch, "decisions": 2000},
                             rounds=1, iterations=1)
    benchmark.extra_info.update(lat.as_dict())
    print(f"\n{name} {config} batch {batch}: p50 {lat.p50_s * 1e6:.1f} us, p99 {lat.p99_s * 1e6:.1f} us, "
          f"{lat.decisions_per_s:.0f} decisions/s")
    assert lat.p50_s > 0


@pytest.mark.benchmark(group="adaptation-step")
@pytest.mark.parametrize("name, config", BACKENDS, ids=IDS)
def test_adaptation_step(benchmark, name, config):
    """What an agent does with one transition and an episode's end: RL² records inputs,
    MAML takes its inner policy-gradient steps, a plastic network queues its third factor."""
    learner, tasks = _learner(name, config)
    agent = learner.agent(tasks)
    env = tasks.make_env(tasks.sample(1, seed=0, split="test")[0])
    agent.reset(seed=0)
    obs, _ = env.reset(seed=0)
    action = agent.act(obs)
    nxt, r, term, trunc, _ = env.step(action)
    t = Transition(obs, action, float(r), nxt, True, False)

    def step():
        agent.observe(t)
        agent.end_episode()

    benchmark.pedantic(step, rounds=50, iterations=1, warmup_rounds=2)
    assert np.isfinite(benchmark.stats.stats.mean)
