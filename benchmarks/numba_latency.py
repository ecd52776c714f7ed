"""Decision latency at batch 1 of one 128-neuron spiking policy on the numba runtime and on
snntorch, in the same run: ``agent.act`` alone and ``act`` + ``observe`` (p50 and p99), and
snntorch's time over numba's.

Both go through the Agent contract (``learner.agent(tasks)``, the library's own trial loop
with its timing switched on: :func:`metaplastic.bench.latency.decision_latency`). Numba is
timed ``--repeats`` times and the run with the median ``act`` p50 is reported (the others
are printed too).

Usage:
    .venv/bin/python benchmarks/numba_latency.py                 # the network below
    .venv/bin/python benchmarks/numba_latency.py --net RUN_DIR   # a trained run's network (or a .npz)
    .venv/bin/python benchmarks/numba_latency.py --net snntorch  # an untrained snntorch policy, 128 neurons

The default network is ``random_net(bandits:k=5,n=10, neurons=128, seed=0, substeps=2,
neuron="cuba-lif")`` (about a third of its neurons spike at each time step, like a trained
policy's). ``--json PATH`` also writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import metaplastic
from metaplastic.bench.latency import decision_latency

TASKS = "bandits:k=5,n=10"


def policy_net(which: str | None, tasks):
    from metaplastic.spiking import SpikingNet
    from metaplastic.spiking.es_fitness import random_net

    if which is None:
        return random_net(tasks, neurons=128, seed=0, substeps=2, neuron="cuba-lif", plastic=False)
    if which == "snntorch":
        learner = metaplastic.make("snntorch", hidden=128, seed=0)
        learner.ensure_model(tasks)
        return learner.spiking_net()
    if which.endswith(".npz"):
        return SpikingNet.load(which)
    return metaplastic.load(which).spiking_net()


def _us(seconds: float) -> float:
    return round(seconds * 1e6, 2)


def measure(runtime: str, net, tasks, decisions: int) -> dict:
    lat = decision_latency(metaplastic.make(runtime, net=net), tasks, decisions=decisions, warmup=500)
    return {"act_p50_us": _us(lat.act_p50_s), "act_p99_us": _us(lat.act_p99_s), "act_observe_p50_us": _us(lat.p50_s),
            "act_observe_p99_us": _us(lat.p99_s), "samples": lat.samples}


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", help="a run directory, a SpikingNet .npz, or 'snntorch' "
                    "(default: random_net, 128 neurons)")
    ap.add_argument("--decisions", type=int, default=20_000, help="numba decisions timed per repeat")
    ap.add_argument("--snntorch-decisions", type=int, default=3_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-snntorch", action="store_true")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args(argv)
    tasks = metaplastic.make_tasks(TASKS)
    net = policy_net(args.net, tasks)
    print(f"{net} on {TASKS}; numba {args.decisions} decisions x {args.repeats}", flush=True)
    measure("numba", net, tasks, 1000)  # compile (or load the cache) and warm up
    runs = []
    for k in range(args.repeats):
        runs.append(measure("numba", net, tasks, args.decisions))
        print(f"  numba run {k}: {runs[-1]}", flush=True)
    numba_run = sorted(runs, key=lambda r: r["act_p50_us"])[len(runs) // 2]
    out = {"net": str(net), "tasks": TASKS, "numba": numba_run, "numba_runs": runs,
           "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    rows = [("numba", numba_run)]
    if not args.no_snntorch:
        out["snntorch"] = measure("snntorch", net, tasks, args.snntorch_decisions)
        rows.append(("snntorch", out["snntorch"]))
        out["snntorch_over_numba"] = {
            "act_p50": round(out["snntorch"]["act_p50_us"] / numba_run["act_p50_us"], 1),
            "act_observe_p50": round(out["snntorch"]["act_observe_p50_us"] / numba_run["act_observe_p50_us"], 1)}
    print("\n| runtime | act p50 (us) | act p99 (us) | act+observe p50 (us) | act+observe p99 (us) |")
    print("|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['act_p50_us']:.2f} | {r['act_p99_us']:.2f} | {r['act_observe_p50_us']:.2f} | "
              f"{r['act_observe_p99_us']:.2f} |")
    if "snntorch_over_numba" in out:
        ratio = out["snntorch_over_numba"]
        print(f"\nsnntorch / numba: act p50 {ratio['act_p50']}x, act+observe p50 {ratio['act_observe_p50']}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
