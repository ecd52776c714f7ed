"""The posterior picture of the ``energy`` backend: what a trained learner believes about
one test task's hidden parameters ``z`` after 1, 5 and 20 transitions of a trial, drawn
beside the exact posterior of the same transitions (``metaplastic posterior``, and the
bench report when it benchmarks ``energy``).

The chosen engine plays one trial with its own actions
(:func:`~metaplastic.energy_models.diagnostics.beliefs_after`); the transitions it saw are
then replayed into an exact-engine agent (:func:`replay`), so both rows condition on
exactly the same data even where the two engines would act differently. Where the exact
engine does not apply (a box of dimension > 2: cartpole-dyn's three physical constants),
only the engine's posterior is drawn, and the title says so.

One figure, rows = engines (the engine, then exact), columns = after ``k`` transitions:

* enumerated cells (gridnavi): heat maps of each cell's probability (particles counted at
  their nearest cell);
* a 2-D box (nav2d): the exact grid's heat map; an engine's weighted points summed in
  hexagons;
* per-arm coordinates (bandits): each arm's posterior density (exact: the quadrature
  weights over their nodes' spacing; particles: a weighted histogram);
* any other box (cartpole-dyn): weighted histograms, one row per coordinate.

The true ``z`` is marked in every panel. :meth:`PosteriorPicture.summary` holds, per
``k``, the true ``z``, each row's posterior mean and 90% credible interval per coordinate,
and KL(exact ‖ engine) on the exact engine's support where exact applies.

Example:
    >>> import metaplastic
    >>> tasks = metaplastic.make_tasks("gridnavi")
    >>> learner = metaplastic.make("energy", prior_tasks=200)
    >>> _ = learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    >>> pic = posterior_picture(learner, tasks, after=(1, 5))
    >>> pic.kind, pic.engine, pic.exact
    ('cells', 'exact', True)
    >>> abs(pic.summary()["after"]["5"]["kl_exact_engine"]) < 1e-12   # exact against its own replay
    True
"""

from __future__ import annotations

import copy
import io
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from metaplastic.bench.report import json_safe
from metaplastic.errors import ConfigError

__all__ = ["DEFAULT_AFTER", "PosteriorPicture", "Trial", "energy_model", "parse_after", "with_engine", "recorded_trial", "replay",
           "posterior_picture", "render_posterior", "write_posterior", "bench_posterior", "require_matplotlib"]

#: The transition counts drawn by default.
DEFAULT_AFTER = (1, 5, 20)
#: The most columns a picture takes, and the largest ``k``.
MAX_AFTER, MAX_K = 12, 1_000_000
#: The credible level of the intervals in the summary.
LEVEL = 0.9
#: Largest (points x values) block projected at once (the rest in chunks).
_CHUNK = 1 << 21


def parse_after(text: str) -> tuple[int, ...]:
    """``"1,5,20"`` as sorted distinct positive integers (a one-line ConfigError, naming no
    option, otherwise).

    Example:
        >>> parse_after("20, 1,5,5")
        (1, 5, 20)
    """
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        raise ConfigError("no transition counts given; give counts such as 1,5,20")
    out = set()
    for p in parts:
        try:
            k = int(p)
        except ValueError:
            raise ConfigError(f"{p!r} is not an integer; give transition counts such as 1,5,20") from None
        if not 1 <= k <= MAX_K:
            raise ConfigError(f"{k} is out of range; each count must be between 1 and {MAX_K}")
        out.add(k)
    if len(out) > MAX_AFTER:
        raise ConfigError(f"{len(out)} counts given; at most {MAX_AFTER} fit in one picture")
    return tuple(sorted(out))


