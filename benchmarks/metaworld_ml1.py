"""Benchmark: meta-training on Meta-World ML1 reach-v3 — success rate of torch RL², snntorch
(spiking) RL² and numba's evolved spiking network after a stated budget, beside random.

Usage:
    .venv/bin/python benchmarks/metaworld_ml1.py [--budget 12m] [--only NAME ...] [--out reports/ml1]

Each learner trains for ``--budget`` on one CPU thread (``OMP_NUM_THREADS=1``,
``NUMBA_NUM_THREADS=1``; two trainings run at a time, one per core of a 2-core machine) with
``metaplastic train ... --seed 0`` on a short training protocol (2 adaptation episodes, then
1 scored one, of at most 150 steps), then is evaluated with ``metaplastic evaluate --n-tasks
50 --seed 0`` on the 50 test tasks under Meta-World's own protocol (10 adaptation episodes,
then 3 scored ones of at most 500 steps; an episode succeeds if Meta-World flags success at
any step) and under the training protocol. The random policy is evaluated the same way.
Needs the ``metaworld`` extra (and ``snn`` for snntorch). Writes ``OUT/runs/<name>`` (the
trained runs), ``OUT/ml1.json`` (every figure, its interval and the commands) and
``OUT/ml1.md`` (the table). A run directory already there is resumed, not retrained (the
train command refuses a different request).

The success-rate intervals are Wilson score intervals over tasks
(:func:`metaplastic.metrics.stats.rate_ci95`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

TRAIN = "metaworld:benchmark=ML1,env=reach-v3,adapt_episodes=2,eval_episodes=1,max_steps=150"
FULL = "metaworld:benchmark=ML1,env=reach-v3"

#: what trains, with its settings (``--set``); RL²'s reward_scale keeps the value loss of
#: Meta-World's rewards (up to 10 per step) from crowding out the policy gradient
LEARNERS = {
    "torch-rl2": ("torch", "rl2", ["batch_tasks=16", "hidden=64", "reward_scale=0.01", "ent_coef=0.01", "lr=0.001",
                                   "lr_schedule=linear"]),
    "snntorch-rl2": ("snntorch", "rl2", ["batch_tasks=16", "reward_scale=0.01", "ent_coef=0.01", "lr=0.001",
                                         "lr_schedule=linear"]),
    "numba-es": ("numba", "es", ["population=16", "batch_tasks=4"]),
}


def _say(msg: str) -> None:
    print(f"[ml1 bench] {msg}", file=sys.stderr, flush=True)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "metaplastic", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def train_command(name: str, budget: str, out: Path) -> list[str]:
    backend, algo, sets = LEARNERS[name]
    cmd = _cli("train", "--backend", backend, "--algo", algo, "--tasks", TRAIN, "--budget", budget, "--seed", "0",
               "--out", str(out / "runs" / name))
    for s in sets:
        cmd += ["--set", s]
    return cmd


def evaluate_command(name: str, tasks: str, out: Path) -> list[str]:
    source = ["--backend", "random"] if name == "random" else ["--run", str(out / "runs" / name)]
    return _cli("evaluate", *source, "--tasks", tasks, "--n-tasks", "50", "--seed", "0", "--json")


def _train_all(names: list[str], budget: str, out: Path, parallel: int) -> None:
    """Train ``names``, ``parallel`` at a time; a failure stops the others and says which."""
    pending = list(names)
    running: list[tuple[str, subprocess.Popen, Any]] = []
    try:
        while pending or running:
            while pending and len(running) < parallel:
                name = pending.pop(0)
                cmd = train_command(name, budget, out)
                _say("training: " + " ".join(cmd[2:]))
                log = open(out / f"{name}.train.log", "w")
                running.append((name, subprocess.Popen(cmd, env=_env(), stdout=log, stderr=subprocess.STDOUT), log))
            name, proc, log = running.pop(0)
            code = proc.wait()
            log.close()
            if code != 0:
                raise SystemExit(f"training {name} failed: see {out / (name + '.train.log')}")
    finally:
        for _, proc, log in running:  # SIGTERM: a training stops after its update, with a checkpoint
            proc.terminate()
            proc.wait()
            log.close()


def _evaluate(name: str, tasks: str, out: Path) -> dict:
    cmd = evaluate_command(name, tasks, out)
    _say("evaluating: " + " ".join(cmd[2:]))
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"evaluating {name} failed: {done.stderr.strip().splitlines()[-1:]}")
    s = json.loads(done.stdout)
    return {"success_rate": s["success_rate"], "success_rate_ci95": s["success_rate_ci95"],
            "return_mean": s["return_mean"], "return_ci95": s["return_ci95"], "command": " ".join(cmd[2:])}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", default="12m", help="training budget of each learner (default 12m)")
    p.add_argument("--only", nargs="*", choices=sorted(LEARNERS), help="train and evaluate only these")
    p.add_argument("--parallel", type=int, default=2, help="trainings at a time (default 2: one per core)")
    p.add_argument("--out", type=Path, default=Path("reports/ml1"))
    args = p.parse_args(argv)
    names = args.only or list(LEARNERS)
    (args.out / "runs").mkdir(parents=True, exist_ok=True)
    _train_all(names, args.budget, args.out, args.parallel)
    rows = {}
    for name in [*names, "random"]:
        rows[name] = {"train": None if name == "random" else " ".join(train_command(name, args.budget, args.out)[2:]),
                      "metaworld_protocol": _evaluate(name, FULL, args.out),
                      "training_protocol": _evaluate(name, TRAIN, args.out)}
    report = {"tasks": FULL, "budget": args.budget, "threads_per_training": 1, "n_tasks": 50, "seed": 0,
              "interval": "Wilson score over tasks, 95%", "rows": rows}
    tmp = args.out / "ml1.json.tmp"
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(args.out / "ml1.json")
    lines = [f"# ML1 reach-v3: success rate after {args.budget} of training (1 thread), 50 test tasks", "",
             "| learner | Meta-World protocol (10 + 3 × 500) | training protocol (2 + 1 × 150) |", "|---|---|---|"]
    for name, r in rows.items():
        cells = []
        for key in ("metaworld_protocol", "training_protocol"):
            m, (lo, hi) = r[key]["success_rate"], r[key]["success_rate_ci95"]
            cells.append(f"{m:.2f} [{lo:.2f}, {hi:.2f}]")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    tmp = args.out / "ml1.md.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(args.out / "ml1.md")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
