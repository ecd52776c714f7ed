"""ES generations per second on the in-process, process-pool and Ray executors in the same
run (same seeds, so the same work and the same network: checked), the costs a generation
is made of, and a written model of parallel efficiency checked against the measured
executors and projected to 64 and 1,000 workers.

The model of one generation on W workers with population P and a d-parameter network::

    T(W) = t_driver(P) + t_round(W) + t_sync(P) + ceil(P / W) * t_member

* ``t_driver(P)``: the driver's ask and tell (regenerating P/2 noise vectors of d numbers,
  the candidates' finiteness check, the rank-weighted sum and Adam), serial;
* ``t_round(W)``: sending the message and jobs to W workers and collecting the results
  (per-call overhead × W, measured with jobs that do nothing);
* ``t_sync(P)``: a replica applying the last generation's update (the same noise
  regeneration and tell as the driver: every worker does it, in parallel);
* ``t_member``: evaluating one candidate (``batch_tasks`` trials on the numba kernels).

Efficiency is ``(P t_member / W) / T(W)``: the share of the ideal speed-up left. Bytes per
generation are measured by pickling what is sent (message + jobs per worker) and returned.

Usage (the figures in the issue-18 closing note):
    .venv/bin/python benchmarks/es_scaling.py [--generations 30] [--workers 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import statistics
import sys
import time

import numpy as np

import metaplastic
from metaplastic.spiking.es_fitness import NetVector, TrialReturnFitness, random_net
from metaplastic.training.es import ESSettings, EvolutionStrategy
from metaplastic.training.es_replica import ESReplica, sync_message
from metaplastic.training.executors import Apply, make_executor

TASKS = "bandits:k=5,n=10"
HIDDEN, POPULATION, BATCH = 128, 64, 64


def _median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def components(tasks) -> dict:
    """The model's constants, measured in this process."""
    net = random_net(tasks, neurons=HIDDEN, seed=0)
    vec = NetVector(net)
    fitness = TrialReturnFitness(vec, tasks, batch_tasks=BATCH)
    settings = ESSettings(population=POPULATION)
    driver = EvolutionStrategy(vec.flatten(net), settings)
    replica = ESReplica(EvolutionStrategy(vec.flatten(net), settings), fitness)
    replica((1, 0, 1, 1))  # compile the kernels
    t_member = _median_s(lambda: replica((1, 3, 1, 1)), 15)
    f = np.linspace(0, 1, POPULATION)
    seeds = iter(range(10, 10_000))

    def driver_generation() -> None:
        seed, eps = driver.ask_seeded(next(seeds))
        driver.tell(eps, f)

    t_driver = _median_s(driver_generation, 7)
    # a replica's sync: the update of one generation, applied to a copy at the step before it
    seed, eps = driver.ask_seeded(99)
    t0, theta0, m0, v0 = driver.t, driver.theta.copy(), driver.m.copy(), driver.v.copy()
    driver.tell(eps, f)
    message = sync_message(driver, t0, seed, f)

    def sync() -> None:
        es = replica.es
        es.t, es.theta, es.m, es.v = t0, theta0.copy(), m0.copy(), v0.copy()
        replica.receive(message)

    t_sync = _median_s(sync, 7)
    jobs = [(seed, i, 1, 1) for i in range(POPULATION)]
    return {"d": int(vec.size), "population": POPULATION, "batch_tasks": BATCH, "hidden": HIDDEN,
            "t_member_s": t_member, "t_driver_s": t_driver, "t_sync_s": t_sync,
            "message_bytes": len(pickle.dumps(message)), "job_bytes": len(pickle.dumps(jobs)) / POPULATION,
            "result_bytes": len(pickle.dumps(list(f))) / POPULATION,
            "theta_bytes": len(pickle.dumps(driver.theta))}


def round_trip_s(executor: str, workers: int) -> float:
    """Per-generation cost of reaching ``workers`` workers with jobs that do nothing."""
    with make_executor(executor, workers) as ex:
        replicas = ex.replicate(lambda: Apply(abs))
        try:
            replicas.run(None, [0] * ex.workers)  # start-up
            message = (0, 0, np.zeros(POPULATION), "x" * 16)
            return _median_s(lambda: replicas.run(message, [0] * ex.workers), 20)
        finally:
            replicas.close()


def ray_call_costs(calls: int = 300) -> tuple[float, float]:
    """``(latency, per_call)`` of the ray executor's actor calls, with jobs that do nothing:
    one call's round trip, and the cost per call when many are in flight (what the driver
    pays per worker in a generation)."""
    import ray

    from metaplastic.training.ray_executor import RayExecutor

    with RayExecutor(1) as ex:
        actor = ex.holder.remote(Apply(abs))
        ray.get(actor.run.remote(None, [0]))
        latency = _median_s(lambda: ray.get(actor.run.remote(None, [0])), 30)
        t0 = time.perf_counter()
        ray.get([actor.run.remote(None, [0]) for _ in range(calls)])
        per_call = (time.perf_counter() - t0) / calls
        ray.kill(actor)
    return latency, per_call