def require_matplotlib() -> None:
    """A one-line ConfigError when matplotlib (the ``plot`` extra) is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError("drawing the posterior needs matplotlib; pip install 'metaplastic[plot]'") from None


# -- the learner, its engine, one trial ---------------------------------------------------------
def energy_model(learner: Any) -> Any:
    """The fitted model of an energy learner with a picture (one-line ConfigErrors for
    another backend, an untrained run, a tabular latent)."""
    from metaplastic.backends.energy import EnergyLearner
    from metaplastic.tasks.latent import TabularSpace

    if not isinstance(learner, EnergyLearner):
        raise ConfigError(f"the posterior picture needs a run of backend 'energy'; this one is backend "
                          f"{learner.name!r}, which infers no posterior")
    if learner.model is None:
        raise ConfigError("this energy run holds no fitted prior (it was never meta-trained); train it first with "
                          "metaplastic train --backend energy")
    if isinstance(learner.model.latent.space, TabularSpace):
        raise ConfigError("the tabular MDP posterior (Normal-Dirichlet over rewards and transitions) is not a set of "
                          "weighted points and has no picture; pictures are drawn for bandits, gridnavi, nav2d and cartpole-dyn")
    return learner.model


def with_engine(learner: Any, engine: str) -> Any:
    """A shallow copy of the energy ``learner`` whose agents infer with ``engine`` (the
    fitted model shared; the name checked against the backend's declared choices)."""
    from metaplastic.params import coerce

    clone = copy.copy(learner)
    clone.config = {**learner.config, **coerce(f"backend {learner.name}", learner.config_params, {"engine": engine})}
    return clone


@dataclass(frozen=True, eq=False)
class Trial:
    """One lane's transitions in order: ``obs (T, o)``, ``act (T, a)``, ``rew (T,)``, ``nxt (T, o)``."""

    obs: np.ndarray
    act: np.ndarray
    rew: np.ndarray
    nxt: np.ndarray

    def __len__(self) -> int:
        return len(self.rew)


def recorded_trial(agent: Any, lane: int = 0) -> Trial:
    """The transitions lane ``lane`` of an
    :class:`~metaplastic.energy_models.agent.EnergyVectorAgent` has seen this trial (copied)."""
    h = agent.history
    n = int(h.count[lane])
    return Trial(h.obs[lane, :n].copy(), h.act[lane, :n].copy(), h.rew[lane, :n].copy(), h.nxt[lane, :n].copy())


def replay(agent: Any, trial: Trial, after: Sequence[int]) -> list[Any]:
    """Feed ``trial``'s transitions, in order, to lane 0 of ``agent`` (an
    :class:`~metaplastic.energy_models.agent.EnergyVectorAgent`, reset here) exactly as its
    ``observe`` does — ``history.append`` then ``engine.update`` — without acting, and
    return lane 0's belief after each ``k`` of ``after`` (``None`` past the trial's end).

    Example:
        >>> import numpy as np, metaplastic
        >>> from metaplastic.energy_models.agent import EnergyVectorAgent
        >>> from metaplastic.energy_models.engines.base import InferenceSettings
        >>> from metaplastic.energy_models.model import default_model
        >>> tasks = metaplastic.make_tasks("bandits:k=2")
        >>> agent = EnergyVectorAgent(tasks, default_model(tasks.latent(), noise=0.01, relax=0.25), 1,
        ...                           engine="exact", acting="posterior-sampling", settings=InferenceSettings())
        >>> won = Trial(np.zeros((2, 1)), np.zeros((2, 1)), np.ones(2), np.zeros((2, 1)))  # arm 0 paid twice
        >>> [None if b is None else b.mean().round(3).tolist() for b in replay(agent, won, [1, 2, 3])]
        [[0.667, 0.5], [0.75, 0.5], None]
    """
    agent.reset(np.zeros(agent.num_lanes, dtype=np.uint64))
    lane = np.array([0], dtype=np.int64)
    wanted = {int(k) for k in after}
    got: dict[int, Any] = {}
    for t in range(len(trial)):
        agent.history.append(lane, trial.obs[t:t + 1], trial.act[t:t + 1], trial.rew[t:t + 1], trial.nxt[t:t + 1])
        agent.engine.update(lane, agent.history)
        if t + 1 in wanted:
            got[t + 1] = agent.posterior(0)
    return [got.get(int(k)) for k in after]


# -- the picture's data ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PosteriorPicture:
    """The beliefs of one trial: ``rows["engine"]`` (the beliefs of engine ``engine`` as it
    acted) and, where exact applies, ``rows["exact"]`` (the exact engine fed the same
    transitions), one belief per ``after`` count (``None`` past the trial's end)."""

    family: str
    tasks: str
    engine: str
    task_index: int
    task_seed: int
    seed: int
    names: tuple[str, ...]
    truth: np.ndarray
    after: tuple[int, ...]
    transitions: int
    kind: str                      # "cells", "box2d", "arms" or "coords"
    rows: dict[str, list[Any]]
    exact: bool
    exact_note: str                # why exact does not apply ("" where it does)
    values: np.ndarray | None      # the enumerated cells (kind "cells")
    bounds: tuple[np.ndarray, np.ndarray]

    def kl(self, i: int) -> float | None:
        """KL(exact ‖ engine) in nats after ``after[i]`` transitions (see :meth:`kl_note`)."""
        if not self.exact:
            return None
        p, q = self.rows["exact"][i], self.rows["engine"][i]
        if p is None or q is None:
            return None
        if self.kind == "arms":
            return float(sum(_kl(pw, _project(_coord(q, c), pts[:, None]))
                             for c, (pts, pw) in enumerate(zip(p.points, p.weights))))
        values = self.values if self.kind == "cells" else p.points
        p_mass = _project((p.points, p.weights), values)
        return _kl(p_mass, _project((q.points, q.weights), values))

    def kl_note(self) -> str:
        floor = ("; where the engine gives no mass to a value the exact posterior gives mass, the engine's mass "
                 "there is floored at 1e-12 (diagnostics.kl_divergence)")
        if not self.exact:
            return f"no KL: {self.exact_note}"
        if self.kind == "cells":
            return ("kl_exact_engine: KL(exact || engine) in nats over the family's enumerated cells, the engine's "
                    "points counted at their nearest cell (diagnostics.probs_on_values)" + floor)
        if self.kind == "box2d":
            first = next((b for b in self.rows["exact"] if b is not None), None)
            n = int(round(math.sqrt(len(first.weights)))) if first is not None else 0
            cell = ", ".join(f"{w:.3g}" for w in (self.bounds[1] - self.bounds[0]) / max(n, 1))
            return (f"kl_exact_engine: KL(exact || engine) in nats over the cells of the exact engine's {n}x{n} grid "
                    f"(cells {cell} wide), the engine's points counted at their nearest grid node "
                    "(diagnostics.probs_on_values): a discretized KL, not the KL of the densities; where the "
                    "posterior is narrower than a cell, the exact grid is itself a coarse reference" + floor)
        if self.kind == "arms":
            return ("kl_exact_engine: the sum over arms of KL(exact || engine) of each arm's marginal, in nats, over "
                    "the exact engine's Gauss-Jacobi nodes, the engine's points counted at their nearest node" + floor)
        return "kl_exact_engine: KL(exact || engine) in nats over the exact engine's support points" + floor

    def summary(self) -> dict[str, Any]:
        """Strict-JSON data of the picture (non-finite numbers as ``null``)."""
        per_k: dict[str, Any] = {}
        for i, k in enumerate(self.after):
            entry: dict[str, Any] = {"reached": self.rows["engine"][i] is not None, "true_z": self.truth.tolist()}
            entry["engine"] = _stats(self.rows["engine"][i], self.truth)
            entry["exact"] = _stats(self.rows["exact"][i], self.truth) if self.exact else None
            entry["kl_exact_engine"] = self.kl(i)
            per_k[str(k)] = entry
        return json_safe({
            "family": self.family, "tasks": self.tasks, "engine": self.engine, "split": "test",
            "task_index": self.task_index, "task_seed": self.task_seed, "seed": self.seed,
            "names": list(self.names), "true_z": self.truth.tolist(), "transitions_in_trial": self.transitions,
            "exact_applies": self.exact,
            "exact_rows": "replayed: the exact engine fed the engine's transitions" if self.exact else None,
            "credible_level": LEVEL, "after": per_k, "note": self.kl_note(),
        })


def _stats(belief: Any, truth: np.ndarray) -> dict[str, Any] | None:
    from metaplastic.energy_models.diagnostics import credible_interval

    if belief is None:
        return None
    low, high = credible_interval(belief, LEVEL)
    return {"mean": belief.mean().tolist(), "ci90": np.stack([low, high], axis=1).tolist(),
            "covers": ((low <= truth) & (truth <= high)).tolist()}


def _coord(belief: Any, c: int) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate ``c``'s points ``(m, 1)`` and weights ``(m,)`` (from a joint or a marginal belief)."""
    if belief.marginal:
        return np.asarray(belief.points[c])[:, None], np.asarray(belief.weights[c])
    return np.asarray(belief.points)[:, c:c + 1], np.asarray(belief.weights)


def _project(points_weights: tuple[np.ndarray, np.ndarray], values: np.ndarray) -> np.ndarray:
    """The mass of weighted points at each of ``values`` (rows), each point counted at its
    nearest value (:func:`~metaplastic.energy_models.diagnostics.probs_on_values`, in
    chunks; points that are the values themselves are read as they are)."""
    from metaplastic.energy_models.diagnostics import probs_on_values
    from metaplastic.energy_models.engines.base import Belief

    points, weights = (np.asarray(a, dtype=np.float64) for a in points_weights)
    values = np.asarray(values, dtype=np.float64)
    if points.shape == values.shape and np.array_equal(points, values):
        return weights.copy()
    step = max(1, _CHUNK // max(len(values), 1))
    out = np.zeros(len(values))
    for s in range(0, len(points), step):
        out += probs_on_values(Belief(points=points[s:s + step], weights=weights[s:s + step]), values)
    return out


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p ‖ q): unfloored where ``q`` covers ``p`` (so a belief against itself is 0 to
    rounding), the library's floored value where it does not."""
    from metaplastic.energy_models.diagnostics import kl_divergence

    with np.errstate(divide="ignore", invalid="ignore"):
        exact = kl_divergence(p, q, floor=0.0)
    return max(0.0, exact if math.isfinite(exact) else kl_divergence(p, q))


def _kind(model: Any) -> str:
    from metaplastic.tasks.latent import BoxSpace, EnumeratedSpace

    space = model.latent.space
    if isinstance(space, EnumeratedSpace) and model.dim == 2:
        return "cells"
    if isinstance(space, BoxSpace) and space.per_action:
        return "arms"
    if isinstance(space, BoxSpace) and model.dim == 2:
        return "box2d"
    return "coords"


def _check_tasks(model: Any, tasks: Any) -> None:
    """The tasks' hidden parameters are the ones the run's prior is over."""
    from metaplastic.core import LatentFamily
    from metaplastic.energy_models.model import mismatch
    from metaplastic.tasks.base import task_spec

    if not isinstance(tasks, LatentFamily):
        raise ConfigError(f"task family {tasks.name!r} declares no hidden parameters; the posterior picture needs one")
    theirs = tasks.latent()
    why = mismatch(model, theirs)
    if why is None and model.latent.names != theirs.names:
        why = f"coordinates ({', '.join(model.latent.names)}), the tasks' ({', '.join(theirs.names)})"
    if why is not None:
        raise ConfigError(f"the tasks {task_spec(tasks)!r} have other hidden parameters than the run's prior is over "
                          f"(the prior: {why}); pass the run's tasks (or omit --tasks)")


def posterior_picture(learner: Any, tasks: Any, *, engine: str | None = None, task_index: int = 0, seed: int = 0,
                      after: Sequence[int] = DEFAULT_AFTER) -> PosteriorPicture:
    """Play one trial of test task ``task_index`` (of ``tasks.sample(..., seed=seed,
    split="test")``, the tasks ``metaplastic evaluate --seed`` draws) with the energy
    ``learner``'s agent inferring with ``engine`` (default: the learner's own), and replay its
    transitions into the exact engine where it applies."""
    from metaplastic.energy_models.diagnostics import beliefs_after
    from metaplastic.energy_models.engines import ENGINES, resolve_engine
    from metaplastic.tasks.base import task_spec

    model = energy_model(learner)
    _check_tasks(model, tasks)
    after = tuple(sorted({int(k) for k in after}))
    if not after or after[0] < 1:
        raise ConfigError("after: give positive transition counts, e.g. 1,5,20")
    name = with_engine(learner, engine).config["engine"] if engine is not None else learner.config["engine"]
    resolved = resolve_engine(name, model)
    if task_index < 0:
        raise ConfigError(f"task index must be >= 0, got {task_index}")
    task = tasks.sample(int(task_index) + 1, seed=int(seed), split="test")[int(task_index)]
    truth = np.asarray(tasks.latent_labels([task]), dtype=np.float64)[0]

    agent = with_engine(learner, resolved).vector_agent(tasks, 1)
    got = beliefs_after(agent, tasks, [task], after, seed=int(seed))
    rows = {"engine": [got[k][0] for k in after]}
    trial = recorded_trial(agent)
    why = ENGINES["exact"].why_not(model)
    if why is None:
        rows["exact"] = replay(with_engine(learner, "exact").vector_agent(tasks, 1), trial, after)
    kind = _kind(model)
    low, high = model.bounds()
    return PosteriorPicture(
        family=tasks.name, tasks=task_spec(tasks), engine=resolved, task_index=int(task_index),
        task_seed=int(task.seed), seed=int(seed), names=tuple(model.latent.names), truth=truth, after=after,
        transitions=len(trial), kind=kind, rows=rows, exact=why is None, exact_note=why or "",
        values=model.latent.space.array() if kind == "cells" else None, bounds=(low, high))


# -- drawing ---------------------------------------------------------------------------------
def render_posterior(pic: PosteriorPicture) -> bytes | None:
    """The picture as PNG bytes (``None`` when matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels = list(pic.rows)  # "engine", then "exact" where it applies
    if pic.kind == "coords":  # one row per coordinate, the engines overlaid
        row_specs = [(None, c) for c in range(len(pic.names))]
    else:
        row_specs = [(label, None) for label in labels]
    cols = len(pic.after)
    fig, axes = plt.subplots(len(row_specs), cols, figsize=(3.4 * cols, 3.0 * len(row_specs) + 0.6), squeeze=False)
    for c, k in enumerate(pic.after):
        column = {label: pic.rows[label][c] for label in labels}
        for r, (label, coord) in enumerate(row_specs):
            ax = axes[r][c]
            if all(b is None for b in column.values()):
                ax.text(0.5, 0.5, f"the trial ended after\n{pic.transitions} transitions", ha="center", va="center",
                        transform=ax.transAxes)
                ax.set_xticks([])
                ax.set_yticks([])
            elif pic.kind == "cells":
                _draw_cells(ax, pic, column[label])
            elif pic.kind == "box2d":
                _draw_box2d(ax, pic, column[label], gridded=label == "exact" or pic.engine == "exact",
                            view=[_span(list(column.values()), pic, i, 0.1) for i in range(2)])
            elif pic.kind == "arms":
                _draw_arms(ax, pic, column[label], legend=r == 0 and c == 0)
            else:
                _draw_coord(ax, pic, column, coord, legend=r == 0 and c == 0)
            if r == 0:
                ax.set_title(f"after {k} transition{'s' if k != 1 else ''}", fontsize=10)
            if label == "engine" and pic.exact:
                kl = pic.kl(c)
                if kl is not None:
                    ax.text(0.02, 0.98, f"KL(exact‖{pic.engine}) = {kl:.3g}", transform=ax.transAxes, fontsize=7,
                            va="top", ha="left", bbox={"facecolor": "white", "alpha": 0.7, "lw": 0})
            if c == 0:
                ax.set_ylabel(pic.names[coord] if coord is not None else (
                    "exact (same transitions)" if label == "exact" else f"engine {pic.engine}"))
    if pic.exact:
        what = f"engine {pic.engine} (top) beside the exact posterior of the same transitions (bottom)"
    else:
        what = f"engine {pic.engine} only (exact does not apply to a {len(pic.names)}-D box latent)"
    title = (f"{pic.family}: posterior of {', '.join(pic.names)} on test task {pic.task_index} "
             f"(task seed {pic.task_seed}, seed {pic.seed}); {what}; true value in red")
    fig.suptitle(textwrap.fill(title, width=int(28 * cols + 20)), fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _span(beliefs: Sequence[Any], pic: PosteriorPicture, c: int, min_frac: float) -> tuple[float, float]:
    """A view of coordinate ``c`` holding 99.8% of each belief's mass and the true value,
    padded, at least ``min_frac`` of the latent's range wide, inside the range."""
    from metaplastic.energy_models.engines.base import weighted_quantile

    low, high = float(pic.bounds[0][c]), float(pic.bounds[1][c])
    lo = hi = float(pic.truth[c])
    for b in beliefs:
        if b is not None:
            pts, w = _coord(b, c)
            lo = min(lo, weighted_quantile(pts[:, 0], w, 0.001))
            hi = max(hi, weighted_quantile(pts[:, 0], w, 0.999))
    half = 0.6 * max(hi - lo, min_frac * (high - low))
    mid = (lo + hi) / 2.0
    return max(low, mid - half), min(high, mid + half)


def _truth_marker(ax: Any, x: float, y: float) -> None:
    ax.plot([x], [y], marker="*", ms=14, mfc="none", mec="red", mew=1.6, ls="none", label="true z")


def _draw_cells(ax: Any, pic: PosteriorPicture, belief: Any) -> None:
    values = pic.values
    probs = _project((belief.points, belief.weights), values)
    cells = np.rint(values).astype(np.int64)
    nx, ny = cells[:, 0].max() + 1, cells[:, 1].max() + 1
    grid = np.zeros((ny, nx))
    grid[cells[:, 1], cells[:, 0]] = probs
    im = ax.imshow(grid, origin="lower", cmap="viridis", vmin=0.0, vmax=max(grid.max(), 1e-12),
                   extent=(-0.5, nx - 0.5, -0.5, ny - 0.5))
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=7)
    _truth_marker(ax, pic.truth[0], pic.truth[1])
    ax.set_xticks(range(nx))
    ax.set_yticks(range(ny))
    ax.tick_params(labelsize=7)


