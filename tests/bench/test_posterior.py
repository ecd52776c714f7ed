"""``metaplastic posterior``: an energy run's posterior beside the exact one, as a PNG and a
JSON summary; one-line errors with exit code 2 for bad input; the bench report's picture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import metaplastic
from metaplastic.bench.posterior import Trial, posterior_picture, recorded_trial, replay, with_engine
from metaplastic.cli import main

pytest.importorskip("matplotlib")

PNG = b"\x89PNG"


def _run(args: list, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def _trained(path: Path, spec: str) -> Path:
    learner = metaplastic.make("energy", prior_tasks=200)
    learner.meta_train(metaplastic.make_tasks(spec), budget=1, seed=0, show_progress=False)
    learner.save(path)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("posterior-runs")
    return {"gridnavi": _trained(base / "gridnavi", "gridnavi"),
            "bandits": _trained(base / "bandits", "bandits:k=3,n=20")}


@pytest.mark.parametrize("family, spec", [("gridnavi", "gridnavi"), ("bandits", "bandits:k=3,n=20")])
def test_writes_png_and_json_and_exact_agrees_with_itself(runs, tmp_path, capsys, family, spec):
    out = tmp_path / "pic" / f"{family}.png"
    code, stdout, err = _run(["posterior", "--run", runs[family], "--tasks", spec, "--engine", "exact", "--out", out],
                             capsys)
    assert code == 0, err
    assert str(out) in stdout
    assert out.read_bytes()[:4] == PNG
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["family"] == family and doc["engine"] == "exact" and doc["exact_applies"] is True
    assert set(doc) >= {"true_z", "names", "task_seed", "after", "note"} and "KL" in doc["note"]
    assert sorted(doc["after"], key=int) == ["1", "5", "20"]
    d = len(doc["names"])
    for k, entry in doc["after"].items():
        assert entry["reached"] and len(entry["true_z"]) == d
        for row in ("engine", "exact"):
            assert len(entry[row]["mean"]) == d and len(entry[row]["ci90"]) == d
            assert all(lo <= hi for lo, hi in entry[row]["ci90"])
        assert abs(entry["kl_exact_engine"]) <= 1e-12, (k, entry["kl_exact_engine"])  # exact against its replay
    assert sorted(p.name for p in out.parent.iterdir()) == [f"{family}.json", f"{family}.png"]  # no temp files


def test_after_past_the_trial_is_null_and_the_default_engine_is_the_runs(runs, tmp_path, capsys):
    out = tmp_path / "b.png"
    code, _, err = _run(["posterior", "--run", runs["bandits"], "--after", "3,500", "--out", out], capsys)
    assert code == 0, err
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["engine"] == "exact" and doc["transitions_in_trial"] == 20  # auto -> exact on arms
    assert doc["after"]["500"] == {"reached": False, "true_z": doc["true_z"], "engine": None, "exact": None,
                                   "kl_exact_engine": None}
    assert doc["after"]["3"]["reached"]


def test_replay_feeds_the_same_transitions():
    tasks = metaplastic.make_tasks("gridnavi")
    learner = metaplastic.make("energy", prior_tasks=200)
    learner.meta_train(tasks, budget=1, seed=0, show_progress=False)
    pic = posterior_picture(learner, tasks, engine="exact", task_index=2, seed=3, after=(1, 4))
    acting = with_engine(learner, "exact").vector_agent(tasks, 1)
    from metaplastic.energy_models.diagnostics import beliefs_after

    beliefs_after(acting, tasks, tasks.sample(3, seed=3, split="test")[2:], [4], seed=3)
    trial = recorded_trial(acting)
    assert isinstance(trial, Trial) and len(trial) == pic.transitions
    again = replay(with_engine(learner, "exact").vector_agent(tasks, 1), trial, [4])[0]
    np.testing.assert_array_equal(again.weights, pic.rows["exact"][1].weights)
    assert pic.task_seed == tasks.sample(3, seed=3, split="test")[2].seed


@pytest.mark.parametrize("args, fragment", [
    (["--run", "{tmp}/no-such-run"], "does not exist"),
    (["--run", "{random}"], "backend 'random'"),
    (["--run", "{gridnavi}", "--after", "1,five"], "--after"),
    (["--run", "{gridnavi}", "--after", "0"], "--after"),
    (["--run", "{gridnavi}", "--out", "{tmp}/pic.txt"], ".png"),
    (["--run", "{gridnavi}", "--engine", "magic"], "magic"),
    (["--run", "{gridnavi}", "--tasks", "bandits:k=3"], "hidden parameters"),
    (["--run", "{gridnavi}", "--tasks", "nope"], "unknown task family 'nope'"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(runs, tmp_path, capsys, args, fragment):
    random_run = tmp_path / "random-run"
    metaplastic.make("random").save(random_run)
    fill = {"tmp": tmp_path, "random": random_run, "gridnavi": runs["gridnavi"]}
    args = [a.format(**fill) for a in args]
    out = tmp_path / "out" / "pic.png"
    if "--out" not in args:
        args += ["--out", str(out)]
    code, stdout, err = _run(["posterior", *args], capsys)
    assert code == 2, (stdout, err)
    assert fragment in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert stdout == ""
    assert not out.parent.exists() and not (tmp_path / "pic.txt").exists()


def test_bench_report_includes_the_posterior_picture(tmp_path):
    from metaplastic.bench.report import write_report
    from metaplastic.bench.runner import BenchConfig, run_bench

    cfg = BenchConfig(backends=["energy"], tasks="bandits:k=3,n=5", n_tasks=20, latency_decisions=30,
                      throughput_decisions=3, profiles=["cpu-45nm"])
    report = run_bench(cfg, progress=False)
    write_report(report, tmp_path)
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["plots"]["posterior_energy"] == "posterior_energy.png"
    assert (tmp_path / "posterior_energy.png").read_bytes()[:4] == PNG
    post = doc["backends"]["energy"]["posterior"]
    assert post["family"] == "bandits" and post["task_index"] == 0 and "1" in post["after"]
    assert "posterior_energy.png" in (tmp_path / "report.md").read_text()


def test_without_matplotlib_it_says_what_to_install_and_writes_nothing(runs, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)  # import matplotlib raises ImportError
    out = tmp_path / "out" / "pic.png"
    code, stdout, err = _run(["posterior", "--run", runs["gridnavi"], "--out", out], capsys)
    assert code == 2 and "pip install 'metaplastic[plot]'" in err and len(err.strip().splitlines()) == 1
    assert not out.parent.exists()
