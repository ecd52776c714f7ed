"""One decision and one adaptation step per backend, at batch 1 (p50/p99 in extra_info),
grouped so that `pytest benchmarks --benchmark-compare` puts backends side by side. Run:
`.venv/bin/python -m pytest benchmarks/test_decision_latency.py -o addopts= --benchmark-only -s`."""

import hashlib

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
    assert lat.samples == 2000 and 0 < lat.act_p50_s <= lat.p50_s <= lat.p99_s
    # the decisions timed did the work they are timed for: a trial of this learner counts operations
    agent = learner.vector_agent(tasks, 4) if batch > 1 else learner.agent(tasks)
    ops = _one_trial_ops(agent, tasks, batch > 1)
    assert ops.decisions > 0
    if learner.capabilities.meta_train:  # a meta-trained network decides by arithmetic (baselines count none)
        assert ops.macs + ops.acs > 0, f"{name}: no arithmetic counted for {ops.decisions} decisions"


def _one_trial_ops(agent, tasks, vector):
    from metaplastic.runtime.trials import play
    from metaplastic.runtime.vector import run_vector_trials

    if vector:
        venv = tasks.make_vector_env(tasks.sample(4, seed=0, split="test"))
        run_vector_trials(agent, venv, tasks.episodes_per_trial, agent_seeds=np.arange(4), env_seed=0)
        venv.close()
    else:
        for _ in play(agent, tasks, tasks.sample(1, seed=0, split="test")[0], episodes=tasks.episodes_per_trial,
                      agent_seed=0, env_seed=0):
            pass
    return agent.ops()


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

    before = _digest(agent)
    benchmark.pedantic(step, rounds=50, iterations=1, warmup_rounds=2)
    # the step timed is an adaptation step: it changed what the agent carries into its next
    # decision (the random policy is the control: it has nothing to adapt)
    changed = _digest(agent) != before
    assert changed == (name != "random"), f"{name}: observe + end_episode {'changed' if changed else 'left'} its state"


def _digest(obj, depth=0, seen=None):
    """A fingerprint of the numbers an object holds (arrays, tensors, scalars), found by
    walking its attributes, containers and torch modules."""
    seen = set() if seen is None else seen
    h = hashlib.sha256()
    if id(obj) in seen or depth > 8:
        return h.hexdigest()
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        h.update(np.ascontiguousarray(obj).tobytes())
    elif type(obj).__module__.startswith("torch") and type(obj).__name__ in ("Tensor", "Parameter"):
        h.update(obj.detach().cpu().numpy().tobytes())
    elif isinstance(obj, (int, float, bool, str, bytes, np.generic)) or obj is None:
        h.update(repr(obj).encode())
    elif isinstance(obj, np.random.Generator):
        h.update(repr(obj.bit_generator.state).encode())
    elif isinstance(obj, dict):
        for k, v in obj.items():
            h.update(repr(k).encode() + _digest(v, depth + 1, seen).encode())
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            h.update(_digest(v, depth + 1, seen).encode())
    elif type(obj).__module__.startswith(("metaplastic", "torch", "snntorch")) and hasattr(obj, "__dict__"):
        for k, v in sorted(vars(obj).items()):  # the library's own objects and torch modules
            h.update(k.encode() + _digest(v, depth + 1, seen).encode())
    return h.hexdigest()
