"""Benchmark of the ``symbolic`` backend on ``keydoor``: rule recovery, returns, induction
time, ops.

Usage:
    .venv/bin/python benchmarks/symbolic_keydoor.py [--quick] [--out reports/symbolic]

Writes ``OUT/keydoor.json`` (every figure, with the exact config it came from) and
``OUT/keydoor.md`` (the same as tables). ``--quick`` uses 100 tasks instead of 500 and 200
timed updates instead of 1000 (a smoke run). One progress line per section goes to stderr.

Sections (for the default spec ``keydoor`` and the harder ``keydoor:steps=3``, whose
episodes leave one or two tries each):

1. Recovery: on N test tasks and N ood tasks (seed 1, the tasks ``metaplastic evaluate
   --seed 1`` draws, with the same agent seeds), the fraction of tasks whose most probable
   goal rule (``agent.best_goal_rule``) is the hidden one after 1, 2, 3 and 5 episodes of a
   5-episode trial, with the learned prior and with the uniform prior (``prior=uniform``);
   the paired difference learned - uniform on the same tasks; the trial return (5 episodes).
2. Returns: ``metaplastic.evaluate(..., n_tasks=N, seed=1)`` (the family's trial length, 4
   episodes) of random, oracle and the symbolic learner (both priors), normalized score
   ``(r - random) / (oracle - random)``; ops per decision of the symbolic learner.
3. Induction time per update: ``agent.observe`` (the transition's facts and the induction
   update) of a one-lane agent over real trials (one warm-up trial first: numba compile),
   p50/p90 over >= 1000 updates; and a 500-lane agent's per-call time divided by the lanes
   it updated. Also ``agent.act`` (which draws a program from the posterior when needed).

Every symbolic learner is ``metaplastic.make("symbolic", prior=...)`` (defaults otherwise:
acting thompson, noise 1e-3, pseudocount 1, prior_tasks 4096) meta-trained with
``meta_train(tasks, budget=1, seed=0)`` on the spec it is measured on. Timings come from a
shared, possibly busy 2-core machine: they are noisy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import metaplastic
from metaplastic.bench.adaptation import normalized
from metaplastic.metrics.stats import ci95
from metaplastic.runtime.vector import drive_trials
from metaplastic.tasks.base import task_spec

SPECS = ("keydoor", "keydoor:steps=3")
SPLITS = ("test", "ood")
PRIORS = ("learned", "uniform")
EVAL_SEED = 1          # tasks, agent and env seeds of sections 1 and 2 (as `evaluate --seed 1`)
TIMING_SEED = 2        # the tasks played by the timing section
TRAIN_SEED = 0
EPISODES = 5           # section 1's trial
AFTER = (1, 2, 3, 5)   # episodes after which recovery is reported
OP_KEYS = ("rule_evals", "bit_ops", "posterior_updates")
TARGET_RECOVERY, TARGET_EPISODES, UNIFORM_BELOW, TARGET_P50_MS = 0.95, 3, 0.60, 10.0

T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


_LEARNERS: dict[tuple[str, str], Any] = {}


def learner(spec: str, prior: str) -> Any:
    """``make("symbolic", prior=prior)`` meta-trained on ``spec`` (budget 1, seed 0), cached."""
    key = (spec, prior)
    if key not in _LEARNERS:
        lr = metaplastic.make("symbolic", prior=prior)
        lr.meta_train(metaplastic.make_tasks(spec), budget=1, seed=TRAIN_SEED, show_progress=False)
        _LEARNERS[key] = lr
    return _LEARNERS[key]


def label(lr: Any, tasks: Any, **extra: Any) -> dict[str, Any]:
    """The exact config a figure came from."""
    spec = task_spec(tasks)
    c = lr.config
    text = f"symbolic(prior={c['prior']}, acting={c['acting']}, noise={c['noise']:g}, prior_tasks={c['prior_tasks']}) @ {spec}"
    return {"backend": "symbolic", "config": dict(c), "meta_train": {"budget": 1, "seed": TRAIN_SEED}, "tasks": spec,
            "text": text, **extra}


def seeds_of(task_list: Sequence[Any], seed: int) -> tuple[np.ndarray, int]:
    """Agent seeds and the env seed ``metaplastic.evaluate`` gives a single batch of these tasks."""
    seeds = np.array([np.random.SeedSequence([seed, t.seed]).generate_state(2, dtype=np.uint32) for t in task_list])
    env_seed = int(np.random.SeedSequence([seed, 0xB47C4, 0]).generate_state(1)[0])
    return seeds[:, 0], env_seed


def wilson(k: int, n: int) -> list[float]:
    """The 95% Wilson interval of a proportion ``k / n``."""
    if n == 0:
        return [0.0, 1.0]
    z, p = 1.959964, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


# -- 1. recovery -----------------------------------------------------------------------------
def recovery_run(spec: str, split: str, prior: str, n: int) -> dict[str, Any]:
    """Play a 5-episode trial on ``n`` tasks; after each episode, per task: is the most
    probable goal rule the hidden one, the posterior mass of the hidden one, and is the top
    goal rule tied with the next."""
    tasks = metaplastic.make_tasks(spec)
    lr = learner(spec, prior)
    task_list = tasks.sample(n, seed=EVAL_SEED, split=split)
    agent_seeds, env_seed = seeds_of(task_list, EVAL_SEED)
    agent = lr.vector_agent(tasks, n)
    dom = agent.domain
    truth = np.array([dom.true_goal_rule(r) for r in tasks.rules(task_list)])
    hits = np.zeros((n, EPISODES), dtype=bool)
    p_true = np.zeros((n, EPISODES))
    tied = np.zeros((n, EPISODES), dtype=bool)
    count = np.zeros(n, dtype=np.int64)

    def end_episode(mask: Any) -> None:
        agent.end_episode(mask)
        for lane in np.flatnonzero(mask):
            e = count[lane]
            hits[lane, e] = agent.best_goal_rule(int(lane)) == truth[lane]
            marg = agent.inducer.rule_marginals(int(lane))
            p_true[lane, e] = marg.get(int(truth[lane]), 0.0)
            goal_p = sorted((p for r, p in marg.items() if dom.rule_head[r] == 0), reverse=True)
            tied[lane, e] = len(goal_p) > 1 and goal_p[0] - goal_p[1] < 1e-9
            count[lane] += 1

    agent.reset(agent_seeds)
    t = time.perf_counter()
    venv = tasks.make_vector_env(task_list)
    returns = drive_trials(venv, EPISODES, env_seed=env_seed, act=agent.act, observe=agent.observe,
                           end_episode=end_episode, tasks=task_list, where=task_spec(tasks))
    venv.close()
    wall = time.perf_counter() - t
    assert (count == EPISODES).all()
    trial = returns.sum(axis=1)
    lo, hi = ci95(trial)
    return {
        "label": label(lr, tasks, split=split, n_tasks=n, seed=EVAL_SEED, episodes=EPISODES),
        "recovery": {str(k): float(hits[:, k - 1].mean()) for k in AFTER},
        "recovery_ci95": {str(k): wilson(int(hits[:, k - 1].sum()), n) for k in AFTER},
        "p_true_goal_mean": {str(k): float(p_true[:, k - 1].mean()) for k in AFTER},
        "top_goal_tied": {str(k): float(tied[:, k - 1].mean()) for k in AFTER},
        "strict_recovery": {str(k): float((hits[:, k - 1] & ~tied[:, k - 1]).mean()) for k in AFTER},
        "first_episode_at_target": next((k for k in range(1, EPISODES + 1) if hits[:, k - 1].mean() >= TARGET_RECOVERY),
                                        None),
        "trial_return_mean": float(trial.mean()), "trial_return_ci95": [float(lo), float(hi)],
        "per_episode_return": [float(x) for x in returns.mean(axis=0)],
        "wall_s": wall, "_hits": hits,
    }


def paired(learned: dict[str, Any], uniform: dict[str, Any]) -> dict[str, Any]:
    """Learned - uniform recovery on the same tasks: mean difference and its 95% interval."""
    out = {}
    for k in AFTER:
        d = learned["_hits"][:, k - 1].astype(float) - uniform["_hits"][:, k - 1].astype(float)
        lo, hi = ci95(d)
        out[str(k)] = {"diff": float(d.mean()), "ci95": [float(lo), float(hi)], "uniform": uniform["recovery"][str(k)],
                       "learned": learned["recovery"][str(k)], "measurably_better": bool(lo > 0)}
    return out


def section_recovery(n: int) -> list[dict[str, Any]]:
    rows = []
    for spec in SPECS:
        for split in SPLITS:
            runs = {}
            for prior in PRIORS:
                runs[prior] = recovery_run(spec, split, prior, n)
                r = runs[prior]
                log(f"recovery {spec} {split} prior={prior}: " +
                    ", ".join(f"after {k}: {r['recovery'][str(k)]:.3f}" for k in AFTER) +
                    f"; trial return {r['trial_return_mean']:.3f} ({r['wall_s']:.1f} s)")
            diff = paired(runs["learned"], runs["uniform"])
            for prior in PRIORS:
                runs[prior].pop("_hits")
            rows.append({"spec": spec, "split": split, "learned": runs["learned"], "uniform": runs["uniform"],
                         "learned_minus_uniform": diff})
    return rows


# -- 2. returns and ops ----------------------------------------------------------------------
def section_returns(n: int) -> list[dict[str, Any]]:
    rows = []
    for spec in SPECS:
        tasks = metaplastic.make_tasks(spec)
        for split in SPLITS:
            ref = {b: metaplastic.evaluate(b, tasks, n_tasks=n, seed=EVAL_SEED, split=split) for b in ("random", "oracle")}
            row: dict[str, Any] = {"spec": spec, "spec_full": task_spec(tasks), "split": split, "n_tasks": n, "seed": EVAL_SEED,
                                   "episodes": tasks.episodes_per_trial,
                                   "random": ref["random"].return_mean, "oracle": ref["oracle"].return_mean}
            for prior in PRIORS:
                lr = learner(spec, prior)
                res = metaplastic.evaluate(lr, tasks, n_tasks=n, seed=EVAL_SEED, split=split)
                per = res.ops.per_decision()
                d = res.ops.as_dict()
                row[prior] = {
                    "label": label(lr, tasks, split=split, n_tasks=n, seed=EVAL_SEED, episodes=res.episodes),
                    "return_mean": res.return_mean, "return_ci95": list(res.return_ci95),
                    "per_episode_mean": [float(x) for x in res.per_episode_mean],
                    "normalized_score": normalized(res.return_mean, ref["random"].return_mean, ref["oracle"].return_mean),
                    "ops_per_decision": {k: per[k] for k in OP_KEYS},
                    "ops_per_posterior_update": {k: d[k] / d["posterior_updates"] for k in OP_KEYS[:2]}
                    if d["posterior_updates"] else None,
                    "decisions": d["decisions"], "wall_s": res.wall_time_s,
                }
            rows.append(row)
            log(f"returns {spec} {split}: random {row['random']:.3f}, oracle {row['oracle']:.3f}, "
                f"learned {row['learned']['return_mean']:.3f}, uniform {row['uniform']['return_mean']:.3f}")
    return rows


# -- 3. induction time -----------------------------------------------------------------------
def _timed(agent: Any, observe_ns: list[int], act_ns: list[int], lanes_per_call: list[int]) -> tuple[Any, Any]:
    def act(obs: Any, active: Any) -> Any:
        t = time.perf_counter_ns()
        out = agent.act(obs, active)
        if np.asarray(active).any():
            act_ns.append(time.perf_counter_ns() - t)
        return out

    def observe(obs: Any, actions: Any, rewards: Any, next_obs: Any, term: Any, trunc: Any, active: Any) -> None:
        t = time.perf_counter_ns()
        agent.observe(obs, actions, rewards, next_obs, term, trunc, active)
        dt = time.perf_counter_ns() - t
        k = int(np.asarray(active, dtype=bool).sum())
        if k:
            observe_ns.append(dt)
            lanes_per_call.append(k)

    return act, observe


def percentiles_ms(ns: Sequence[float]) -> dict[str, float]:
    a = np.asarray(ns, dtype=float) / 1e6
    return {"p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)),
            "p99": float(np.percentile(a, 99)), "mean": float(a.mean()), "n": int(a.size)}


def time_one_lane(spec: str, split: str, min_updates: int) -> dict[str, Any]:
    tasks = metaplastic.make_tasks(spec)
    lr = learner(spec, "learned")
    agent = lr.vector_agent(tasks, 1)
    pool = tasks.sample(max(4 * min_updates, 100), seed=TIMING_SEED, split=split)
    # warm-up trial: numba compile (or load from cache), first-call set-up
    warm_o: list[int] = []
    warm_a: list[int] = []
    agent.reset([0])
    act, observe = _timed(agent, warm_o, warm_a, [])
    drive_trials(tasks.make_vector_env(pool[:1]), tasks.episodes_per_trial, env_seed=0, act=act, observe=observe,
                 end_episode=agent.end_episode)
    observe_ns: list[int] = []
    act_ns: list[int] = []
    trials = 0
    for i, task in enumerate(pool[1:], start=1):
        agent.reset([i])
        act, observe = _timed(agent, observe_ns, act_ns, [])
        drive_trials(tasks.make_vector_env([task]), tasks.episodes_per_trial, env_seed=i, act=act, observe=observe,
                     end_episode=agent.end_episode)
        trials += 1
        if len(observe_ns) >= min_updates:
            break
    return {"label": label(lr, tasks, split=split, lanes=1, trials=trials, seed=TIMING_SEED,
                           episodes=tasks.episodes_per_trial),
            "observe_ms": percentiles_ms(observe_ns), "act_ms": percentiles_ms(act_ns),
            "warmup_first_observe_ms": warm_o[0] / 1e6 if warm_o else None}


def time_batch(spec: str, split: str, lanes: int) -> dict[str, Any]:
    tasks = metaplastic.make_tasks(spec)
    lr = learner(spec, "learned")
    task_list = tasks.sample(lanes, seed=TIMING_SEED, split=split)
    agent = lr.vector_agent(tasks, lanes)
    observe_ns: list[int] = []
    act_ns: list[int] = []
    per_call: list[int] = []
    agent.reset(np.arange(lanes))
    act, observe = _timed(agent, observe_ns, act_ns, per_call)
    drive_trials(tasks.make_vector_env(task_list), tasks.episodes_per_trial, env_seed=0, act=act, observe=observe,
                 end_episode=agent.end_episode)
    o, k = np.asarray(observe_ns, dtype=float), np.asarray(per_call, dtype=float)
    return {"label": label(lr, tasks, split=split, lanes=lanes, seed=TIMING_SEED, episodes=tasks.episodes_per_trial),
            "calls": int(o.size), "lane_updates": int(k.sum()),
            "per_lane_update_ms": float(o.sum() / k.sum() / 1e6),
            "per_lane_update_ms_p50_of_calls": float(np.percentile(o / k, 50) / 1e6),
            "per_call_ms": percentiles_ms(o), "act_per_call_ms": percentiles_ms(act_ns)}


def section_timing(min_updates: int, lanes: int) -> list[dict[str, Any]]:
    rows = []
    for spec in SPECS:
        for split in SPLITS:
            one = time_one_lane(spec, split, min_updates)
            batch = time_batch(spec, split, lanes)
            rows.append({"spec": spec, "split": split, "one_lane": one, "batch": batch})
            log(f"timing {spec} {split}: one lane observe p50 {one['observe_ms']['p50']:.3f} ms "
                f"p90 {one['observe_ms']['p90']:.3f} ms (n={one['observe_ms']['n']}); {lanes} lanes "
                f"{batch['per_lane_update_ms'] * 1e3:.1f} us per lane-update")
    return rows


# -- targets and report -----------------------------------------------------------------------
def targets(rec: list[dict[str, Any]], timing: list[dict[str, Any]]) -> dict[str, Any]:
    t1 = []
    for row in rec:
        r = row["learned"]
        best = max(r["recovery"][str(k)] for k in AFTER if k <= TARGET_EPISODES)
        t1.append({"spec": row["spec"], "split": row["split"], "recovery_after_3": r["recovery"]["3"],
                   "best_within_3": best, "strict_after_3": r["strict_recovery"]["3"], "met": best >= TARGET_RECOVERY})
    t2 = []
    for row in rec:
        for k, d in row["learned_minus_uniform"].items():
            if d["uniform"] < UNIFORM_BELOW:
                t2.append({"spec": row["spec"], "split": row["split"], "after": int(k), **d,
                           "met": d["measurably_better"]})
    t3 = [{"spec": row["spec"], "split": row["split"], "p50_ms": row["one_lane"]["observe_ms"]["p50"],
           "met": row["one_lane"]["observe_ms"]["p50"] <= TARGET_P50_MS} for row in timing]
    return {
        "recovery": {"target": f">= {TARGET_RECOVERY:.0%} recovery of the hidden goal rule after <= "
                               f"{TARGET_EPISODES} episodes with the learned prior", "rows": t1},
        "prior_matters": {"target": f"learned prior measurably better (paired 95% interval of learned - uniform "
                                    f"above 0) wherever the uniform prior's recovery is below {UNIFORM_BELOW:.0%}",
                          "rows": t2},
        "induction_time": {"target": f"<= {TARGET_P50_MS:g} ms p50 per induction update (one lane)", "rows": t3},
    }


def fmt(x: Any, nd: int = 3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "**no**"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def markdown(rep: dict[str, Any]) -> str:
    m = rep["meta"]
    out = ["# symbolic backend on keydoor", "",
           f"Command: `{m['command']}`  ",
           f"Runtime: {m['runtime_s']:.0f} s; host: {m['cpus']} CPUs, load average at start {m['loadavg_start']}, "
           f"{m['python']}, numpy {m['numpy']}; git {m['git']}  ",
           f"Learners: `metaplastic.make(\"symbolic\", prior=P)` (acting thompson, noise 0.001, prior_tasks 4096), "
           f"`meta_train(make_tasks(SPEC), budget=1, seed={TRAIN_SEED})` on the spec measured. "
           f"Tasks: seed {EVAL_SEED} (`tasks.sample(N, seed={EVAL_SEED}, split=...)`, agent seeds as "
           f"`metaplastic.evaluate(..., seed={EVAL_SEED})`). Specs in full: "
           + "; ".join(f"`{s}` = `{task_spec(metaplastic.make_tasks(s))}`" for s in SPECS), ""]
    # targets
    out += ["## Targets", ""]
    for key, t in rep["targets"].items():
        out.append(f"* **{key}** — {t['target']}:")
        for split in SPLITS:
            rows = [r for r in t["rows"] if r["split"] == split]
            bad = [f"`{r['spec']}`" + (f" after {r['after']}" if "after" in r else "") for r in rows if not r["met"]]
            verdict = "no row applies" if not rows else ("met" if not bad else "not met: " + "; ".join(bad))
            out.append(f"  * {split} split ({len(rows)} rows): {verdict}")
    out += ["", "The targets are read on the test split (in-distribution tasks); the ood split's goal door never opens "
            "with its own colour's key, which the training tasks never show, so there the learned prior is wrong by "
            "construction and the ood rows measure what that costs.", ""]
    # recovery
    n = rep["config"]["n_tasks"]
    out += ["## 1. Recovery of the hidden goal rule", "",
            f"Fraction of {n} tasks whose most probable goal rule (`agent.best_goal_rule(lane)`) equals the hidden one "
            f"(`domain.true_goal_rule(tasks.rules(...))`), after k episodes of one {EPISODES}-episode trial; 95% Wilson "
            "interval in brackets; `tied`: fraction of tasks whose top goal rule is tied with the next (then "
            "`best_goal_rule` breaks the tie by pool index, the highest wins); `strict`: recovered with a unique top goal "
            "rule (ties counted as misses); `P(true)`: mean posterior mass of the hidden goal rule. "
            f"Trial return over the {EPISODES} episodes (oracle: {EPISODES} x 0.99).", "",
            "| spec | split | prior | after 1 | after 2 | after 3 | after 5 | tied after 1 | strict after 1 / 3 | "
            f"P(true) after 1 / 3 | trial return ({EPISODES} ep.) |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rep["recovery"]:
        for prior in PRIORS:
            r = row[prior]
            cells = [f"{r['recovery'][str(k)]:.3f} [{r['recovery_ci95'][str(k)][0]:.3f}, {r['recovery_ci95'][str(k)][1]:.3f}]"
                     for k in AFTER]
            out.append(f"| `{row['spec']}` | {row['split']} | {prior} | " + " | ".join(cells) +
                       f" | {r['top_goal_tied']['1']:.3f} | {r['strict_recovery']['1']:.3f} / {r['strict_recovery']['3']:.3f}"
                       f" | {r['p_true_goal_mean']['1']:.3f} / "
                       f"{r['p_true_goal_mean']['3']:.3f} | {r['trial_return_mean']:.3f} |")
    out += ["", "Paired difference learned − uniform (same tasks, same agent seeds), mean [95% interval]:", "",
            "| spec | split | after 1 | after 2 | after 3 | after 5 |", "|---|---|---|---|---|---|"]
    for row in rep["recovery"]:
        d = row["learned_minus_uniform"]
        out.append(f"| `{row['spec']}` | {row['split']} | " + " | ".join(
            f"{d[str(k)]['diff']:+.3f} [{d[str(k)]['ci95'][0]:+.3f}, {d[str(k)]['ci95'][1]:+.3f}]" for k in AFTER) + " |")
    out += ["", "Configs: " + "; ".join(sorted({f"`{row[p]['label']['text']}`" for row in rep["recovery"] for p in PRIORS})), ""]
    # returns
    out += ["## 2. Trial returns and ops", "",
            f"`metaplastic.evaluate(B, SPEC, n_tasks={n}, seed={EVAL_SEED}, split=S)`, the family's trial length "
            "(4 episodes); normalized = (r − random) / (oracle − random) "
            "(`metaplastic.bench.adaptation.normalized`).", "",
            "| spec | split | random | oracle | learned prior | 95% interval | normalized | uniform prior | 95% interval | normalized |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rep["returns"]:
        lr_, un = row["learned"], row["uniform"]
        out.append(f"| `{row['spec']}` | {row['split']} | {row['random']:.3f} | {row['oracle']:.3f} | "
                   f"{lr_['return_mean']:.3f} | [{lr_['return_ci95'][0]:.3f}, {lr_['return_ci95'][1]:.3f}] | "
                   f"{fmt(lr_['normalized_score'])} | {un['return_mean']:.3f} | "
                   f"[{un['return_ci95'][0]:.3f}, {un['return_ci95'][1]:.3f}] | {fmt(un['normalized_score'])} |")
    out += ["", "Ops per decision (`evaluate(...).ops.per_decision()`), and per posterior update:", "",
            "| spec | split | prior | rule_evals / decision | bit_ops / decision | posterior_updates / decision | "
            "rule_evals / update | bit_ops / update |", "|---|---|---|---|---|---|---|---|"]
    for row in rep["returns"]:
        for prior in PRIORS:
            o, u = row[prior]["ops_per_decision"], row[prior]["ops_per_posterior_update"] or {}
            out.append(f"| `{row['spec']}` | {row['split']} | {prior} | {o['rule_evals']:.1f} | {o['bit_ops']:.1f} | "
                       f"{o['posterior_updates']:.3f} | {fmt(u.get('rule_evals'), 1)} | {fmt(u.get('bit_ops'), 1)} |")
    out.append("")
    # timing
    tm = rep["timing"]
    out += ["## 3. Induction time per update", "",
            f"One-lane agent (`learner.vector_agent(tasks, 1)`, learned prior), `agent.observe(...)` timed with "
            f"`perf_counter_ns` over real trials of tasks `sample(..., seed={TIMING_SEED})` after one warm-up trial "
            f"(numba compile / cache load); batch: one trial of a {rep['config']['batch_lanes']}-lane agent, each "
            "`observe` call's time divided by the lanes it updated. A shared, possibly busy 2-core machine: noisy.", "",
            "| spec | split | updates | observe p50 ms | p90 ms | p99 ms | mean ms | act p50 ms | "
            f"{rep['config']['batch_lanes']} lanes: ms per lane-update | (p50 of calls) | per call p50 ms |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in tm:
        o, a, b = row["one_lane"]["observe_ms"], row["one_lane"]["act_ms"], row["batch"]
        out.append(f"| `{row['spec']}` | {row['split']} | {o['n']} | {o['p50']:.3f} | {o['p90']:.3f} | {o['p99']:.3f} | "
                   f"{o['mean']:.3f} | {a['p50']:.3f} | {b['per_lane_update_ms']:.4f} | "
                   f"{b['per_lane_update_ms_p50_of_calls']:.4f} | {b['per_call_ms']['p50']:.2f} |")
    out.append("")
    return "\n".join(out) + "\n"


def _git() -> str:
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[1]).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True,
                               cwd=Path(__file__).resolve().parents[1]).stdout.strip()
        return head + ("+uncommitted changes" if dirty else "")
    except OSError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 tasks, 200 timed updates (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("reports/symbolic"), help="report folder")
    args = parser.parse_args(argv)
    n = 100 if args.quick else 500
    min_updates = 200 if args.quick else 1000
    lanes = 500
    load = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    rep: dict[str, Any] = {"config": {"specs": list(SPECS), "splits": list(SPLITS), "priors": list(PRIORS),
                                      "n_tasks": n, "eval_seed": EVAL_SEED, "train_seed": TRAIN_SEED,
                                      "timing_seed": TIMING_SEED, "recovery_episodes": EPISODES, "after": list(AFTER),
                                      "min_timed_updates": min_updates, "batch_lanes": lanes, "quick": args.quick}}
    log("section 1: recovery")
    rep["recovery"] = section_recovery(n)
    log("section 2: returns and ops")
    rep["returns"] = section_returns(n)
    log("section 3: induction time")
    rep["timing"] = section_timing(min_updates, lanes)
    rep["targets"] = targets(rep["recovery"], rep["timing"])
    rep["meta"] = {"command": " ".join([".venv/bin/python benchmarks/symbolic_keydoor.py", *(argv if argv is not None
                                                                                             else sys.argv[1:])]),
                   "runtime_s": time.perf_counter() - T0, "cpus": os.cpu_count(), "loadavg_start": load,
                   "loadavg_end": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
                   "numpy": np.__version__, "metaplastic": getattr(metaplastic, "__version__", "?"), "git": _git()}
    (args.out / "keydoor.json").write_text(json.dumps(rep, indent=2, allow_nan=False) + "\n")
    md = markdown(rep)
    (args.out / "keydoor.md").write_text(md)
    print(md)
    log(f"wrote {args.out / 'keydoor.json'} and {args.out / 'keydoor.md'}")


if __name__ == "__main__":
    main()
