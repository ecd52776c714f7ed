"""The ``metaplastic`` command: tables for people, ``--json`` for pipelines.

Every error a user can cause (unknown names, malformed specs, bad values, unknown
options, corrupt run directories) prints one line on standard error and exits with 2;
nothing is written.

Example (shell)::

    metaplastic backends
    metaplastic tasks --json
    metaplastic evaluate --backend random --tasks bandits:k=5,n=10 --n-tasks 1000 --json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import click

from metaplastic.core import Preparable, ResumableLearner, SpikingExporter
from metaplastic.errors import MetaplasticError
from metaplastic.params import MAX_SEED

EXIT_USAGE = 2
MAX_TASKS = 1_000_000       # --n-tasks
MAX_EPISODES = 100_000      # --episodes per trial


class OutPath(click.ParamType):
    """An output path (``kind`` ``"file"`` or ``"dir"``), checked when the command line is
    parsed: not empty, of the right kind, its nearest existing folder writable."""

    name = "path"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def convert(self, value: Any, param: Any, ctx: Any) -> Path:
        from metaplastic.runs.paths import check_output

        try:
            return check_output(value, kind=self.kind, what=param.opts[0] if param is not None else "--out")
        except MetaplasticError as exc:
            raise click.UsageError(str(exc), ctx) from None


def _echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, allow_nan=False))


def _console():
    from rich.console import Console

    # a pipe or a log file gets a fixed, wide table instead of rich's 80-column default
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 120)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="metaplastic", prog_name="metaplastic")
def cli() -> None:
    """Meta-RL on brain-inspired compute: meta-train, evaluate and benchmark backends."""


@cli.command("backends")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def backends_cmd(as_json: bool) -> None:
    """List every installed backend, whether it can run here, and what it can do."""
    import metaplastic

    infos = metaplastic.backends()
    families = {k: v for k, v in metaplastic.available().items() if k not in {i.name for i in infos}}
    if as_json:
        _echo_json(
            {
                "backends": [i.as_dict() for i in infos],
                "families": {k: (v.name if v.available else None) for k, v in families.items()},
            }
        )
        return
    from rich.table import Table

    table = Table(title="metaplastic backends")
    for col in ("backend", "available", "meta-train", "algorithms", "devices", "package", "notes"):
        table.add_column(col)
    for i in infos:
        caps = i.capabilities
        table.add_row(
            i.name,
            "yes" if i.available else "[red]no[/red]",
            "-" if caps is None else ("yes" if caps.meta_train else "no"),
            "-" if caps is None else (",".join(caps.algorithms) or "-"),
            "-" if caps is None else ",".join(caps.devices),
            f"{i.distribution} {i.version}",
            i.doc if i.available else (i.reason or ""),
        )
    console = _console()
    console.print(table)
    for fam, info in families.items():
        target = info.name if info.available else f"none ({info.reason})"
        console.print(f"family [bold]{fam}[/bold] -> {target}")


@cli.command("tasks")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def tasks_cmd(as_json: bool) -> None:
    """List every task family with its parameters, defaults and splits."""
    import metaplastic
    from metaplastic.tasks.base import TaskFamily

    rows = []
    for info in metaplastic.task_families():
        described = isinstance(info.obj, type) and issubclass(info.obj, TaskFamily)
        d = info.obj.describe() if described else {"name": info.name, "doc": info.doc, "params": [], "splits": {}}
        d = {**d, "name": info.name, "available": info.available, "reason": info.reason,
             "distribution": info.distribution, "version": info.version}
        rows.append(d)
    if as_json:
        _echo_json({"tasks": rows})
        return
    from rich.markup import escape
    from rich.table import Table

    console = _console()
    for d in rows:
        title = f"{d['name']} — {d.get('doc', '')}" if d["available"] else f"{d['name']} (unavailable: {d['reason']})"
        table = Table(title=title, title_justify="left")
        for col in ("parameter", "default", "allowed", "meaning"):
            table.add_column(col)
        for p in d.get("params", []):
            table.add_row(p["name"], escape(str(p["default"])), escape(p["range"]), escape(p["doc"]))
        console.print(table)
        for split, text in d.get("splits", {}).items():
            console.print(f"  split [bold]{split}[/bold]: {escape(text)}")
        console.print(f"  spec example: {d['name']}:" + ",".join(f"{p['name']}={p['default']}" for p in d.get("params", [])[:2]))


@cli.command("profiles")
@click.argument("names", nargs=-1, metavar="[NAME|PATH]...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def profiles_cmd(names: tuple[str, ...], as_json: bool) -> None:
    """List the hardware profiles `bench --profiles` takes — built-in, registered by plugin
    packages (entry-point group metaplastic.profiles) or, given as arguments, files — with
    their citations. Arguments are checked against the schema (docs/profiles.md)."""
    from metaplastic.bench.energy import profile_rows

    rows = profile_rows(names)
    if as_json:
        _echo_json({"profiles": rows})
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="metaplastic hardware profiles")
    for col in ("profile", "applies to", "source", "citations"):
        table.add_column(col)
    for r in rows:
        cites = escape("; ".join(r["citations"])) if r["available"] else f"[red]cannot be used:[/red] {escape(r['error'])}"
        table.add_row(escape(r["name"]), r["applies_to"] or "-", escape(r["source"]), cites)
    _console().print(table)


def _eval_options(f):
    f = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)
    f = click.option("--out", type=OutPath("file"), default=None,
                     help="Also write the JSON to this file (atomically).")(f)
    f = click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
                     help="Seed of tasks, agents and envs.")(f)
    f = click.option("--episodes", type=click.IntRange(1, MAX_EPISODES), default=None,
                     help="Episodes per trial [default: the family's trial length].")(f)
    f = click.option("--n-tasks", type=click.IntRange(1, MAX_TASKS), default=100, show_default=True,
                     help="Test tasks, one fresh agent each.")(f)
    f = click.option("--split", type=click.Choice(["train", "test", "ood"]), default="test", show_default=True)(f)
    return f


def _ray_address_option(f):
    """``--ray-address``: the Ray cluster the ``ray`` executor joins (it sets ``RAY_ADDRESS``)."""
    def apply(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value:
            os.environ["RAY_ADDRESS"] = value
        return value

    return click.option("--ray-address", default=None, metavar="HOST:PORT", expose_value=False, callback=apply,
                        help="Ray cluster that the ray executor joins (sets RAY_ADDRESS; without it, and with "
                             "RAY_ADDRESS unset, a local cluster starts and stops with the run).")(f)


def _settings(settings: Sequence[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as a config dict."""
    config: dict[str, Any] = {}
    for item in settings:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise click.UsageError(f"--set {item!r} is not KEY=VALUE")
        config[key.strip()] = value.strip()
    return config


