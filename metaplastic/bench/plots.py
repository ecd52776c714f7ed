"""The bench report's plots, rendered to PNG bytes with matplotlib (optional: the
``plot`` extra). Three figures: adaptation curves with 95% bands, modelled energy per
decision against the time per decision on that profile's device (log-log, one point per
backend × profile; the time measured there or modelled by the profile, marked), and the
operations per decision of each backend by kind.

Example:
    >>> import pytest; _ = pytest.importorskip("matplotlib")
    >>> render_plots({"backends": {}, "references": {}})
    {}
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["render_plots", "plots_unavailable", "PLOT_HINT"]

_OPS = ("macs", "acs", "synaptic_events", "neuron_updates", "synaptic_updates")

#: What the report says when matplotlib is missing: which extra brings the plots.
PLOT_HINT = "plots need matplotlib: pip install 'metaplastic[plot]'"


def pyplot() -> Any | None:
    """``matplotlib.pyplot`` on the Agg backend, or ``None`` when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def plots_unavailable() -> str | None:
    """Why no plot can be drawn here, with the extra that brings them; ``None`` when they can.

    Example:
        >>> plots_unavailable() in (None, PLOT_HINT)
        True
    """
    return PLOT_HINT if pyplot() is None else None


def render_plots(report: dict[str, Any]) -> dict[str, bytes]:
    """``{name: png bytes}``; empty when matplotlib is missing (:func:`plots_unavailable`
    says so) or there is nothing to plot."""
    plt = pyplot()
    if plt is None:
        return {}
    backends = report.get("backends", {})
    if not backends:
        return {}
    out = {}
    for name, draw in (("adaptation", _adaptation), ("energy_latency", _energy_latency), ("operations", _operations)):
        fig = draw(plt, report)
        if fig is None:
            continue
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        out[name] = buf.getvalue()
    return out


def _adaptation(plt: Any, report: dict[str, Any]) -> Any:
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.5, 4))
    curves = {f"{k} ({v['backend']})": v["per_episode"] for k, v in report.get("references", {}).items()}
    curves.update({k: v["per_episode"] for k, v in report["backends"].items()})
    for label, c in curves.items():
        m = np.asarray(c["mean"], dtype=float)
        h = np.asarray([0.0 if x is None else x for x in c["ci95_halfwidth"]], dtype=float)
        x = np.arange(1, len(m) + 1)
        style = "--" if "(" in label else "-"
        line, = ax.plot(x, m, style, label=label, marker="o" if len(m) <= 20 else None, ms=3)
        ax.fill_between(x, m - h, m + h, color=line.get_color(), alpha=0.15)
    ax.set_xlabel("episode of the trial")
    ax.set_ylabel("mean return per episode (95% CI)")
    ax.set_title(f"Adaptation on {report.get('tasks', '')} (test tasks)")
    ax.legend(fontsize=8)
    return fig


def _energy_latency(plt: Any, report: dict[str, Any]) -> Any:
    """Each backend on each profile at that device's own time per decision (measured there:
    filled marker; modelled by the profile: hollow), against its total energy per decision."""
    from matplotlib.ticker import LogLocator

    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    markers = "osD^v<>ph*"
    profiles = sorted({p for b in report["backends"].values() for p in b["energy"]})
    any_point = False
    for i, (name, b) in enumerate(report["backends"].items()):
        for prof, e in b["energy"].items():
            t, j = e.get("seconds_per_decision"), e.get("total_j")
            if t is None or j is None or t <= 0 or j <= 0:
                continue
            any_point = True
            measured = e.get("time_kind") == "measured"
            color = f"C{i % 10}"
            ax.scatter(t, j, marker=markers[profiles.index(prof) % len(markers)], s=48,
                       facecolors=color if measured else "none", edgecolors=color,
                       label=f"{name} on {prof} ({'measured' if measured else 'modelled'} time"
                             + (")" if e.get("static_j") is not None else ", dynamic only)"))
    if not any_point:
        plt.close(fig)
        return None
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, numticks=8))
    ax.grid(True, which="major", alpha=0.3)
    ax.set_xlabel("time per decision on that device, batch 1 (s)")
    ax.set_ylabel("energy per decision, dynamic + static (J)")
    ax.set_title("Energy against time per decision, each on its own device\n"
                 "filled: time measured there; hollow: modelled by the profile (see the report)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig


def _operations(plt: Any, report: dict[str, Any]) -> Any:
    import numpy as np

    names = list(report["backends"])
    fig, ax = plt.subplots(figsize=(6.5, 4))
    width = 0.8 / len(_OPS)
    x = np.arange(len(names))
    top = 1.0
    for k, op in enumerate(_OPS):
        vals = [max(report["backends"][n]["ops_per_decision"].get(op, 0.0), 0.0) for n in names]
        top = max(top, *vals)
        ax.bar(x + (k - len(_OPS) / 2 + 0.5) * width, vals, width, label=op.replace("_", " "))
    ax.set_xticks(x, names)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(0, top * 3)
    ax.set_ylabel("operations per decision (counted)")
    ax.set_title("Operations per decision")
    ax.legend(fontsize=8)
    return fig
