"""``metaplastic sweep``: a size ladder of one backend, trained and measured, and the Pareto
front of trial return against modelled energy per decision on one hardware profile.

For each size (the ``hidden`` config key: GRU units or spiking neurons) and each
``energy_coef`` (energy-aware training, spiking backends), the backend is meta-trained
for the budget, evaluated on ``n_tasks`` test tasks (mean trial return and its 95%
interval), and its counted operations per decision are priced on the profile
(:func:`metaplastic.bench.energy.model_energy`: dynamic energy, a lower bound; static
energy only where the profile states an idle power and a time per decision is known).
A point is on the front when no other point has at least its return at no more energy
(and is better in one of the two).

Example:
    >>> cfg = SweepConfig(backend="random", tasks="bandits:k=3,n=5", sizes=(1,), budget="1", n_tasks=20,
    ...                   profile="cpu-45nm")
    >>> rows = run_sweep(cfg, progress=False)["points"]
    >>> len(rows), rows[0]["size"], rows[0]["pareto"]
    (1, 1, True)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaplastic.core import Configurable, Preparable
from metaplastic.errors import ConfigError

__all__ = ["SweepConfig", "run_sweep", "read_sweep", "reprice", "pareto", "sweep_markdown", "sweep_plot", "point_name"]


@dataclass
class SweepConfig:
    """What to sweep: ``backend`` at each of ``sizes`` (its ``hidden`` key) and each of
    ``energy_coefs``, on ``tasks``, trained for ``budget`` each, priced on ``profile``."""

    backend: str
    tasks: str = "bandits:k=5,n=10"
    sizes: tuple[int, ...] = (16, 32, 64, 128)
    energy_coefs: tuple[float, ...] = (0.0,)
    budget: str = "2m"
    profile: str = "loihi"
    n_tasks: int = 1000
    seed: int = 0
    settings: dict[str, Any] = field(default_factory=dict)  # other --set KEY=VALUE, for every point
    runs_dir: str | None = None  # where each point's trained run is saved (``<runs_dir>/h<size>-c<coef>``)
    executor: str = "inprocess"  # where points train: one point per job (metaplastic.training.executors)
    workers: int = 0             # workers of that executor (0: one per CPU core or cluster CPU)


def pareto(points: list[tuple[float, float]]) -> list[bool]:
    """For ``(energy, return)`` points, whether each is on the front (no other point has at
    least its return at no more energy, better in one). Points without an energy are off.

    Example:
        >>> pareto([(1.0, 5.0), (2.0, 6.0), (3.0, 5.5), (float("nan"), 7.0)])
        [True, True, False, False]
    """
    out = []
    for i, (e, r) in enumerate(points):
        if not math.isfinite(e):
            out.append(False)
            continue
        dominated = any(j != i and math.isfinite(e2) and e2 <= e and r2 >= r and (e2 < e or r2 > r)
                        for j, (e2, r2) in enumerate(points))
        out.append(not dominated)
    return out


def _learner(cfg: SweepConfig, size: int, coef: float) -> Any:
    import metaplastic
    from metaplastic.registry import BACKENDS

    keys = BACKENDS.info(BACKENDS.resolve(cfg.backend)).config_keys or ()
    config: dict[str, Any] = dict(cfg.settings)
    if "hidden" in keys:
        config["hidden"] = size
    elif len(cfg.sizes) > 1:
        raise ConfigError(f"backend {cfg.backend!r} has no size (config key 'hidden') to sweep; give one --sizes value")
    if coef:
        if "energy_coef" not in keys:
            raise ConfigError(f"backend {cfg.backend!r} has no energy-aware training (config key 'energy_coef'); "
                              "sweep it with --energy-coefs 0")
        config["energy_coef"] = coef
    if "seed" in keys:
        config["seed"] = cfg.seed
    return metaplastic.make(cfg.backend, **config)


def point_name(size: int, coef: float) -> str:
    """The folder name of a point's saved run.

    Example:
        >>> point_name(64, 0.3)
        'h64-c0.3'
    """
    return f"h{size}-c{coef:g}"


def _train_point(job: tuple[SweepConfig, int, float, bool]) -> dict[str, Any]:
    """One point of a sweep (an executor's job): train, save, evaluate and price it."""
    import metaplastic
    from rich.console import Console

    from metaplastic.bench.energy import load_profile, model_energy

    cfg, size, coef, progress = job
    say = Console(stderr=True).print if progress else (lambda *a, **k: None)
    tasks = metaplastic.make_tasks(cfg.tasks)
    profile = load_profile(cfg.profile)
    learner = _learner(cfg, size, coef)
    if isinstance(learner, Preparable):
        learner.prepare(tasks)
    say(f"[bold]{cfg.backend}[/bold] size {size}, energy_coef {coef:g}")
    if learner.capabilities.meta_train:
        learner.meta_train(tasks, budget=cfg.budget, seed=cfg.seed, show_progress=progress)
    run = None
    if cfg.runs_dir is not None:
        run = str(Path(cfg.runs_dir) / point_name(size, coef))
        learner.save(run)
    res = metaplastic.evaluate(learner, tasks, n_tasks=cfg.n_tasks, seed=cfg.seed, progress=progress)
    s = res.summary()
    est = model_energy(res.ops, profile, spiking=bool(learner.capabilities.spiking))
    per = res.ops.per_decision()
    return {"backend": cfg.backend, "size": size, "energy_coef": coef,
            "config": dict(learner.config) if isinstance(learner, Configurable) else {},
            "trial_return": s["return_mean"], "ci95": s["return_ci95"], "n_tasks": cfg.n_tasks,
            "energy_j": est.total_j, "dynamic_j": est.dynamic_j, "static_j": est.static_j,
            "seconds_per_decision": est.seconds_per_decision, "time_kind": est.time_kind,
            "energy_parts": "dynamic+static" if est.static_j is not None else "dynamic only (a lower bound)",
            "energy_note": est.note, "spikes_per_decision": per.get("spikes", 0.0),
            "synaptic_events_per_decision": per.get("synaptic_events", 0.0),
            "macs_per_decision": per.get("macs", 0.0),
            "ops_per_decision": per, "spiking": bool(learner.capabilities.spiking), "run": run}


def run_sweep(cfg: SweepConfig, *, progress: bool = True) -> dict[str, Any]:
    """Train and measure every point; the report (``points`` with the front marked).

    With ``cfg.runs_dir`` each trained point is saved there as a run directory (named by
    :func:`point_name`, recorded as the point's ``run``) as soon as it is trained, so the
    ladder can be measured again later (``metaplastic bench --ladder``) without training.
    Each point is one job of ``cfg.executor`` (``process``, ``ray``: points train in
    parallel, each on its own worker; mind that time budgets then share the machine's cores)."""
    import metaplastic

    from metaplastic.bench.energy import load_profile
    from metaplastic.training.budget import Budget
    from metaplastic.training.executors import make_executor

    tasks = metaplastic.make_tasks(cfg.tasks)
    profile = load_profile(cfg.profile)
    Budget.parse(cfg.budget)
    if not cfg.sizes or any(s < 1 for s in cfg.sizes):
        raise ConfigError(f"--sizes must be positive integers, got {list(cfg.sizes)}")
    plan = [(s, c) for c in cfg.energy_coefs for s in cfg.sizes]
    for size, coef in plan:  # every config is checked before any training
        learner = _learner(cfg, size, coef)
        if isinstance(learner, Preparable):
            learner.prepare(tasks)
    with make_executor(cfg.executor, cfg.workers) as ex:
        # progress bars only where they can be seen: in this process
        points = ex.map(_train_point, [(cfg, size, coef, progress and cfg.executor == "inprocess")
                                       for size, coef in plan])
    _mark_front(points)
    return {"schema": "metaplastic.sweep", "schema_version": 1, "backend": cfg.backend, "tasks": tasks.spec,
            "profile": profile.name, "budget": cfg.budget, "seed": cfg.seed, "n_tasks": cfg.n_tasks,
            "energy_kind": "modelled from counted operations", "points": points}


def read_sweep(path: str | Path, flag: str) -> dict[str, Any]:
    """The report a sweep wrote (its folder or its ``sweep.json``); a one-line
    :class:`ConfigError`, prefixed by the option ``flag`` that named it, when it is not one.

    Example:
        >>> read_sweep("/nonexistent", "--ladder")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        metaplastic.errors.ConfigError: --ladder '/nonexistent': cannot read sweep.json (No such file or directory); ...
    """
    path = Path(path)
    file = path / "sweep.json" if path.is_dir() or not path.suffix else path
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not valid JSON"
        raise ConfigError(f"{flag} {str(path)!r}: cannot read {file.name} ({why}); give the folder "
                          "`metaplastic sweep --out` wrote") from None
    if not isinstance(doc, dict) or doc.get("schema") != "metaplastic.sweep":
        raise ConfigError(f"{flag} {str(path)!r}: {file.name} is not a sweep report (schema metaplastic.sweep); "
                          "give the folder `metaplastic sweep --out` wrote")
    return doc


def _mark_front(points: list[dict[str, Any]]) -> None:
    front = pareto([(p["energy_j"] if p["energy_j"] is not None else math.nan, p["trial_return"]) for p in points])
    for p, on in zip(points, front):
        p["pareto"] = on


def reprice(report: dict[str, Any], profile: str) -> dict[str, Any]:
    """The sweep ``report`` with every point's energy modelled again on ``profile`` from
    the operations per decision it recorded (no training), and its front marked again.

    Example:
        >>> cfg = SweepConfig(backend="random", tasks="bandits:k=3,n=5", sizes=(1,), budget="1", n_tasks=20,
        ...                   profile="cpu-45nm")
        >>> again = reprice(run_sweep(cfg, progress=False), "gpu-h100")
        >>> again["profile"], again["points"][0]["time_kind"]
        ('gpu-h100', 'modelled (lower bound)')
    """
    from metaplastic.bench.energy import load_profile, price

    prof = load_profile(profile)
    points = []
    for p in report["points"]:
        if "ops_per_decision" not in p:
            raise ConfigError(f"the sweep's points lack ops_per_decision (written by an older metaplastic), so they "
                              f"cannot be priced on {profile!r}; run the sweep again")
        est = price(p["ops_per_decision"], prof, spiking=bool(p["spiking"]))
        points.append({**p, "energy_j": est.total_j, "dynamic_j": est.dynamic_j, "static_j": est.static_j,
                       "seconds_per_decision": est.seconds_per_decision, "time_kind": est.time_kind,
                       "energy_parts": est.as_dict()["parts"], "energy_note": est.note})
    _mark_front(points)
    return {**report, "profile": prof.name, "points": points}


def sweep_markdown(report: dict[str, Any]) -> str:
    """The sweep as a table (front points marked ★)."""
    lines = [f"# Sweep: {report['backend']} on {report['tasks']}", "",
             f"Trained for {report['budget']} per point (seed {report['seed']}); trial return on "
             f"{report['n_tasks']} test tasks with its 95% interval; energy per decision modelled on "
             f"{report['profile']} from counted operations: dynamic, static (idle power × the time of a decision "
             "there, where the profile gives both) and their total, which the front uses. ★: on the Pareto front.", "",
             "| size | energy_coef | trial return | 95% interval | dynamic / decision | static / decision | "
             "total / decision | spikes / decision | front |",
             "|---|---|---|---|---|---|---|---|---|"]

    from metaplastic.bench.report import joules as nj

    for p in report["points"]:
        ci = p["ci95"]
        lines.append(f"| {p['size']} | {p['energy_coef']:g} | {p['trial_return']:.3f} | "
                     f"{'' if ci is None else f'[{ci[0]:.3f}, {ci[1]:.3f}]'} | {nj(p.get('dynamic_j'))} | "
                     f"{nj(p.get('static_j'))} | {nj(p['energy_j'])} | {p['spikes_per_decision']:.1f} | "
                     f"{'★' if p['pareto'] else ''} |")
    return "\n".join(lines) + "\n"


def sweep_plot(report: dict[str, Any]) -> bytes | None:
    """The front as a PNG (trial return against energy per decision, log x, intervals as
    error bars), or ``None`` without matplotlib."""
    import io

    from metaplastic.bench.plots import pyplot

    plt = pyplot()
    if plt is None:
        return None
    pts = [p for p in report["points"] if p["energy_j"] is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for coef in sorted({p["energy_coef"] for p in pts}):
        group = sorted((p for p in pts if p["energy_coef"] == coef), key=lambda p: p["energy_j"])
        xs = [p["energy_j"] for p in group]
        ys = [p["trial_return"] for p in group]
        err = [[y - (p["ci95"] or (y, y))[0] for p, y in zip(group, ys)],
               [(p["ci95"] or (y, y))[1] - y for p, y in zip(group, ys)]]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=f"energy_coef {coef:g}")
        for p, x, y in zip(group, xs, ys):
            ax.annotate(str(p["size"]), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    front = sorted((p for p in pts if p["pareto"]), key=lambda p: p["energy_j"])
    if front:
        ax.plot([p["energy_j"] for p in front], [p["trial_return"] for p in front], "k--", lw=1, label="Pareto front")
    ax.set_xscale("log")
    ax.set_xlabel(f"modelled energy per decision on {report['profile']}, dynamic + static (J)")
    ax.set_ylabel("trial return")
    ax.set_title(f"{report['backend']} on {report['tasks']}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    return buf.getvalue()
