"""Decision latency of trained runs (or untrained backends) at batch 1 and 256.

Usage (the figures in the issue-4 closing note were made with):
    .venv/bin/python benchmarks/latency_of_runs.py runs/rl2-bandits-k5-n10@bandits:k=5,n=10 \
        runs/rl2-gridnavi@gridnavi torch:algo=maml@nav2d

Each argument is RUN_DIR@TASK_SPEC, or BACKEND:key=value,...@TASK_SPEC for an untrained learner.
"""

from __future__ import annotations

import sys
from pathlib import Path

import metaplastic
from metaplastic.bench.latency import decision_latency


def _learner(what: str):
    if Path(what).is_dir():
        return metaplastic.load(what)
    name, _, config = what.partition(":")
    pairs = dict(item.split("=", 1) for item in config.split(",") if item)
    return metaplastic.make(name, **pairs)


def main(args: list[str]) -> None:
    for arg in args:
        what, _, spec = arg.rpartition("@")
        learner, tasks = _learner(what), metaplastic.make_tasks(spec)
        for batch in (1, 256):
            lat = decision_latency(learner, tasks, batch=batch, decisions=3000 if batch == 1 else 500)
            print(f"{what} on {spec}, batch {batch}: p50 {lat.p50_s * 1e6:.1f} us, p99 {lat.p99_s * 1e6:.1f} us, "
                  f"{lat.decisions_per_s:.0f} decisions/s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