def generations_per_s(executor: str, workers: int, generations: int, tasks) -> tuple[float, np.ndarray]:
    times: list[float] = []
    learner = metaplastic.make("numba", hidden=HIDDEN, population=POPULATION, batch_tasks=BATCH, executor=executor,
                               workers=workers, seed=0)
    learner.meta_train(tasks, budget=generations, seed=0, show_progress=False,
                       callback=lambda m: times.append(m["update_s"]))
    steady = times[1:]  # the first generation also ships the replicas to the workers
    return 1.0 / statistics.mean(steady), learner.net.w_rec


def model_time(c: dict, workers: int, population: int, round_s: float, replicas: bool = True) -> float:
    """``replicas=False``: the in-process executor, whose one replica is the driver's own
    search (nothing to sync)."""
    scale = population / c["population"]  # driver and sync work grow with the population
    return (c["t_driver_s"] * scale + round_s + (c["t_sync_s"] * scale if replicas else 0.0)
            + math.ceil(population / workers) * c["t_member_s"])


def efficiency(c: dict, workers: int, population: int, round_s: float) -> float:
    return (population * c["t_member_s"] / workers) / model_time(c, workers, population, round_s)


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generations", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    tasks = metaplastic.make_tasks(TASKS)
    c = components(tasks)
    out: dict = {"components": c, "executors": {}}
    nets = {}
    for name in ("inprocess", "process", "ray"):
        workers = 1 if name == "inprocess" else args.workers
        gps, nets[name] = generations_per_s(name, workers, args.generations, tasks)
        rt = round_trip_s(name, workers)
        predicted = 1.0 / model_time(c, workers, POPULATION, rt, replicas=name != "inprocess")
        out["executors"][name] = {"workers": workers, "generations_per_s": gps, "round_trip_s": rt,
                                  "model_generations_per_s": predicted}
    same = all(np.array_equal(nets["inprocess"], w) for w in nets.values())
    out["identical_networks"] = same
    # projections: a generation's round trip on W Ray workers = one call's latency + the
    # driver's cost per call x W (it submits one call per worker and gathers one reply each)
    latency, per_call = ray_call_costs()
    out["ray_calls"] = {"latency_s": latency, "per_call_s": per_call}
    out["projections"] = {}
    for workers, population in ((64, 64), (1000, 1000)):
        rt = latency + per_call * workers
        t = model_time(c, workers, population, rt)
        parts = {"driver": c["t_driver_s"] * population / POPULATION, "round_trip": rt,
                 "sync": c["t_sync_s"] * population / POPULATION,
                 "members": math.ceil(population / workers) * c["t_member_s"]}
        out["projections"][f"W={workers},P={population}"] = {
            "efficiency": efficiency(c, workers, population, rt), "generation_s": t,
            "parts_s": parts, "limit": max(parts, key=parts.get),
            # one member per worker: the member time at which half the ideal speed-up is left
            "t_member_for_half_efficiency_s": parts["driver"] + rt + parts["sync"],
            "bytes_sent_per_generation": workers * (8 * population + 64 + c["job_bytes"] * math.ceil(population / workers)),
            "bytes_if_theta_were_sent": workers * c["theta_bytes"]}
    print(f"network: {HIDDEN} neurons, d = {c['d']} parameters; population {POPULATION}, {BATCH} tasks per member")
    print(f"t_member {c['t_member_s'] * 1e3:.2f} ms, t_driver {c['t_driver_s'] * 1e3:.2f} ms, "
          f"t_sync {c['t_sync_s'] * 1e3:.2f} ms; message {c['message_bytes']} B, job {c['job_bytes']:.0f} B, "
          f"theta {c['theta_bytes']} B")
    for name, e in out["executors"].items():
        print(f"{name:10s} {e['workers']} worker(s): {e['generations_per_s']:.2f} generations/s measured, "
              f"{e['model_generations_per_s']:.2f} modelled (round trip {e['round_trip_s'] * 1e3:.2f} ms)")
    print(f"identical networks on every executor: {same}")
    print(f"ray actor calls: latency {latency * 1e3:.2f} ms, {per_call * 1e3:.3f} ms per call in flight")
    for key, p in out["projections"].items():
        print(f"{key}: efficiency {p['efficiency']:.1%}, generation {p['generation_s'] * 1e3:.1f} ms, limited by "
              f"{p['limit']} ({', '.join(f'{k} {v * 1e3:.1f} ms' for k, v in p['parts_s'].items())}); "
              f"{p['bytes_sent_per_generation'] / 1e6:.2f} MB sent per generation "
              f"(theta to every worker would be {p['bytes_if_theta_were_sent'] / 1e6:.2f} MB); 50% efficiency needs "
              f"members of {p['t_member_for_half_efficiency_s'] * 1e3:.0f} ms "
              f"(about {BATCH * p['t_member_for_half_efficiency_s'] / c['t_member_s']:.0f} tasks each)")
    if args.json:
        from pathlib import Path

        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    if not same:
        sys.exit("the executors produced different networks from the same seed")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
