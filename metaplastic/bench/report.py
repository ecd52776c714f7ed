"""Writing a bench report: ``report.json`` (every figure with its unit and whether it is
measured, counted or modelled), ``report.md`` (the tables a person reads first) and the
PNG plots, into one directory. Every file is complete in a staging folder before any
is moved into place, and nothing is written before the whole report exists.

Example:
    >>> md = markdown({"tasks": "bandits", "backends": {}, "references": {}, "profiles": {},
    ...                "headline": {"ratios": {}}, "meters": {}})
    >>> md.splitlines()[0]
    '# metaplastic bench: bandits'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from metaplastic.evaluation import success_definition


__all__ = ["write_report", "markdown", "joules"]


def _num(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.3e}" if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3) else f"{x:.4g}"
    return str(x)


def _si(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def joules(j: float | None) -> str:
    if j is None:
        return "n/a"
    for unit, scale in (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12)):
        if abs(j) >= scale:
            return f"{j / scale:.3g} {unit}"
    return f"{j:.3g} J"


def markdown(report: dict[str, Any]) -> str:
    """The report's tables as Markdown."""
    b = report["backends"]
    lines = [f"# metaplastic bench: {report['tasks']}", ""]
    if report.get("command"):
        lines += [f"Command: `{report['command']}`", ""]
    refs = report["references"]
    if refs:
        r, ref = refs["random"], refs["reference"]
        lines += [f"References (test split, {r['trial_return']['n_tasks']} tasks): random "
                  f"{_num(r['trial_return']['mean'])}, {ref['backend']} {_num(ref['trial_return']['mean'])} "
                  "(reward per trial).", ""]
    shipped = report.get("reference_runs") or {}
    if shipped:
        trained_here = [n for n, x in b.items() if n not in shipped and x["source"].startswith("meta-trained here")]
        lines += [f"Rows {', '.join(shipped)} are shipped trained reference runs (metaplastic/reference_runs: each with "
                  "the command that made it and its recorded return; `metaplastic bench --reference-runs`)."
                  + (f" Rows {', '.join(trained_here)} were meta-trained here on this run's small budget: a check that "
                     "the pipeline works, not what training reaches." if trained_here else ""), ""]
        lines += [f"- {n}: made by `{r['made_by']}`; recorded {r['recorded']['return_mean']:.3f} on "
                  f"{r['recorded']['n_tasks']} {r['recorded']['split']} tasks (seed {r['recorded']['seed']})"
                  for n, r in shipped.items()] + [""]
    if any(x.get("success_rate") for x in b.values()):  # a family with success: its headline first
        sr = (refs.get("random") or {}).get("success_rate") if refs else None
        first = next(x["success_rate"] for x in b.values() if x.get("success_rate"))
        definition = success_definition(first["scored_episodes"])
        lines += ["## Success rate", "",
                  f"{definition[0].upper()}{definition[1:]}, on {first['n_tasks']} test tasks"
                  + (f"; random: {_num(sr['mean'])} [{_num(sr['ci95'][0])}, {_num(sr['ci95'][1])}]" if sr else "")
                  + (f". The task family's versions: {', '.join(f'{k} {v}' for k, v in report['task_versions'].items())}"
                     if report.get("task_versions") else "") + ".", "",
                  "| backend | success rate (95% CI) |", "|---|---|"]
        for name, x in b.items():
            s_ = x.get("success_rate")
            lines.append(f"| {name} | " + (f"{_num(s_['mean'])} [{_num(s_['ci95'][0])}, {_num(s_['ci95'][1])}]"
                                           if s_ else "—") + " |")
        lines.append("")
    lines += ["## Adaptation", "",
              "| backend | trial return (95% CI) | normalized score | regret | episodes to 90% | OOD return | OOD / test |",
              "|---|---|---|---|---|---|---|"]
    for name, x in b.items():
        t, a = x["trial_return"], x["adaptation"]
        e90 = a["episodes_to_90pct"]
        lines.append(f"| {name} | {_num(t['mean'])} [{_num(t['ci95'][0])}, {_num(t['ci95'][1])}] | "
                     f"{_num(a['normalized_score']['value'])} | {_num(a['regret']['value'])} | "
                     f"{_num(e90['value'])} of {e90['of']} | {_num((x['ood_trial_return'] or {}).get('mean'))} | "
                     f"{_num(a['ood_fraction']['value'])} |")
    lines += ["", "## Latency and operations per decision", "",
              "Latency: measured at batch 1 on this machine (agent.act plus the observe that follows), p50 / p99; "
              "throughput at batch " + (str(next(iter(b.values()))["throughput"]["batch"]) if b else "—") + ".", "",
              "| backend | device | p50 | p99 | decisions/s (batched) | MACs | ACs | synaptic events | neuron updates "
              "| synaptic updates | memory bytes | activation sparsity |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, x in b.items():
        o, lat = x["ops_per_decision"], x["latency_s"]
        act = x.get("activity") or {}
        sparsity = act.get("layers", {}).get("recurrent", {}).get("activation_sparsity") if act else None
        lines.append(f"| {name} | {x['device']} | {_si(lat['p50'])} | {_si(lat['p99'])} | "
                     f"{_num(x['throughput'].get('decisions_per_s'))} | {_num(o['macs'])} | {_num(o['acs'])} | "
                     f"{_num(o['synaptic_events'])} | {_num(o['neuron_updates'])} | {_num(o['synaptic_updates'])} | "
                     f"{_num(o['mem_bytes'])} | {_num(sparsity)} |")
    inference = ("energy_evals", "grad_evals", "posterior_updates", "rule_evals", "bit_ops")
    working = {n: x["ops_per_decision"] for n, x in b.items() if any(x["ops_per_decision"].get(k) for k in inference)}
    if working:  # task inference and rule induction: their own counts (their arithmetic is in MACs and bit ops)
        lines += ["", "Inference and induction work per decision (energy and gradient evaluations, posterior updates, "
                  "rule evaluations, 64-bit word operations on packed facts):", "",
                  "| backend | energy evals | gradient evals | posterior updates | rule evals | bit ops |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {n} | " + " | ".join(_num(o.get(k, 0)) for k in inference) + " |" for n, o in working.items()]
    profiles = list(report["profiles"])
    lines += ["", "## Modelled energy per decision", "",
              "Dynamic energy = counted operations × energy per operation at the profile's peak efficiency: a lower "
              "bound. Static energy = the profile's idle power × the time one decision takes on that device: measured "
              "there when the benchmark ran on it, otherwise modelled by the profile (its time_model, cited; most are "
              "lower bounds). Total = dynamic + static; cells marked * are dynamic only (no idle power or no time for "
              "that device). n/a: the profile does not run that kind of network.", "",
              "| backend | " + " | ".join(profiles) + " |", "|---|" + "---|" * len(profiles)]
    for name, x in b.items():
        cells = []
        for p in profiles:
            e = x["energy"][p]
            star = "" if e.get("static_j") is not None or e.get("total_j") is None else "*"
            cells.append(joules(e.get("total_j")) + star)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Dynamic, static and total side by side, with the time per decision each static part uses:", "",
              "| backend | profile | dynamic | static | total | time per decision | time is |", "|---|---|---|---|---|---|---|"]
    for name, x in b.items():
        for p in profiles:
            e = x["energy"][p]
            if e.get("total_j") is None:
                continue
            lines.append(f"| {name} | {p} | {joules(e.get('dynamic_j'))} | "
                         f"{joules(e.get('static_j')) if e.get('static_j') is not None else 'not modelled'} | "
                         f"{joules(e.get('total_j'))}{'' if e.get('static_j') is not None else '*'} | "
                         f"{_si(e.get('seconds_per_decision'))} | {e.get('time_kind') or '—'} |")
    if report.get("equal_return"):
        lines += [""] + _equal_return_lines(report["equal_return"])
    h = report.get("headline", {})
    if h.get("ratios"):
        lines += ["", f"## Against the {h['baseline']} baseline", "",
                  f"| backend | energy per decision on {h['profile']} / {h['baseline']} on {h['baseline_profile']} "
                  "| compares | latency p50 / baseline |", "|---|---|---|---|"]
        for name, r in h["ratios"].items():
            lines.append(f"| {name} | {_num(r['energy_ratio'])} | {r['compares']} | {_num(r['latency_ratio'])} |")
    elif h.get("note"):
        lines += ["", h["note"]]
    meters = report.get("meters", {})
    if meters:
        lines += ["", "## Measured energy", ""]
        for mname, m in meters.items():
            if not m["available"]:
                lines.append(f"- {mname}: not measured ({m['reason']})")
            else:
                def cell(m: dict[str, Any]) -> str:
                    batched = [f"{joules(v)} at batch {k.rsplit('batch', 1)[1]}" for k, v in m.items()
                               if k.startswith("j_per_decision_batch")]
                    return ", ".join([f"{joules(m.get('j_per_decision'))} at batch 1", *batched])

                vals = "; ".join(f"{n} {cell(x['energy_measured'][mname])}" for n, x in b.items()
                                 if x["energy_measured"][mname].get("available"))
                lines.append(f"- {mname}: {vals or 'no backend ran on its device'} per decision "
                             "(whole device, environment and idle draw included)")
    if report["profiles"]:
        lines += ["", "## Profiles", ""]
        for p in report["profiles"].values():
            lines.append(f"- **{p['name']}**: {p['description']} ({'; '.join(p['citations'])})")
    plots = report.get("plots", {})
    if plots or report.get("plots_note"):
        lines += ["", "## Plots", ""] + [f"![{k}]({v})" for k, v in plots.items()]
        lines += [report["plots_note"]] if report.get("plots_note") else []
    return "\n".join(lines) + "\n"


