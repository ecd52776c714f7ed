"""``metaplastic sweep``: the Pareto front, the report files, and one-line refusals before
any training."""

import json
import math

import pytest

from metaplastic.bench.sweep import SweepConfig, pareto, run_sweep
from metaplastic.cli import main


def _cli(args):
    with pytest.raises(SystemExit) as e:
        main(args)
    return e.value.code


def test_pareto_front():
    pts = [(1.0, 5.0), (2.0, 6.0), (2.0, 5.9), (3.0, 6.0), (0.5, 4.0), (math.nan, 9.0)]
    assert pareto(pts) == [True, True, False, False, True, False]


def test_sweep_writes_its_report(tmp_path):
    out = tmp_path / "sw"
    code = _cli(["sweep", "--backend", "random", "--tasks", "bandits:k=3,n=5", "--sizes", "1", "--budget", "1",
                 "--n-tasks", "20", "--profile", "cpu-45nm", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "sweep.json").read_text())
    assert report["profile"] == "cpu-45nm" and len(report["points"]) == 1
    point = report["points"][0]
    assert point["ci95"][0] <= point["trial_return"] <= point["ci95"][1]
    assert (out / "sweep.md").read_text().startswith("# Sweep: random")
    assert point["run"] == str(out / "runs" / "h1-c0") and set(point["ops_per_decision"]) >= {"macs", "spikes"}
    import metaplastic

    assert metaplastic.load(point["run"]).name == "random"  # the trained point, kept for measuring again


def test_spiking_points_are_priced_on_a_spiking_profile():
    pytest.importorskip("snntorch")
    report = run_sweep(SweepConfig(backend="snntorch", tasks="bandits:k=3,n=5", sizes=(4, 8), energy_coefs=(0.0, 1.0),
                                   budget="2", n_tasks=10), progress=False)
    assert [(p["size"], p["energy_coef"]) for p in report["points"]] == [(4, 0.0), (8, 0.0), (4, 1.0), (8, 1.0)]
    assert all(p["energy_j"] > 0 for p in report["points"])
    assert any(p["pareto"] for p in report["points"])


@pytest.mark.parametrize("args, message", [
    (["--backend", "random", "--sizes", "1,2"], "has no size"),
    (["--backend", "random", "--sizes", "0"], "positive integers"),
    (["--backend", "random", "--sizes", "a,b"], "not a comma-separated list"),
    (["--backend", "random", "--sizes", "1", "--energy-coefs", "0.5"], "no energy-aware training"),
    (["--backend", "torch", "--sizes", "4", "--energy-coefs", "0.5"], "reports none"),
    (["--backend", "random", "--profile", "nope"], "nope"),
    (["--backend", "random", "--sizes", "1", "--executor", "slurm"], "unknown executor 'slurm'"),
])
def test_bad_sweeps_are_refused_before_training(tmp_path, capsys, args, message):
    if "torch" in args:
        pytest.importorskip("torch")
    code = _cli(["sweep", *args, "--budget", "1", "--n-tasks", "10", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_reprice_prices_a_sweep_again_without_training(tmp_path, capsys):
    out = tmp_path / "sw"
    assert _cli(["sweep", "--backend", "random", "--tasks", "bandits:k=3,n=5", "--sizes", "1", "--budget", "1",
                 "--n-tasks", "20", "--profile", "cpu-45nm", "--out", str(out)]) == 0
    before = json.loads((out / "sweep.json").read_text())
    assert _cli(["sweep", "--reprice", "--out", str(out), "--profile", "gpu-h100"]) == 0
    after = json.loads((out / "sweep.json").read_text())
    assert after["profile"] == "gpu-h100" and before["points"][0]["trial_return"] == after["points"][0]["trial_return"]
    p = after["points"][0]
    assert p["static_j"] > 0 and p["energy_j"] == pytest.approx(p["dynamic_j"] + p["static_j"])
    capsys.readouterr()
    assert _cli(["sweep", "--reprice", "--out", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and len(err.strip().splitlines()) == 1


def test_points_train_on_an_executor_with_the_same_results(tmp_path):
    """One point per job: the process pool trains the same points as this process (numba ES
    with an update budget, so the result does not depend on speed)."""
    reports = [run_sweep(SweepConfig(backend="numba", tasks="bandits:k=3,n=5", sizes=(4, 6), budget="2", n_tasks=20,
                                     settings={"population": 4, "batch_tasks": 8}, executor=ex, workers=2,
                                     runs_dir=str(tmp_path / ex)), progress=False)
               for ex in ("inprocess", "process")]
    here, there = ([(p["size"], p["trial_return"], p["energy_j"]) for p in r["points"]] for r in reports)
    assert here == there and [s for s, _, _ in here] == [4, 6]
