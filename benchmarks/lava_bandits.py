"""Benchmark of the ``lava`` backend on RL² bandits: one snntorch-trained spiking policy run
by snntorch, numba and Lava (fixed_pt and floating_pt), side by side.

Usage:
    .venv/bin/python benchmarks/lava_bandits.py [--run RUN] [--quick] [--out reports/lava]

``--run`` is a snntorch run trained on the tasks (default: train one into ``OUT/snn-run``
with ``metaplastic train --backend snntorch --algo rl2 --budget 4000 --set hidden=64
--seed 0``, about 4 minutes on 2 cores, if it is not there). Writes ``OUT/lava.json`` (every
figure and its config) and ``OUT/lava.md`` (tables). ``--quick``: 1,000 tasks instead of
10,000 and 300 timed decisions instead of 2,000.

Sections:

1. Parity: numba, lava floating_pt and lava fixed_pt teacher-forced on the same
   observations and rewards (``metaplastic.runtime.vector.lockstep``, the first agent
   drives) for 2,000 decisions (200 test tasks × 10 pulls, agent seeds 0..199): the fraction
   of decisions equal to numba's; spikes, synaptic events and neuron updates per decision of
   each (lava's counted from the spikes its simulation emitted).
2. Closed-loop speed at batch 1: ``metaplastic.bench.latency.decision_latency`` (the
   latency benchmark: one agent per trial through the Agent contract, act + observe timed),
   decisions per second = 1 / mean.
3. Trial return on test tasks (``metaplastic.evaluate(..., seed=0)``: tasks, agent and env
   seeds as ``metaplastic evaluate --seed 0``), mean and 95% interval, normalized score
   against random and Gittins on the same tasks; lava evaluates in batches of 1,000 lanes
   (independent copies of the network packed block-diagonally in Lava's ``Sparse``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import metaplastic
from metaplastic.bench.adaptation import normalized
from metaplastic.bench.latency import decision_latency
from metaplastic.runtime.vector import lockstep

TASKS = "bandits:k=5,n=10"
PARITY_TASKS = 200


def _say(msg: str) -> None:
    print(f"[lava bench] {msg}", file=sys.stderr, flush=True)


def _train(run: Path) -> None:
    cmd = [sys.executable, "-m", "metaplastic", "train", "--backend", "snntorch", "--algo", "rl2", "--tasks", TASKS,
           "--budget", "4000", "--seed", "0", "--set", "hidden=64", "--out", str(run)]
    _say("training: " + " ".join(cmd[2:]))
    subprocess.run(cmd, check=True)


def _ops(agent) -> dict:
    o = agent.ops()
    d = max(o.decisions, 1)
    return {k: getattr(o, k) / d for k in ("spikes", "synaptic_events", "neuron_updates", "macs")}


def parity(net, tasks) -> dict:
    agents = {"numba": metaplastic.make("numba", net=net).vector_agent(tasks, PARITY_TASKS)}
    for mode in ("floating_pt", "fixed_pt"):
        agents[f"lava {mode}"] = metaplastic.make("lava", net=net, mode=mode).vector_agent(tasks, PARITY_TASKS)
    same = lockstep(list(agents.values()), tasks, PARITY_TASKS, seed=0)
    out = {name: {"decisions": int(s.size), "agree_with_numba": float(s.mean()), "ops_per_decision": _ops(a)}
           for (name, a), s in zip(agents.items(), same)}
    from metaplastic.spiking.lava_lanes import LavaLanes

    for a in agents.values():
        if isinstance(a.lanes, LavaLanes):
            a.lanes.close()
    return out


def speed(learners: dict, tasks, decisions: int) -> dict:
    out = {}
    for name, learner in learners.items():
        lat = decision_latency(learner, tasks, batch=1, decisions=decisions, warmup=50)
        out[name] = {"decisions_per_s": 1.0 / lat.mean_s, "p50_ms": lat.p50_s * 1e3, "p99_ms": lat.p99_s * 1e3,
                     "samples": lat.samples}
        _say(f"speed {name}: {out[name]['decisions_per_s']:.0f} decisions/s at batch 1")
    return out


def returns(learners: dict, tasks, n_tasks: int, lava_tasks: int) -> dict:
    refs = {name: metaplastic.evaluate(metaplastic.make(name), tasks, n_tasks=n_tasks, seed=0, progress=False)
            for name in ("random", "gittins")}
    lo, hi = refs["random"].returns.sum(1).mean(), refs["gittins"].returns.sum(1).mean()
    out = {name: {"trial_return": float(r.returns.sum(1).mean()), "n_tasks": n_tasks} for name, r in refs.items()}
    for name, learner in learners.items():
        n = lava_tasks if name.startswith("lava") else n_tasks
        t0 = time.perf_counter()
        res = metaplastic.evaluate(learner, tasks, n_tasks=n, seed=0, progress=False)
        s = res.summary()
        r = float(s["return_mean"])
        out[name] = {"trial_return": r, "ci95": s["return_ci95"], "n_tasks": n,
                     "normalized": float(normalized(r, lo, hi)), "seconds": time.perf_counter() - t0}
        _say(f"return {name}: {r:.3f} on {n} tasks ({out[name]['seconds']:.0f} s)")
    return out


def markdown(report: dict) -> str:
    lines = [f"# lava on {report['tasks']}", "", f"policy: snntorch run `{report['run']}` ({report['net']})", "",
             "## Parity (teacher-forced, 2,000 decisions)", "",
             "| runtime | decisions | agree with numba | spikes/decision | synaptic events/decision | neuron updates/decision |",
             "|---|---|---|---|---|---|"]
    for name, p in report["parity"].items():
        o = p["ops_per_decision"]
        lines.append(f"| {name} | {p['decisions']} | {p['agree_with_numba']:.4f} | {o['spikes']:.2f} | "
                     f"{o['synaptic_events']:.1f} | {o['neuron_updates']:.0f} |")
    lines += ["", "## Closed loop at batch 1", "", "| runtime | decisions/s | p50 | p99 |", "|---|---|---|---|"]
    for name, s in report["speed"].items():
        lines.append(f"| {name} | {s['decisions_per_s']:.0f} | {s['p50_ms']:.2f} ms | {s['p99_ms']:.2f} ms |")
    lines += ["", "## Trial return (test tasks, seed 0)", "", "| runtime | tasks | trial return | 95% interval | normalized |",
              "|---|---|---|---|---|"]
    for name, r in report["returns"].items():
        ci = r.get("ci95")
        ci_s = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        norm = f"{r['normalized']:.3f}" if "normalized" in r else ""
        lines.append(f"| {name} | {r['n_tasks']} | {r['trial_return']:.3f} | {ci_s} | {norm} |")
    lines += ["", "Quantization of the fixed_pt run: " + json.dumps(report["quantization"]), ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("reports/lava"))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    run = args.run or args.out / "snn-run"
    if not (run / "config.json").exists():
        _train(run)
    tasks = metaplastic.make_tasks(TASKS)
    snn = metaplastic.load(run)
    net = snn.spiking_net()
    from metaplastic.spiking.loihi_fixed import quantize

    n_tasks, decisions = (1000, 300) if args.quick else (10_000, 2000)
    learners = {"snntorch": snn, "numba": metaplastic.make("numba", net=net),
                "lava fixed_pt": metaplastic.make("lava", net=net, mode="fixed_pt"),
                "lava floating_pt": metaplastic.make("lava", net=net, mode="floating_pt")}
    report = {"tasks": TASKS, "run": str(run), "net": repr(net), "quick": args.quick,
              "quantization": {k: float(v) for k, v in quantize(net).errors.items()}}
    _say("parity")
    report["parity"] = parity(net, tasks)
    report["speed"] = speed(learners, tasks, decisions)
    report["returns"] = returns(learners, tasks, n_tasks, n_tasks)
    (args.out / "lava.json").write_text(json.dumps(report, indent=2))
    (args.out / "lava.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