def _equal_return_lines(h: dict[str, Any]) -> list[str]:
    """The headline at equal return (:mod:`metaplastic.bench.headline`) as Markdown lines."""
    lines = ["## Headline at equal return", ""]
    if h.get("note"):
        return lines + [h["note"]]
    b = h["best_dense"]
    lines += [f"Rule: {h['rule']}. Best dense return: {b['mean']:.3f} ± {b['se']:.3f} (standard error; "
              f"{b['label']}). Spiking energy on {h['spiking_profile']}, dense on {h['dense_profile']}; total = dynamic "
              "+ static (the static part from a modelled time where none was measured: see the energy tables).", "",
              "| spiking backend | spiking network (return ± se) | dense network (return ± se) | equal to best dense | "
              "energy ratio, dynamic only | energy ratio, total | spiking total | dense total |",
              "|---|---|---|---|---|---|---|---|"]
    for name, r in h["backends"].items():
        s, d = r["spiking"], r["dense"]
        lines.append(f"| {name} | {s['label']} ({s['mean']:.3f} ± {s['se']:.3f}) | {d['label']} ({d['mean']:.3f} ± "
                     f"{d['se']:.3f}) | {'yes' if r['equal_to_best_dense'] else 'no'} | {_num(r['dynamic_ratio'])}× | "
                     f"{_num(r['total_ratio'])}× | {joules(s['total_j'])} | {joules(d['total_j'])} |")
    notes = [r["note"] for r in h["backends"].values() if r.get("note")]
    lines += [""] + [f"- {n}" for n in notes] if notes else []
    lines += ["", f"Networks considered: {len(h['points'])} (the rows above and every --ladder point)."]
    return lines


