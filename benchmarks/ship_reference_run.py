"""Ship a trained run as a reference run of metaplastic (``metaplastic/reference_runs/NAME``).

Saves the loaded run again into the package (its policy and config: what loading needs, no
optimizer state or training log), evaluates the copy on the test split and writes
``reference.json`` with the command that made the run and that evaluation — the record
``tests/runs/test_reference_runs.py`` checks it against. Everything lands in a staging
folder first and is renamed into place.

    .venv/bin/python benchmarks/ship_reference_run.py --run reports/ladder-bandits/torch/runs/h16-c0 \\
        --name torch-bandits --made-by "metaplastic sweep --backend torch ... (point h16-c0)" \\
        --description "dense RL² GRU, 16 units"
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

import metaplastic
from metaplastic.runs.reference_runs import REFERENCE_DIR
from metaplastic.runs.rundir import RunDir


def ship(run: Path, name: str, made_by: str, description: str, *, n_tasks: int, seed: int) -> Path:
    src = RunDir(run)
    tasks = metaplastic.make_tasks(src.tasks_spec())
    REFERENCE_DIR.mkdir(exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=REFERENCE_DIR))
    try:
        metaplastic.load(run).save(stage)  # the policy and its config only: what loading needs
        learner = metaplastic.load(stage)
        res = metaplastic.evaluate(learner, tasks, n_tasks=n_tasks, seed=seed, split="test", progress=True)
        doc = {"name": name, "backend": learner.name, "tasks": tasks.spec, "made_by": made_by,
               "evaluation": {"split": "test", "n_tasks": n_tasks, "seed": seed, "return_mean": res.return_mean,
                              "ci95": list(res.return_ci95)},
               "description": description}
        (stage / "reference.json").write_text(json.dumps(doc, indent=2) + "\n")
        dest = REFERENCE_DIR / name
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(stage, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    print(f"{name}: {res.return_mean:.4f} on {n_tasks} test tasks (seed {seed}) -> {dest}")
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--made-by", required=True, help="the exact command that made the run")
    ap.add_argument("--description", default="")
    ap.add_argument("--n-tasks", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    ship(a.run, a.name, a.made_by, a.description, n_tasks=a.n_tasks, seed=a.seed)


if __name__ == "__main__":
    main()