RUNTIME_KEYS = ("greedy", "execution")  # may change how a trained run is executed, not what it learned


def _set_runtime(learner: Any, config: dict[str, Any]) -> None:
    """Apply ``--set`` options to a loaded run: only keys that change how it runs."""
    from metaplastic.core import Configurable
    from metaplastic.params import coerce

    bad = sorted(set(config) - set(RUNTIME_KEYS))
    if bad:
        raise MetaplasticError(f"--set {bad[0]} cannot change a trained run; with --run, --set takes only "
                               f"{', '.join(RUNTIME_KEYS)}")
    if not config:
        return
    if not isinstance(learner, Configurable):
        raise MetaplasticError(f"backend {learner.name!r} declares no config keys; --set cannot change how it runs")
    learner.config.update(coerce(f"backend {learner.name}", learner.config_params, config))


def _write_out(out: Path | None, obj: Any) -> None:
    if out is not None:
        from metaplastic.runs.atomic import atomic_write_json

        try:
            atomic_write_json(out, obj)
        except OSError as exc:
            raise MetaplasticError(f"cannot write --out {str(out)!r} ({exc.strerror or exc}); pass another --out") from None


@cli.command("evaluate")
@click.option("--backend", default=None, help="Backend or family name (see `metaplastic backends`).")
@click.option("--run", "run_dir", type=click.Path(path_type=Path), default=None,
              help="A trained run directory (from `metaplastic train`) instead of --backend.")
@click.option("--tasks", "tasks_spec", default=None,
              help="Task spec, e.g. bandits:k=5,n=10 (see `metaplastic tasks`); with --run, defaults to the run's tasks.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Backend config, e.g. --set net=policy.nir (repeatable); with --run only greedy and execution.")
@_eval_options
def evaluate_cmd(backend: str | None, run_dir: Path | None, tasks_spec: str | None, settings: tuple[str, ...],
                 split: str, n_tasks: int, episodes: int | None, seed: int, out: Path | None, as_json: bool) -> None:
    """Evaluate a backend, or a trained run, on fresh tasks: trial return, 95% interval,
    adaptation curve."""
    import metaplastic
    from metaplastic.runs.rundir import RunDir

    if (backend is None) == (run_dir is None):
        raise click.UsageError("give exactly one of --backend NAME or --run RUN")
    config = _settings(settings)
    if run_dir is None:
        learner = metaplastic.make(backend, **config)
    else:
        run = RunDir(run_dir)
        learner = metaplastic.load(run)
        _set_runtime(learner, config)
        if tasks_spec is None:
            tasks_spec = run.tasks_spec()
    if tasks_spec is None:
        raise click.UsageError("--tasks is required (the run does not say which tasks it was trained on)")
    tasks = metaplastic.make_tasks(tasks_spec)
    res = metaplastic.evaluate(learner, tasks, n_tasks=n_tasks, episodes=episodes, split=split, seed=seed,
                               progress=not as_json)
    summary = res.summary()
    _write_out(out, summary)
    if as_json:
        _echo_json(summary)
    else:
        _print_results([summary])