def write_report(report: dict[str, Any], out: str | Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and the plots into ``out``; return their paths."""
    from metaplastic.bench.plots import plots_unavailable, render_plots

    pngs = render_plots(report)  # name -> PNG bytes (empty without matplotlib)
    pngs.update(report.pop("figures", {}))  # drawn by the runner (the energy backend's posterior picture)
    report["plots"] = {name: f"{name}.png" for name in pngs}
    missing = plots_unavailable()  # the extra that brings the plots, when matplotlib is missing
    if missing:
        report["plots_note"] = missing
    files = {f"{name}.png": data for name, data in pngs.items()}
    files["report.json"] = (json.dumps(json_safe(report), indent=2, allow_nan=False, default=_jsonable) + "\n").encode()
    files["report.md"] = markdown(report).encode()
    return write_files(files, out)


def write_files(files: dict[str, bytes], out: str | Path) -> dict[str, Path]:
    """Write ``files`` (name -> bytes) into the folder ``out``: every file complete in a
    staging folder before any lands in ``out`` (a one-line error when it cannot)."""
    import os
    import shutil
    import tempfile

    from metaplastic.errors import MetaplasticError

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        # every file is complete in a staging folder before any lands in ``out``
        stage = Path(tempfile.mkdtemp(prefix=".report-", dir=out))
        try:
            for name, data in files.items():
                (stage / name).write_bytes(data)
            for name in files:
                os.replace(stage / name, out / name)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    except OSError as exc:
        raise MetaplasticError(f"cannot write the report into {str(out)!r} ({exc.strerror or exc}); "
                               "pass another --out") from None
    return {name: out / name for name in files}


def json_safe(x: Any) -> Any:
    """``x`` with every non-finite float replaced by None (JSON has no NaN or Infinity)."""
    import math

    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")
