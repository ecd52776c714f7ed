"""``metaplastic bench``: backends side by side on the same tasks — adaptation, latency,
operations and energy — in one report.

For each backend it meta-trains (or loads a trained run), evaluates on the test and (where
the family has one) the ``ood`` split against the random policy and the family's reference baseline, times its
decisions, counts its operations and models its energy on each hardware profile (measuring
energy too where a meter exists). :func:`run_bench` returns the report as a dict;
:mod:`metaplastic.bench.report` writes it.

Example:
    >>> cfg = BenchConfig(backends=["random"], tasks="bandits:k=3,n=5", n_tasks=20, latency_decisions=50,
    ...                   throughput_decisions=5, profiles=["cpu-45nm"])
    >>> report = run_bench(cfg, progress=False)
    >>> sorted(report["backends"]["random"]["latency_s"])[:3]
    ['act_p50', 'act_p99', 'batch']
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaplastic.bench.adaptation import adaptation_measures
from metaplastic.bench.energy import builtin_profiles, load_profile, model_energy, time_applies
from metaplastic.bench.headline import equal_return, points_from_ladder, points_from_report
from metaplastic.bench.latency import decision_latency
from metaplastic.bench.meters import available_meters
from metaplastic.bench.posterior import bench_posterior
from metaplastic.core import Configurable, DeviceLearner, VectorLearner, Versioned
from metaplastic.errors import ConfigError
from metaplastic.evaluation import success_definition
from metaplastic.runs.reference_runs import ReferenceRun, reference_runs
from metaplastic.runs.rundir import RunDir
from metaplastic.tasks.base import TaskFamily
from metaplastic.training.budget import Budget
from metaplastic.training.state import TrainState

__all__ = ["BenchConfig", "run_bench", "SCHEMA", "SCHEMA_VERSION"]

SCHEMA = "metaplastic.bench.report"
SCHEMA_VERSION = 1


@dataclass
class BenchConfig:
    """What ``metaplastic bench`` was asked to do."""

    backends: list[str]
    tasks: str = "bandits:k=5,n=10"
    budget: str = "1m"                          # meta-training per backend that has it
    runs: dict[str, str] = field(default_factory=dict)  # backend name -> trained run directory
    profiles: list[str] = field(default_factory=builtin_profiles)
    seed: int = 0
    n_tasks: int = 1000                         # per split
    latency_decisions: int = 2000               # at batch 1, after warm-up
    throughput_batch: int = 256
    throughput_decisions: int = 200             # steps of the batched agent
    ladders: list[str] = field(default_factory=list)  # `metaplastic sweep` folders for the headline at equal return
    reference_runs: bool = False                # also bench the shipped trained runs on these tasks (rows "<name>")
    command: str = ""

    @classmethod
    def quick(cls, **kw: Any) -> "BenchConfig":
        """Small budgets for a first look (and the README's main command)."""
        base = dict(budget="45s", n_tasks=300, latency_decisions=1000, throughput_decisions=100)
        return cls(**{**base, **kw})


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("metaplastic", "numpy", "numba", "gymnasium", "torch", "snntorch", "nir"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def _machine() -> dict[str, Any]:
    cuda = False
    if "torch" in sys.modules:
        cuda = bool(sys.modules["torch"].cuda.is_available())
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "cuda": cuda}


def _stat(res: Any, split: str) -> dict[str, Any] | None:
    if res is None:
        return None  # the family has no such split (Meta-World has no ood)
    lo, hi = res.return_ci95
    return {"mean": res.return_mean, "ci95": [lo, hi], "n_tasks": res.n_tasks, "split": split,
            "unit": "reward per trial", "kind": "measured"}


def _success(res: Any) -> dict[str, Any] | None:
    """The success rate of an evaluation on a family with success (its headline), else None."""
    if res.success_rate is None:
        return None
    lo, hi = res.success_rate_ci95
    scored = res.scored_episodes
    return {"mean": res.success_rate, "ci95": [lo, hi], "n_tasks": res.n_tasks, "unit": "1", "kind": "measured",
            "scored_episodes": [scored.start, scored.stop],
            "definition": success_definition(scored) + ", per task, then averaged over tasks",
            "interval": "Wilson score, over tasks"}


def _splits(tasks: Any) -> tuple[str, ...]:
    """The splits the bench evaluates: test, and ood where the family has one."""
    return ("test", "ood") if not isinstance(tasks, TaskFamily) or "ood" in tasks.splits else ("test",)


def _curve(res: Any) -> dict[str, Any]:
    return {"mean": res.per_episode_mean.tolist(),
            "ci95_halfwidth": [None if x != x else float(x) for x in res.per_episode_ci95.tolist()],
            "unit": "reward per episode", "kind": "measured"}


@dataclass
class Row:
    """One row of the report: its name, the learner, and the trained run it was loaded
    from (``None``: trained here, or nothing to train) with the shipped run's record."""

    name: str
    learner: Any
    run: str | None = None
    shipped: ReferenceRun | None = None


def prepare(cfg: BenchConfig) -> tuple[Any, list[Row], list[Any], Budget]:
    """Check everything that can be checked before any work: the task spec, every backend
    name and run directory, the profiles and the budget. Returns (tasks, rows, profiles,
    budget); with ``cfg.reference_runs`` the shipped trained runs on these tasks follow
    the backends' rows."""
    import metaplastic
    from metaplastic.registry import BACKENDS

    if not cfg.backends:
        raise ConfigError("no backends to benchmark; pass --backends a,b,c (see `metaplastic backends`)")
    tasks = metaplastic.make_tasks(cfg.tasks)
    profiles = [load_profile(p) for p in cfg.profiles]
    budget = Budget.parse(cfg.budget)
    for ladder in cfg.ladders:  # unreadable or foreign ladders fail before any work
        points_from_ladder(ladder, tasks.spec)
    unknown_runs = sorted(set(cfg.runs) - set(cfg.backends))
    if unknown_runs:
        raise ConfigError(f"--run names {', '.join(unknown_runs)} but --backends does not; add them to --backends")
    rows = []
    for name in cfg.backends:
        if name in cfg.runs:
            run, resolved = RunDir(cfg.runs[name]), BACKENDS.resolve(name)
            caps = BACKENDS.info(resolved).capabilities
            # a backend that runs a given network (requires "net": lava) runs a foreign run's network
            foreign = run.backend != resolved and caps is not None and "net" in caps.requires
            learner = metaplastic.load(run, backend=resolved) if foreign else metaplastic.load(run)
            if learner.name != resolved:
                raise ConfigError(f"--run {name}={cfg.runs[name]}: that run was trained with backend {learner.name!r}; "
                                  f"pass --run {learner.name}=... and list {learner.name} in --backends")
        else:
            learner = _make_seeded(name, cfg.seed)
        caps = learner.capabilities
        if not caps.applies_to(tasks.name):
            raise ConfigError(f"backend {name!r} does not apply to task family {tasks.name!r}; "
                              f"it applies to {', '.join(caps.families)}")
        rows.append(Row(name, learner, cfg.runs.get(name)))
    if cfg.reference_runs:
        for ref in reference_runs(tasks.spec):
            if ref.name in cfg.backends:
                raise ConfigError(f"shipped reference run {ref.name!r} has the name of a benchmarked backend; "
                                  "rename the backend row or drop --reference-runs")
            rows.append(Row(ref.name, metaplastic.load(ref.path), str(ref.path), ref))
    return tasks, rows, profiles, budget


def _make_seeded(name: str, seed: int) -> Any:
    """``make(name, seed=seed)``, or ``make(name)`` for a backend that declares no ``seed``."""
    import metaplastic
    from metaplastic.registry import BACKENDS

    keys = BACKENDS.info(BACKENDS.resolve(name)).config_keys
    return metaplastic.make(name, seed=seed) if keys is not None and "seed" in keys else metaplastic.make(name)


def run_bench(cfg: BenchConfig, *, progress: bool = True) -> dict[str, Any]:
    """Run the benchmark and return the report (see :mod:`metaplastic.bench.report`)."""
    import metaplastic
    from rich.console import Console

    tasks, rows, profiles, budget = prepare(cfg)
    say = Console(stderr=True).print if progress else (lambda *a, **k: None)
    ev = dict(n_tasks=cfg.n_tasks, seed=cfg.seed, progress=progress)
    reference_name = tasks.reference if isinstance(tasks, TaskFamily) else "oracle"
    say(f"[bold]references[/bold]: random and {reference_name} on {tasks.spec}")
    refs = {}
    for role, name in (("random", "random"), ("reference", reference_name)):
        if role == "reference" and name == "random":  # Meta-World's reference is random itself: evaluated once
            refs[role] = refs["random"]
            continue
        learner = metaplastic.make(name)
        refs[role] = {split: metaplastic.evaluate(learner, tasks, split=split, **ev) for split in _splits(tasks)}
    meters = available_meters()
    report: dict[str, Any] = {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": cfg.command, "machine": _machine(),
        "versions": _versions(), "task_versions": tasks.versions() if isinstance(tasks, Versioned) else {},
        "seed": cfg.seed,
        "tasks": tasks.spec, "n_tasks_per_split": cfg.n_tasks,
        "references": {role: {"backend": "random" if role == "random" else reference_name,
                              "trial_return": _stat(r["test"], "test"), "ood_trial_return": _stat(r.get("ood"), "ood"),
                              "success_rate": _success(r["test"]),
                              "per_episode": _curve(r["test"])} for role, r in refs.items()},
        "profiles": {p.name: p.as_dict() for p in profiles},
        "meters": {k: {"available": m.available, "reason": m.reason} for k, m in meters.items()},
        "backends": {},
    }
    if cfg.reference_runs:
        report["reference_runs"] = {r.name: {"made_by": r.shipped.made_by, "recorded": r.shipped.evaluation,
                                             "description": r.shipped.description} for r in rows if r.shipped}
    for row in rows:
        name, learner = row.name, row.learner
        say(f"[bold]{name}[/bold]")
        report["backends"][name] = _bench_one(cfg, row, tasks, refs, profiles, meters, ev, budget)
        picture = bench_posterior(learner, tasks, seed=cfg.seed)  # energy learners: the posterior picture
        if picture is not None:
            report["backends"][name]["posterior"], png = picture
            if png is not None:
                report.setdefault("figures", {})[f"posterior_{name}"] = png
    report["headline"] = headline(report)
    points = points_from_report(report) + [p for ladder in cfg.ladders for p in points_from_ladder(ladder, tasks.spec)]
    report["equal_return"] = equal_return(points)
    return report


def _bench_one(cfg: BenchConfig, row: Row, tasks: Any, refs: dict[str, Any], profiles: list[Any],
               meters: dict[str, Any], ev: dict[str, Any], budget: Budget) -> dict[str, Any]:
    import metaplastic

    learner = row.learner
    caps = learner.capabilities
    training: dict[str, Any] = {}
    if row.run is not None:
        source = row.shipped.summary() if row.shipped else f"trained run {row.run}"
        training = {k: v for k, v in (RunDir(row.run).progress() or {}).items() if k in ("updates", "seconds", "tasks_seen")}
    elif caps.meta_train:
        state = learner.meta_train(tasks, budget=budget, seed=cfg.seed)
        training = state.as_dict() if isinstance(state, TrainState) else {}
        source = f"meta-trained here for {cfg.budget}"
    else:
        source = "no meta-training (capabilities.meta_train is False)"
    test = metaplastic.evaluate(learner, tasks, split="test", **ev)
    ood = metaplastic.evaluate(learner, tasks, split="ood", **ev) if "ood" in _splits(tasks) else None
    b1 = decision_latency(learner, tasks, batch=1, decisions=cfg.latency_decisions, warmup=min(200, cfg.latency_decisions))
    throughput: dict[str, Any] = {"batch": cfg.throughput_batch, "unit": "decisions/s", "kind": "measured"}
    if isinstance(learner, VectorLearner):
        bn = decision_latency(learner, tasks, batch=cfg.throughput_batch, decisions=cfg.throughput_decisions,
                              warmup=min(20, cfg.throughput_decisions))
        throughput.update(decisions_per_s=bn.decisions_per_s, p50_step_s=bn.p50_s)
    else:
        throughput.update(decisions_per_s=None, p50_step_s=None,
                          note="not measured: the backend has no batched agent (vector_agent)")
    device = str(learner.device) if isinstance(learner, DeviceLearner) else "cpu"
    device_name = _device_name(device)
    ops = test.ops
    per_trial = {k: v / test.n_tasks for k, v in ops.as_dict().items()}
    decisions_per_trial = ops.decisions / test.n_tasks
    energy, per_decision, per_trial_j, parts = {}, {}, {}, {}
    for p in profiles:
        seconds = b1.p50_s if time_applies(p, device, device_name) else None
        source_t = f"measured p50 at batch 1 on this machine's {device_name}" if seconds is not None else ""
        est = model_energy(ops, p, spiking=bool(caps.spiking), seconds_per_decision=seconds, time_source=source_t)
        energy[p.name] = est.as_dict()
        per_decision[p.name] = est.total_j
        parts[p.name] = est.as_dict()["parts"] if est.total_j is not None else "n/a"
        per_trial_j[p.name] = None if est.total_j is None else est.total_j * decisions_per_trial
    measured = {}
    for mname, meter in meters.items():
        if METER_DEVICE.get(mname) != device:
            measured[mname] = {"available": False, "j_per_decision": None,
                               "reason": f"{mname} meters the {METER_DEVICE.get(mname)}; this backend ran on {device}"}
            continue
        if not meter.available:
            measured[mname] = {"available": False, "reason": meter.reason, "j_per_decision": None}
            continue
        idle_j, idle_s, _ = meter.measure(lambda: time.sleep(0.05))
        idle_w = idle_j / idle_s
        entry = {"available": True, "reason": "", "kind": "measured", "unit": "J", "idle_power_w": idle_w,
                 "includes": "the whole device during the window (agent and environment); "
                             "above_idle subtracts the idle power measured just before"}
        batches = (1, cfg.throughput_batch) if isinstance(learner, VectorLearner) else (1,)
        for batch in batches:  # batch 1 (latency-bound) and the batched agent (throughput-bound)
            steps = 200 if batch == 1 else max(cfg.throughput_decisions, 20)
            joules, seconds, calls = meter.measure(
                lambda batch=batch, steps=steps: decision_latency(learner, tasks, batch=batch, decisions=steps, warmup=0))
            n = steps * batch * calls
            key = "" if batch == 1 else f"_batch{batch}"
            entry[f"j_per_decision{key}"] = joules / n
            entry[f"above_idle_j_per_decision{key}"] = (joules - idle_w * seconds) / n
        measured[mname] = entry
    activity = test.summary().get("activity")
    return {
        "backend": learner.name, "source": source, "device": device, "spiking": bool(caps.spiking),
        "size": _size(learner),
        "algo": learner.config.get("algo") if isinstance(learner, Configurable) else None,
        "training": training,
        "trial_return": _stat(test, "test"), "ood_trial_return": _stat(ood, "ood"),
        "success_rate": _success(test),
        "per_episode": _curve(test), "ood_per_episode": None if ood is None else _curve(ood),
        "adaptation": adaptation_measures(test, ood, refs["random"]["test"], refs["reference"]["test"],
                                          refs["random"].get("ood"), refs["reference"].get("ood")),
        "latency_s": {"p50": b1.p50_s, "p95": b1.p95_s, "p99": b1.p99_s, "act_p50": b1.act_p50_s,
                      "act_p99": b1.act_p99_s, "batch": 1, "samples": b1.samples, "unit": "s", "kind": "measured",
                      "includes": "agent.act plus the observe/end_episode that follow (adaptation work), not the env"},
        "throughput": throughput,
        "ops_per_decision": {**ops.per_decision(), "unit": "operations", "kind": "counted"},
        "ops_per_trial": {**per_trial, "unit": "operations", "kind": "counted"},
        "decisions_per_trial": decisions_per_trial,
        "activity": activity,
        "energy_per_decision_j": per_decision,
        "energy_per_decision_parts": parts,
        "energy_per_trial_j": per_trial_j,
        "energy": energy,
        "energy_measured": measured,
    }


def _size(learner: Any) -> int | None:
    """The network's size (its ``hidden`` config value: GRU units or neurons), if it has one."""
    size = learner.config.get("hidden") if isinstance(learner, Configurable) else None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


METER_DEVICE = {"nvml": "cuda", "rapl": "cpu"}  # which device each meter reads


def _device_name(device: str) -> str:
    if device.startswith("cuda") and "torch" in sys.modules:
        try:
            return str(sys.modules["torch"].cuda.get_device_name())
        except Exception:  # noqa: BLE001 - no name is not worth failing a benchmark
            return device
    return platform.processor() or platform.machine() or device


def headline(report: dict[str, Any], baseline: str = "torch", baseline_profile: str = "gpu-h100",
             profile: str = "loihi") -> dict[str, Any]:
    """Each backend's modelled energy per decision on ``profile`` over the baseline's on
    ``baseline_profile``, and the ratio of decision latencies (p50, batch 1), saying which
    energy parts are compared."""
    out: dict[str, Any] = {"baseline": baseline, "baseline_profile": baseline_profile, "profile": profile, "ratios": {}}
    base = report["backends"].get(baseline)
    if base is None:
        out["note"] = f"no {baseline} backend in this report: no baseline ratio"
        return out
    b_e = base["energy"].get(baseline_profile, {})
    for name, b in report["backends"].items():
        e = b["energy"].get(profile, {})
        ratio = None
        if e.get("total_j") is not None and b_e.get("total_j"):
            ratio = e["total_j"] / b_e["total_j"]
        out["ratios"][name] = {
            "energy_ratio": ratio,
            "compares": f"{profile} {e.get('parts', 'n/a')} vs {baseline} on {baseline_profile} {b_e.get('parts', 'n/a')}",
            "latency_ratio": b["latency_s"]["p50"] / base["latency_s"]["p50"],
            "latency_compares": "p50 at batch 1, both measured on this machine",
        }
    return out


def default_out() -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("reports") / f"bench-{stamp}"
