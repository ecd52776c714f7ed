"""The headline at equal return: how much less energy a spiking network needs per decision
than a dense one that adapts as well.

A fair ratio compares the *smallest* network of each kind that reaches the *same* return,
not whichever sizes happened to be benchmarked. Given points — each a trained network with
its trial return, the standard error of that return and its counted operations per
decision (from the bench's own rows and from size ladders written by ``metaplastic sweep``)
— :func:`equal_return` does, for each spiking backend:

1. take the best dense return ``r*`` and its standard error ``se*``;
2. pick the smallest spiking network (fewest units, then least energy) whose return is at
   least ``r* - se*`` (within one standard error of the best dense return);
3. pick the smallest dense network whose return is at least that spiking network's return
   minus its standard error (it reaches the same);
4. price both on their own device (spiking on ``loihi``, dense on ``gpu-h100`` by default)
   and give the ratio dense / spiking, dynamic-only and total (dynamic + static) side by side.

When no spiking network comes within one standard error of the best dense return, the
headline says so, and still states the ratio at the best return that backend reaches,
marked ``equal_to_best_dense: False``.

Example:
    >>> pts = [Point("torch", 8, False, 6.60, 0.02, {"macs": 700.0}, "h8"),
    ...        Point("torch", 32, False, 6.65, 0.02, {"macs": 6000.0}, "h32"),
    ...        Point("numba", 64, True, 6.64, 0.02, {"synaptic_events": 900.0, "neuron_updates": 128.0}, "h64")]
    >>> h = equal_return(pts)
    >>> row = h["backends"]["numba"]
    >>> row["spiking"]["label"], row["dense"]["label"], row["equal_to_best_dense"]
    ('h64', 'h32', True)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from metaplastic.bench.energy import load_profile, price
from metaplastic.errors import ConfigError

__all__ = ["Point", "equal_return", "points_from_report", "points_from_ladder"]

Z95 = 1.959963984540054  # the 95% interval's half-width in standard errors


@dataclass(frozen=True)
class Point:
    """One trained network: its backend, size (GRU units or neurons), whether it spikes, its mean trial return with that mean's standard error, its
    counted operations per decision and a label saying which network it is."""

    backend: str
    size: int
    spiking: bool
    mean: float
    se: float
    ops_per_decision: dict[str, float]
    label: str

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("ops_per_decision")
        return d


def _se(mean: float, ci95: Any) -> float:
    """The standard error behind a 95% interval ``[lo, hi]`` around ``mean`` (normal)."""
    if not ci95 or ci95[0] is None or ci95[1] is None:
        return math.inf
    return (float(ci95[1]) - float(ci95[0])) / (2 * Z95)


def points_from_report(report: dict[str, Any]) -> list[Point]:
    """The bench's own rows that are networks (those with a size) as points; baselines
    such as random or Gittins are not networks and stay out."""
    out = []
    for name, b in report.get("backends", {}).items():
        size = b.get("size")
        if size is None:
            continue
        t = b["trial_return"]
        ops = {k: v for k, v in b["ops_per_decision"].items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        backend = b.get("backend", name)
        label = f"{name} h{size}" + (" (trained here)" if b["source"].startswith("meta-trained here") else "")
        out.append(Point(backend, size, bool(b["spiking"]), float(t["mean"]), _se(t["mean"], t["ci95"]), ops, label))
    return out


def points_from_ladder(path: str | Path, tasks: str | None = None) -> list[Point]:
    """The points of a size ladder ``metaplastic sweep`` wrote (its folder or its
    ``sweep.json``); one-line :class:`ConfigError` when it is not one, or was run on other
    tasks than ``tasks``."""
    from metaplastic.bench.sweep import read_sweep

    doc = read_sweep(path, "--ladder")
    if tasks is not None and doc.get("tasks") != tasks:
        raise ConfigError(f"--ladder {str(path)!r} was measured on {doc.get('tasks')!r}, not on {tasks!r}; "
                          "compare networks on the same tasks")
    out = []
    for p in doc.get("points", []):
        if "ops_per_decision" not in p:
            raise ConfigError(f"--ladder {str(path)!r}: its points lack ops_per_decision (written by an older "
                              "metaplastic); run the sweep again")
        label = f"{p['backend']} h{p['size']}" + (f" energy_coef {p['energy_coef']:g}" if p.get("energy_coef") else "")
        out.append(Point(p["backend"], int(p["size"]), bool(p["spiking"]), float(p["trial_return"]),
                         _se(p["trial_return"], p.get("ci95")), dict(p["ops_per_decision"]), label))
    return out


def _priced(p: Point, profile: Any) -> dict[str, Any]:
    e = price(p.ops_per_decision, profile, spiking=p.spiking)
    return {**p.as_dict(), "profile": profile.name, "dynamic_j": e.dynamic_j, "static_j": e.static_j,
            "total_j": e.total_j, "seconds_per_decision": e.seconds_per_decision, "time_kind": e.time_kind,
            "parts": e.as_dict()["parts"]}


def _smallest(points: list[Point], profile: Any) -> Point:
    """Fewest units first, then least energy."""
    def key(p: Point) -> tuple[float, float]:
        e = price(p.ops_per_decision, profile, spiking=p.spiking).total_j
        return (p.size, math.inf if e is None else e)
    return min(points, key=key)


def equal_return(points: list[Point], *, dense_profile: str = "gpu-h100", spiking_profile: str = "loihi") -> dict[str, Any]:
    """The headline at equal return for each spiking backend among ``points`` (see the
    module's description of the rule)."""
    dprof, sprof = load_profile(dense_profile), load_profile(spiking_profile)
    dense = [p for p in points if not p.spiking and math.isfinite(p.se)]
    spiking = [p for p in points if p.spiking and math.isfinite(p.se)]
    out: dict[str, Any] = {"dense_profile": dprof.name, "spiking_profile": sprof.name, "backends": {},
                           "rule": "smallest spiking network within one standard error of the best dense return; "
                                   "smallest dense network reaching that spiking network's return (within its "
                                   "standard error); ratio = dense energy / spiking energy per decision",
                           "points": [_priced(p, sprof if p.spiking else dprof) for p in dense + spiking]}
    if not dense or not spiking:
        out["note"] = ("no dense network to compare with" if not dense else "no spiking network to compare") + \
            ": no headline at equal return"
        return out
    best = max(dense, key=lambda p: p.mean)
    out["best_dense"] = _priced(best, dprof)
    for backend in sorted({p.backend for p in spiking}):
        mine = [p for p in spiking if p.backend == backend]
        close = [p for p in mine if p.mean >= best.mean - best.se]
        equal = bool(close)
        chosen = _smallest(close, sprof) if close else max(mine, key=lambda p: p.mean)
        reach = [p for p in dense if p.mean >= chosen.mean - chosen.se]
        match = _smallest(reach, dprof) if reach else best
        s, d = _priced(chosen, sprof), _priced(match, dprof)
        row = {"equal_to_best_dense": equal, "spiking": s, "dense": d,
               "dynamic_ratio": _ratio(d["dynamic_j"], s["dynamic_j"]),
               "total_ratio": _ratio(d["total_j"], s["total_j"]),
               "total_parts": f"{d['parts']} vs {s['parts']}"}
        if not equal:
            row["note"] = (f"no {backend} network comes within one standard error of the best dense return "
                           f"({best.mean:.3f} ± {best.se:.3f}, {best.label}); the ratio is at {backend}'s best return "
                           f"({chosen.mean:.3f}, {chosen.label})")
        out["backends"][backend] = row
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b