def _draw_box2d(ax: Any, pic: PosteriorPicture, belief: Any, *, gridded: bool,
                view: Sequence[tuple[float, float]]) -> None:
    """The exact grid as a heat map, or weighted points summed in hexagons; zoomed to ``view``."""
    (x0, x1), (y0, y1) = view
    if gridded:
        low, high = pic.bounds
        n = int(round(math.sqrt(len(belief.weights))))
        grid = np.asarray(belief.weights).reshape(n, n).T  # the nodes are (x, y) in 'ij' order
        im = ax.imshow(grid, origin="lower", cmap="viridis", extent=(low[0], high[0], low[1], high[1]), aspect="auto",
                       interpolation="nearest")
    else:
        pts = np.asarray(belief.points)
        im = ax.hexbin(pts[:, 0], pts[:, 1], C=belief.weights, reduce_C_function=np.sum, gridsize=24,
                       extent=(x0, x1, y0, y1), cmap="viridis", mincnt=1)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=7)
    _truth_marker(ax, pic.truth[0], pic.truth[1])
    ax.tick_params(labelsize=7)


def _density(points: np.ndarray, weights: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights over sorted nodes divided by each node's share of ``[low, high]``."""
    order = np.argsort(points)
    x, w = points[order], weights[order]
    edges = np.concatenate([[low], (x[1:] + x[:-1]) / 2.0, [high]])
    return x, w / np.maximum(np.diff(edges), 1e-12)


def _draw_arms(ax: Any, pic: PosteriorPicture, belief: Any, *, legend: bool) -> None:
    low, high = pic.bounds
    for c, name in enumerate(pic.names):
        pts, w = _coord(belief, c)
        color = f"C{c % 10}"
        if belief.marginal:
            x, dens = _density(pts[:, 0], w, low[c], high[c])
            ax.plot(x, dens, color=color, lw=1.2, label=name)
        else:
            ax.hist(pts[:, 0], bins=25, range=(low[c], high[c]), weights=w, density=True, histtype="step",
                    color=color, lw=1.2, label=name)
        ax.axvline(pic.truth[c], color=color, ls="--", lw=1.0)
    ax.set_xlim(low.min(), high.max())
    ax.set_xlabel("arm probability (dashed: true)", fontsize=8)
    ax.tick_params(labelsize=7)
    if legend:
        ax.legend(fontsize=7, loc="upper right")


def _draw_coord(ax: Any, pic: PosteriorPicture, beliefs: dict[str, Any], c: int, *, legend: bool) -> None:
    lo, hi = _span(list(beliefs.values()), pic, c, 0.05)
    for i, (label, belief) in enumerate(beliefs.items()):
        if belief is None:
            continue
        pts, w = _coord(belief, c)
        ax.hist(pts[:, 0], bins=30, range=(lo, hi), weights=w, density=True,
                histtype="stepfilled" if i == 0 else "step", alpha=0.6 if i == 0 else 1.0, color=f"C{i}",
                label=pic.engine if label == "engine" else "exact")
    ax.axvline(pic.truth[c], color="red", ls="--", lw=1.2, label="true")
    ax.set_xlim(lo, hi)
    ax.tick_params(labelsize=7)
    if legend:
        ax.legend(fontsize=7)


# -- files -----------------------------------------------------------------------------------
def write_posterior(pic: PosteriorPicture, out: str | Path) -> tuple[Path, Path]:
    """Write the picture to ``out`` (a ``.png``) and its summary beside it (same stem,
    ``.json``), each atomically; return both paths."""
    from metaplastic.runs.atomic import atomic_write_bytes, atomic_write_json

    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ConfigError(f"--out {str(out)!r} must end in .png (the summary goes beside it as .json)")
    png = render_posterior(pic)
    if png is None:
        require_matplotlib()
    summary = out.with_suffix(".json")
    atomic_write_bytes(out, png)
    atomic_write_json(summary, pic.summary())
    return out, summary


def bench_posterior(learner: Any, tasks: Any, *, seed: int) -> tuple[dict[str, Any], bytes | None] | None:
    """For the bench report: the summary and PNG (``None`` without matplotlib) of the first
    test task's picture when ``learner`` is an energy learner; ``None`` for other backends.
    A family without a picture (tabular MDPs) gives a summary with a ``note`` and no PNG."""
    from metaplastic.backends.energy import EnergyLearner

    if not isinstance(learner, EnergyLearner):
        return None
    try:
        pic = posterior_picture(learner, tasks, task_index=0, seed=seed)
    except ConfigError as exc:
        return {"drawn": False, "note": str(exc)}, None
    return pic.summary(), render_posterior(pic)
