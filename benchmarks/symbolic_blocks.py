"""The symbolic learner on NLRL's blocks world: trial return as a fraction of the oracle's
(optimal) return, on 4 blocks and on each ood variant; the last episode's fraction too (the
goal rule is known by then).

    python benchmarks/symbolic_blocks.py [--tasks 1000] [--engine enumerate|clingo] [--out reports/symbolic]

Writes ``blocks.json`` and ``blocks.md`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import metaplastic
from metaplastic.runtime.vector import run_vector_trials


def play(learner, tasks, chunk, seed):
    """(learner returns, oracle returns), each ``(tasks, episodes)``, on the same tasks and env seed."""
    n, episodes = len(chunk), tasks.episodes_per_trial
    seeds = np.arange(n) + 1000 * seed
    mine = run_vector_trials(learner.vector_agent(tasks, n), tasks.make_vector_env(chunk), episodes,
                             agent_seeds=seeds, env_seed=seed)
    best = run_vector_trials(metaplastic.make("oracle").vector_agent(tasks, n), tasks.make_vector_env(chunk), episodes,
                             agent_seeds=seeds, env_seed=seed, reveal=chunk)
    return mine, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=1000, help="tasks per split")
    ap.add_argument("--engine", default="enumerate", choices=("enumerate", "clingo"))
    ap.add_argument("--out", default="reports/symbolic")
    args = ap.parse_args()
    start = time.perf_counter()
    tasks = metaplastic.make_tasks("blocks")
    learner = metaplastic.make("symbolic", engine=args.engine)
    learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    rows = []
    for split in ("test", "ood"):
        chunk = tasks.sample(args.tasks, seed=1, split=split)
        mine, best = play(learner, tasks, chunk, seed=1)
        groups: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(chunk):
            size = sum(len(c) for c in t.params["columns"])
            key = "4 blocks (test)" if split == "test" else f"ood {t.params['variant']}, {size} blocks"
            groups[key].append(i)
            groups[f"{split}: all"].append(i)
        for key, idx in sorted(groups.items()):
            m, b = mine[idx], best[idx]
            rows.append({"group": key, "tasks": len(idx), "return": float(m.sum(1).mean()),
                         "optimal": float(b.sum(1).mean()), "fraction": float(m.sum(1).mean() / b.sum(1).mean()),
                         "last_episode_fraction": float(m[:, -1].mean() / b[:, -1].mean())})
            print(f"{key}: {rows[-1]['fraction']:.4f} of optimal ({len(idx)} tasks)", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = (f"symbolic(engine={args.engine}, prior learned on 4096 training tasks) @ {tasks.spec}; tasks "
              f"sample({args.tasks}, seed=1, split=...), agent seeds 1000+i, env seed 1")
    doc = {"command": "python benchmarks/symbolic_blocks.py " + " ".join(sys.argv[1:]), "config": config,
           "prior": learner.rule_prior.as_dict(), "rows": rows, "seconds": time.perf_counter() - start}
    (out / "blocks.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = ["# symbolic learner on blocks: return as a fraction of optimal", "", f"Command: `{doc['command']}`  ",
             f"Config: `{config}`  ", f"Runtime: {doc['seconds']:.0f} s", "",
             "| group | tasks | trial return | oracle (optimal) | fraction | last episode fraction |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['group']} | {r['tasks']} | {r['return']:.3f} | {r['optimal']:.3f} | {r['fraction']:.4f} | "
              f"{r['last_episode_fraction']:.4f} |" for r in rows]
    (out / "blocks.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'blocks.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