@cli.command("compare")
@click.option("--backends", "names", default=None,
              help="Comma-separated backends [default: every available backend that needs no training].")
@click.option("--tasks", "tasks_spec", default="bandits:k=5,n=10", show_default=True, help="Task spec.")
@_eval_options
def compare_cmd(names: str | None, tasks_spec: str, split: str, n_tasks: int, episodes: int | None, seed: int,
                out: Path | None, as_json: bool) -> None:
    """Evaluate several backends on the same tasks and print one table."""
    import metaplastic

    tasks = metaplastic.make_tasks(tasks_spec)
    if names is None:
        chosen = [i.name for i in metaplastic.backends()
                  if i.available and i.capabilities and not i.capabilities.meta_train
                  and not i.capabilities.requires and i.capabilities.applies_to(tasks.name)]
    else:
        chosen = [n.strip() for n in names.split(",") if n.strip()]
        if not chosen:
            raise MetaplasticError("--backends is empty; give comma-separated names (see `metaplastic backends`)")
    learners = [metaplastic.make(n) for n in chosen]  # fail on a bad name before any work
    summaries = [
        metaplastic.evaluate(lr, tasks, n_tasks=n_tasks, episodes=episodes, split=split, seed=seed,
                             progress=not as_json).summary()
        for lr in learners
    ]
    _write_out(out, {"results": summaries})
    if as_json:
        _echo_json({"results": summaries})
    else:
        _print_results(summaries)


@cli.command("train")
@click.option("--backend", required=True, help="Backend or family name with meta-training (see `metaplastic backends`).")
@click.option("--algo", default=None, help="Algorithm, e.g. rl2 (see the backend's capabilities).")
@click.option("--tasks", "tasks_spec", required=True, help="Training task spec, e.g. bandits:k=5,n=10.")
@click.option("--budget", required=True, help="Wall time (90s, 10m, 1.5h) or updates (500, 500-updates).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True)
@click.option("--out", "out", type=OutPath("dir"), required=True,
              help="Run directory; rerunning on it resumes from its last checkpoint.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Backend config, e.g. --set hidden=64 (repeatable).")
@click.option("--checkpoint-every", type=click.FloatRange(min=0.0), default=30.0, show_default=True,
              help="Seconds between checkpoints (0: after every update).")
@_ray_address_option
def train_cmd(backend: str, algo: str | None, tasks_spec: str, budget: str, seed: int, out: Path,
              settings: tuple[str, ...], checkpoint_every: float) -> None:
    """Meta-train a backend; writes config.json, metrics.jsonl and checkpoints into --out.

    SIGINT (Ctrl-C) or SIGTERM stops it after the update in progress with a checkpoint;
    rerunning the same command resumes. Only one process may write a run at a time."""
    import metaplastic
    from metaplastic.registry import BACKENDS
    from metaplastic.runs.rundir import RunDir
    from metaplastic.runs.training import Checkpointer, Interrupted, StopSignals, check_target, open_training
    from metaplastic.tasks.base import task_spec
    from metaplastic.training.budget import Budget

    # everything that can fail is checked before anything is written
    config = _settings(settings)
    if "seed" in config:  # make(name, seed=seed, **config) would get two seeds
        raise click.UsageError("--set seed=... duplicates --seed; give the seed with --seed N")
    if algo is not None:
        config["algo"] = algo
    parsed = Budget.parse(budget)  # once; the learner gets the parsed budget
    tasks = metaplastic.make_tasks(tasks_spec)
    name = BACKENDS.resolve(backend)
    request = {"backend": name, "tasks": task_spec(tasks), "seed": seed, "config": config}
    fresh = metaplastic.make(name, seed=seed, **config)
    if not fresh.capabilities.meta_train:
        raise MetaplasticError(f"backend {name!r} has no meta-training (capabilities.meta_train is False)")
    run = RunDir(out)
    resuming = check_target(run, request)
    if not resuming and isinstance(fresh, Preparable):
        fresh.prepare(tasks)  # builds the model, reads an init= run
    existed = run.path.exists()
    try:
        with run.lock(), StopSignals() as stop:
            opened = open_training(run, request, fresh=fresh, load=metaplastic.load)
            if opened.resumed:
                click.echo(f"resuming {out} from update {opened.done}", err=True)
            learner = opened.learner
            writer = Checkpointer(run, learner, every_s=checkpoint_every, stop=stop)
            kw = {"state": opened.state} if opened.state is not None else {}
            try:
                final = learner.meta_train(tasks, budget=parsed, seed=seed, callback=writer, **kw)
                writer.checkpoint(final if isinstance(learner, ResumableLearner) else None)
            except Interrupted as exc:
                click.echo(f"{exc.signal_name}: stopped after update {exc.updates}; checkpoint saved in {out} "
                           "(rerun the same command to resume)", err=True)
                sys.exit(exc.exit_code)
            except BaseException as exc:  # no checkpoint of a failed update (TrainingDiverged: the last good one stays)
                if not opened.resumed and writer.updates_seen == 0:
                    run.remove_training()  # a start that trained nothing leaves nothing behind
                if isinstance(exc, KeyboardInterrupt):
                    click.echo(f"interrupted; the last checkpoint in {out} is kept (rerun the same command to resume)",
                               err=True)
                    sys.exit(130)
                raise
            finally:
                writer.close()
    except BaseException:
        if not existed:
            _remove_empty(run)
        raise
    last = writer.last
    updates = final.progress.updates if isinstance(learner, ResumableLearner) else last.get("update", "?")
    trial = last.get("trial_return")
    click.echo(f"trained {name} on {request['tasks']}: {updates} updates, {last.get('elapsed_s', 0):.0f} s"
               + (f", last trial return {trial:.3f}" if isinstance(trial, (int, float)) else "")
               + f"; run saved in {out}")


def _remove_empty(run: Any) -> None:
    """Remove a run folder this command created and left empty (but for its lock file)."""
    try:
        if [p.name for p in run.path.iterdir()] == [run.LOCK]:
            (run.path / run.LOCK).unlink()
            run.path.rmdir()
    except OSError:
        pass


@cli.command("export")
@click.option("--run", "run_dir", type=click.Path(path_type=Path), required=True, help="A trained run directory.")
@click.option("--format", "fmt", type=click.Choice(["nir", "npz"]), default="nir", show_default=True,
              help="nir: the Neuromorphic Intermediate Representation (HDF5); npz: metaplastic's SpikingNet file.")
@click.option("--out", "out", type=OutPath("file"), required=True, help="File to write.")
@click.option("--no-readout", is_flag=True, help="nir: end the graph at the spikes (for tools that read the readout on the host).")
def export_cmd(run_dir: Path, fmt: str, out: Path, no_readout: bool) -> None:
    """Export a trained spiking policy to the runtime that executes it."""
    import metaplastic

    learner = metaplastic.load(run_dir)
    if "nir" not in learner.capabilities.exports or not isinstance(learner, SpikingExporter):
        raise MetaplasticError(f"backend {learner.name!r} exports nothing (capabilities.exports is empty); "
                               "export a spiking backend's run, e.g. snntorch")
    net = learner.spiking_net()
    if fmt == "nir":
        from metaplastic.spiking.nir_io import write_nir

        write_nir(net, out, readout=not no_readout)
    else:
        net.save(out)
    click.echo(f"wrote {out} ({fmt}; {net.w_rec.shape[0]} {net.neuron} neurons, {net.substeps} sub-steps per decision)")


@cli.command("posterior")
@click.option("--run", "run_dir", type=click.Path(path_type=Path), required=True,
              help="A trained run directory of backend energy.")
@click.option("--tasks", "tasks_spec", default=None, help="Task spec [default: the run's tasks].")
@click.option("--engine", default=None,
              help="Inference engine to draw (auto, exact, langevin, nuts, svi) [default: the run's].")
@click.option("--task-index", type=click.IntRange(0, MAX_TASKS - 1), default=0, show_default=True,
              help="Which test task (the one `evaluate --seed` draws at that index).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seed of the test tasks, the agent and the env.")
@click.option("--after", "after_text", default="1,5,20", show_default=True,
              help="Transition counts after which the posterior is drawn, comma-separated (one column each).")
@click.option("--out", "out", type=OutPath("file"), default=None,
              help="PNG to write; a .json of the same stem goes beside it "
                   "[default: reports/posterior-<family>-<engine>-task<I>.png].")
def posterior_cmd(run_dir: Path, tasks_spec: str | None, engine: str | None, task_index: int, seed: int,
                  after_text: str, out: Path | None) -> None:
    """Draw an energy run's posterior over one test task's hidden parameters after a few
    transitions of a trial, beside the exact posterior of the same transitions."""
    import metaplastic
    from metaplastic.bench.posterior import (energy_model, parse_after, posterior_picture, require_matplotlib,
                                             write_posterior)
    from metaplastic.runs.paths import check_output
    from metaplastic.runs.rundir import RunDir

    try:
        after = parse_after(after_text)
    except MetaplasticError as exc:
        raise click.BadParameter(str(exc), param_hint="--after") from None
    if out is not None and out.suffix.lower() != ".png":
        raise click.BadParameter(f"{str(out)!r} must end in .png (the summary goes beside it as .json)",
                                 param_hint="--out")
    require_matplotlib()
    run = RunDir(run_dir)
    learner = metaplastic.load(run)
    energy_model(learner)  # an energy run with a fitted prior, before anything else
    tasks_spec = tasks_spec if tasks_spec is not None else run.tasks_spec()
    if tasks_spec is None:
        raise click.UsageError("--tasks is required (the run does not say which tasks it was trained on)")
    tasks = metaplastic.make_tasks(tasks_spec)
    pic = posterior_picture(learner, tasks, engine=engine, task_index=task_index, seed=seed, after=after)
    if out is None:
        out = check_output(Path("reports") / f"posterior-{pic.family}-{pic.engine}-task{task_index}.png", kind="file")
    png, summary = write_posterior(pic, out)
    click.echo(f"wrote {png} and {summary}")


@cli.command("explain")
@click.option("--run", "run_dir", type=click.Path(path_type=Path), required=True,
              help="A trained run directory of backend symbolic.")
@click.option("--tasks", "tasks_spec", default=None, help="Task spec [default: the run's tasks].")
@click.option("--episodes", type=click.IntRange(1, MAX_EPISODES), default=None,
              help="Episodes to play [default: the family's trial length].")
@click.option("--task-index", type=click.IntRange(0, MAX_TASKS - 1), default=0, show_default=True,
              help="Which task of the split (the one `evaluate --seed` draws at that index).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seed of the tasks, the agent and the env.")
@click.option("--split", type=click.Choice(["test", "ood"]), default="test", show_default=True)
@click.option("--top", type=click.IntRange(1, 100), default=3, show_default=True,
              help="Rules shown per template (goal, opens) after each episode.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
def explain_cmd(run_dir: Path, tasks_spec: str | None, episodes: int | None, task_index: int, seed: int, split: str,
                top: int, as_json: bool) -> None:
    """Play one task with a symbolic run's agent and print, after each episode, the rules it
    believes with their probabilities; then the task's hidden rule."""
    import metaplastic
    from metaplastic.backends.symbolic import SymbolicLearner
    from metaplastic.runs.rundir import RunDir

    run = RunDir(run_dir)
    learner = metaplastic.load(run)
    if not isinstance(learner, SymbolicLearner):
        raise MetaplasticError(f"explain needs a run of backend 'symbolic'; {str(run_dir)!r} is a run of backend "
                               f"{learner.name!r}, which induces no rules")
    tasks_spec = tasks_spec if tasks_spec is not None else run.tasks_spec()
    if tasks_spec is None:
        raise click.UsageError("--tasks is required (the run does not say which tasks it was trained on)")
    tasks = metaplastic.make_tasks(tasks_spec)
    doc = _explain_trial(learner, tasks, episodes=episodes, task_index=task_index, seed=seed, split=split, top=top)
    doc["run"] = str(run_dir)
    if as_json:
        _echo_json(doc)
    else:
        _print_explanation(doc)


def _rule_entry(rule: Any, prob: float | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"head": rule.head.text(), "text": rule.text(), "prolog": rule.prolog()}
    if prob is not None:
        entry["prob"] = float(prob)
    return entry


def _explain_trial(learner: Any, tasks: Any, *, episodes: int | None, task_index: int, seed: int, split: str,
                   top: int) -> dict[str, Any]:
    """One trial of one task with a one-lane symbolic agent: per episode its return and the
    rules believed; then the hidden rule (seeded as ``metaplastic evaluate`` seeds a task)."""
    import numpy as np

    from metaplastic.runtime.vector import drive_trials
    from metaplastic.tasks.base import TaskFamily, task_spec

    learner.prepare(tasks)  # a family without a domain theory: a one-line ConfigError
    episodes = tasks.episodes_per_trial if episodes is None else int(episodes)
    if isinstance(tasks, TaskFamily):
        tasks.check_trial(episodes)
    task = tasks.sample(task_index + 1, seed=seed, split=split)[task_index]
    agent_seed, env_seed = np.random.SeedSequence([seed, task.seed]).generate_state(2, dtype=np.uint32)
    agent = learner.vector_agent(tasks, 1)
    domain = agent.domain
    agent.reset(np.array([agent_seed]))
    beliefs: list[dict[str, Any]] = []

    def end_episode(mask: Any) -> None:
        agent.end_episode(mask)
        if np.asarray(mask, dtype=bool)[0]:
            rules = agent.explain(0, top)
            beliefs.append({"rules": [{"template": "goal" if r.head.text() == "reward" else "opens",
                                       **_rule_entry(r, p)} for r, p in rules],
                            "best_goal_rule": domain.rules[agent.best_goal_rule(0)].prolog()})

    venv = tasks.make_vector_env([task])
    try:
        returns = drive_trials(venv, episodes, env_seed=int(env_seed), act=agent.act, observe=agent.observe,
                               end_episode=end_episode, tasks=[task], where=task_spec(tasks))[0]
    finally:
        venv.close()
    truth = tasks.rules([task])[0]
    goal = domain.rules[domain.true_goal_rule(truth)]
    opens = [domain.rules[domain.opens_rule(key, door)] for door, key in truth["opener"].items()]
    per_episode = [{"episode": i + 1, "return": float(returns[i]), **b,
                    "best_goal_rule_correct": b["best_goal_rule"] == goal.prolog()}
                   for i, b in enumerate(beliefs)]
    fitted = learner.rule_prior is not None and learner.config.get("prior") != "uniform"
    return {
        "backend": learner.name, "prior": "learned" if fitted else "uniform",
        "prior_fitted_on_tasks": int(learner.rule_prior.tasks) if fitted else None,
        "acting": learner.config.get("acting"),
        "tasks": task_spec(tasks), "split": split, "task_index": task_index, "task_seed": int(task.seed),
        "seed": seed, "episodes": episodes, "top": top, "trial_return": float(returns.sum()),
        "per_episode": per_episode,
        "hidden_rule": {"note": "revealed after play; the agent never saw it",
                        "goal": _rule_entry(goal), "opens": [_rule_entry(r) for r in opens], "data": truth},
    }


def _print_explanation(doc: dict[str, Any]) -> None:
    prior = (f"prior learned on {doc['prior_fitted_on_tasks']} tasks" if doc["prior"] == "learned"
             else "uniform prior")
    click.echo(f"{doc['backend']} run {doc['run']} ({prior}, acting {doc['acting']}) on {doc['tasks']}: "
               f"split {doc['split']}, task index {doc['task_index']} (task seed {doc['task_seed']}), seed {doc['seed']}")
    for ep in doc["per_episode"]:
        click.echo(f"episode {ep['episode']}: return {ep['return']:.3f}; rules believed:")
        for template in ("goal", "opens"):
            for r in (r for r in ep["rules"] if r["template"] == template):
                click.echo(f"  {r['prob']:6.3f}  {r['text']}")
                click.echo(f"          {r['prolog']}")
    click.echo(f"trial return {doc['trial_return']:.3f} over {doc['episodes']} episodes")
    hidden = doc["hidden_rule"]
    click.echo("hidden rule (revealed after play):")
    for r in (hidden["goal"], *hidden["opens"]):
        click.echo(f"  {r['text']}")
        click.echo(f"          {r['prolog']}")
    hits = [str(ep["episode"]) for ep in doc["per_episode"] if ep["best_goal_rule_correct"]]
    click.echo("the most probable goal rule was the hidden one after episode(s) " + (", ".join(hits) if hits else "none"))


@cli.command("bench")
@click.option("--backends", "names", default="torch,snntorch,numba", show_default=True,
              help="Comma-separated backends to put side by side (see `metaplastic backends`).")
@click.option("--tasks", "tasks_spec", default="bandits:k=5,n=10", show_default=True, help="Task spec.")
@click.option("--budget", default=None, help="Meta-training wall time or updates per backend [default: 1m; --quick: 45s].")
@click.option("--run", "runs", multiple=True, metavar="NAME=RUN",
              help="Use a trained run directory for backend NAME instead of meta-training it (repeatable).")
@click.option("--profiles", default=None,
              help="Comma-separated hardware profiles: built-in names or paths of profile .json files [default: all built-in].")
@click.option("--out", "out", type=OutPath("dir"), default=None,
              help="Report directory [default: reports/bench-<date>-<time>].")
@click.option("--quick", is_flag=True, help="Small budgets and samples for a first look (a few minutes on 2 cores).")
@click.option("--n-tasks", type=click.IntRange(2, MAX_TASKS), default=None, help="Tasks per split [default: 1000; --quick: 300].")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True)
@click.option("--ladder", "ladders", multiple=True, type=click.Path(path_type=Path), metavar="DIR",
              help="A size ladder `metaplastic sweep --out DIR` wrote: its networks join the headline at equal "
                   "return (repeatable).")
@click.option("--reference-runs", is_flag=True,
              help="Also bench the trained reference runs shipped with metaplastic for these tasks, beside the rows "
                   "trained here.")
def bench_cmd(names: str, tasks_spec: str, budget: str | None, runs: tuple[str, ...], profiles: str | None,
              out: Path | None, quick: bool, n_tasks: int | None, seed: int, ladders: tuple[Path, ...],
              reference_runs: bool) -> None:
    """Meta-train (or load) each backend, then measure adaptation, latency, operations and
    energy on test and OOD tasks; writes report.json, report.md and plots."""
    from metaplastic.bench.energy import builtin_profiles
    from metaplastic.bench.report import write_report
    from metaplastic.bench.runner import BenchConfig, default_out, run_bench
    from metaplastic.runs.paths import check_output

    chosen = [n.strip() for n in names.split(",") if n.strip()]
    run_map: dict[str, str] = {}
    for item in runs:
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise click.UsageError(f"--run {item!r} is not NAME=RUN_DIRECTORY")
        run_map[key.strip()] = value.strip()
    kw: dict[str, Any] = dict(backends=chosen, tasks=tasks_spec, runs=run_map, seed=seed,
                              profiles=[p.strip() for p in profiles.split(",") if p.strip()] if profiles else builtin_profiles(),
                              ladders=[str(p) for p in ladders], reference_runs=reference_runs, command="metaplastic " + " ".join(sys.argv[1:]))
    if budget is not None:
        kw["budget"] = budget
    if n_tasks is not None:
        kw["n_tasks"] = n_tasks
    cfg = BenchConfig.quick(**kw) if quick else BenchConfig(**kw)
    out = out or check_output(default_out(), kind="dir")  # before minutes of work
    report = run_bench(cfg, progress=True)
    paths = write_report(report, out)
    click.echo(Path(paths["report.md"]).read_text())
    note = f"; {report['plots_note']}" if report.get("plots_note") else ""
    click.echo(f"report written to {out}/ (report.md, report.json, {len(report.get('plots', {}))} plots{note})")


@cli.command("sweep")
@click.option("--backend", default=None, help="The backend whose sizes to sweep (its `hidden` config key).")
@click.option("--tasks", "tasks_spec", default="bandits:k=5,n=10", show_default=True, help="Task spec.")
@click.option("--sizes", default="16,32,64,128", show_default=True, help="Comma-separated sizes (GRU units or neurons).")
@click.option("--energy-coefs", default="0", show_default=True,
              help="Comma-separated energy_coef values (energy-aware training; spiking backends), each with every size.")
@click.option("--budget", default="2m", show_default=True, help="Meta-training wall time or updates per point.")
@click.option("--profile", default="loihi", show_default=True, help="Hardware profile the energy is modelled on.")
@click.option("--n-tasks", type=click.IntRange(2, MAX_TASKS), default=1000, show_default=True, help="Test tasks per point.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Another config value for every point.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True)
@click.option("--out", "out", type=OutPath("dir"), default=None, help="Report directory [default: reports/sweep-<backend>].")
@click.option("--reprice", is_flag=True,
              help="Train nothing: price the sweep already in --out again on --profile (from the operations it recorded).")
@click.option("--executor", default="inprocess", show_default=True,
              help="Where the points train, one point per job: inprocess, process or ray (extra ray).")
@click.option("--workers", type=click.IntRange(0, 100_000), default=0, show_default=True,
              help="Workers of the process or ray executor (0: one per CPU core, or per CPU of the Ray cluster).")
@_ray_address_option
def sweep_cmd(backend: str | None, tasks_spec: str, sizes: str, energy_coefs: str, budget: str, profile: str,
              n_tasks: int, settings: tuple[str, ...], seed: int, out: Path | None, reprice: bool, executor: str,
              workers: int) -> None:
    """Train a size ladder of one backend (with and without the energy penalty) and draw the
    Pareto front of trial return against modelled energy per decision; writes sweep.json,
    sweep.md and sweep.png, and each trained point as a run under runs/ (what `bench
    --ladder` measures again)."""
    from metaplastic.bench.sweep import SweepConfig, run_sweep
    from metaplastic.runs.paths import check_output

    def numbers(text: str, kind: type, what: str) -> tuple:
        try:
            return tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise click.UsageError(f"--{what} {text!r} is not a comma-separated list of numbers") from None

    if reprice:
        from metaplastic.bench.sweep import read_sweep, reprice as reprice_sweep

        if out is None:
            raise click.UsageError("--reprice needs --out DIR, the folder of the sweep to price again")
        old = read_sweep(out, "--reprice")
        _write_sweep(reprice_sweep(old, profile), out)
        return
    if backend is None:
        raise click.UsageError("--backend is required (or --reprice an existing sweep)")
    cfg = SweepConfig(backend=backend, tasks=tasks_spec, sizes=numbers(sizes, int, "sizes"),
                      energy_coefs=numbers(energy_coefs, float, "energy-coefs") or (0.0,), budget=budget,
                      profile=profile, n_tasks=n_tasks, seed=seed, settings=_settings(settings), executor=executor,
                      workers=workers)
    out = out or check_output(Path("reports") / f"sweep-{backend}", kind="dir")
    cfg.runs_dir = str(Path(out) / "runs")
    _write_sweep(run_sweep(cfg, progress=True), out)


def _write_sweep(report: dict[str, Any], out: Path) -> None:
    from metaplastic.bench.report import json_safe, write_files
    from metaplastic.bench.sweep import sweep_markdown, sweep_plot

    files = {"sweep.json": (json.dumps(json_safe(report), indent=2, allow_nan=False) + "\n").encode(),
             "sweep.md": sweep_markdown(report).encode()}
    png = sweep_plot(report)
    if png is not None:
        files["sweep.png"] = png
    write_files(files, out)
    click.echo(files["sweep.md"].decode())
    click.echo(f"sweep written to {out}/ ({', '.join(files)})")


@cli.group("runtime")
def runtime_group() -> None:
    """Install, check and remove the external runtimes some backends run in (e.g. Lava's:
    Python 3.10 with lava-nc), under $METAPLASTIC_HOME or ~/.local/share/metaplastic."""


@runtime_group.command("install")
@click.argument("name")
@click.option("--python", "python", metavar="PATH", default=None,
              help="The interpreter to build it with [default: the first python3.10 found that runs].")
def runtime_install_cmd(name: str, python: str | None) -> None:
    """Install runtime NAME (does nothing if it is already installed and healthy)."""
    from metaplastic.workers.provision import install

    install(name, python, say=click.echo)


@runtime_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def runtime_status_cmd(as_json: bool) -> None:
    """List every runtime: installed, healthy, versions, size and where."""
    from metaplastic.workers.provision import status

    rows = status()
    if as_json:
        _echo_json({"runtimes": [r.as_dict() for r in rows]})
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="metaplastic runtimes", title_justify="left")
    for col in ("runtime", "installed", "healthy", "python", "packages", "MB"):
        table.add_column(col)
    table.add_column("path / notes", overflow="fold")
    for r in rows:
        table.add_row(
            r.name,
            "yes" if r.installed else "[red]no[/red]",
            "yes" if r.healthy else "[red]no[/red]",
            r.python_version or "-",
            escape(", ".join(f"{k} {v}" for k, v in r.versions.items()) or "-"),
            "-" if r.size_mb is None else f"{r.size_mb:.0f}",
            escape(str(r.path) if r.healthy else (r.reason or "")),
        )
    _console().print(table)


@runtime_group.command("remove")
@click.argument("name")
def runtime_remove_cmd(name: str) -> None:
    """Delete runtime NAME's folder (nothing to do if it is not installed)."""
    from metaplastic.workers.provision import remove, runtime_home

    if remove(name):
        click.echo(f"removed runtime {name!r} from {runtime_home() / 'runtimes'}")
    else:
        click.echo(f"runtime {name!r} is not installed; nothing to remove")


def _print_results(summaries: Sequence[dict[str, Any]]) -> None:
    from rich.table import Table

    s0 = summaries[0]
    table = Table(title=f"{s0['tasks']} — split {s0['split']}, {s0['n_tasks']} tasks, {s0['episodes']} episodes, seed {s0['seed']}",
                  title_justify="left")
    success = s0.get("success_rate") is not None  # a family with success: its rate is the headline, first
    cols = [("backend", "left")]
    if success:
        cols += [("success rate", "right"), ("95% interval", "right")]
    cols += [("trial return", "right"), ("95% interval", "right"), ("first ep.", "right"), ("last ep.", "right"),
             ("wall s", "right")]
    for col, just in cols:
        table.add_column(col, justify=just)

    def interval(ci: Any, reason: str) -> str:
        return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci is not None else f"n/a ({reason})"

    for s in summaries:
        pe = s["per_episode_mean"]
        row = [s["backend"]]
        if success:
            row += [f"{s['success_rate']:.3f}", interval(s.get("success_rate_ci95"), "no tasks")]
        row += [f"{s['return_mean']:.3f}", interval(s["return_ci95"], s.get("return_ci95_reason", "")),
                f"{pe[0]:.3f}", f"{pe[-1]:.3f}", f"{s['wall_time_s']:.2f}"]
        table.add_row(*row)
    _console().print(table)
    if success:
        from metaplastic.evaluation import success_definition

        versions = ", ".join(f"{k} {v}" for k, v in s0.get("versions", {}).items())
        click.echo(f"success: {success_definition(s0['scored_episodes'])}{'; ' + versions if versions else ''}")


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``metaplastic`` console script."""
    try:
        rv = cli.main(args=list(argv) if argv is not None else None, prog_name="metaplastic", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "metaplastic"
        click.echo(f"metaplastic: error: {_one_line(exc.format_message())} (see '{where} --help')", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        click.echo(f"metaplastic: error: {_one_line(exc.format_message())}", err=True)
        sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
    except MetaplasticError as exc:
        click.echo(f"metaplastic: error: {_one_line(str(exc))}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as exc:  # a file the command had to read or write (a full disk, a read-only folder)
        where = f" {exc.filename!r}" if exc.filename else ""
        click.echo(f"metaplastic: error: cannot read or write{where}: {_one_line(exc.strerror or str(exc))}", err=True)
        sys.exit(EXIT_USAGE)
    except click.Abort:
        click.echo("metaplastic: aborted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
