"""The headline at equal return: the smallest spiking network within one standard error of
the best dense return, against the smallest dense network reaching the same."""

import json

import pytest

from metaplastic.bench.energy import load_profile, price
from metaplastic.bench.headline import Point, equal_return, points_from_ladder
from metaplastic.bench.report import markdown
from metaplastic.bench.runner import BenchConfig, run_bench
from metaplastic.errors import ConfigError
from tests.bench._cli import assert_one_line_exit_2, cli

SPIKE_OPS = {"synaptic_events": 900.0, "neuron_updates": 128.0, "spikes": 20.0, "macs": 300.0}


def dense(size, mean, se=0.02):
    return Point("torch", size, False, mean, se, {"macs": 3.0 * size * (size + 8)}, f"torch h{size}")


def spiking(size, mean, backend="numba", se=0.02):
    return Point(backend, size, True, mean, se, {k: v * size / 64 for k, v in SPIKE_OPS.items()}, f"{backend} h{size}")


def test_smallest_spiking_within_one_se_against_smallest_dense_reaching_it():
    pts = [dense(8, 6.40), dense(16, 6.60), dense(64, 6.65), spiking(16, 6.30), spiking(32, 6.64), spiking(128, 6.66)]
    h = equal_return(pts)
    row = h["backends"]["numba"]
    assert h["best_dense"]["label"] == "torch h64"
    assert row["equal_to_best_dense"] and row["spiking"]["label"] == "numba h32"  # 6.64 >= 6.65 - 0.02; h16 is not
    assert row["dense"]["label"] == "torch h64"  # h16 (6.60) is below 6.64 - 0.02
    h100, loihi = load_profile("gpu-h100"), load_profile("loihi")
    d = price(pts[2].ops_per_decision, h100, spiking=False)
    s = price(pts[4].ops_per_decision, loihi, spiking=True)
    assert row["dynamic_ratio"] == pytest.approx(d.dynamic_j / s.dynamic_j)
    assert row["total_ratio"] == pytest.approx(d.total_j / s.total_j)
    assert row["total_ratio"] > row["dynamic_ratio"]  # a GPU at batch 1 idles through launch latency


def test_the_dense_match_is_the_smallest_that_reaches_the_spiking_return():
    pts = [dense(8, 6.20), dense(16, 6.45), dense(128, 6.62), spiking(64, 6.61), spiking(16, 6.46, backend="snntorch")]
    h = equal_return(pts)
    assert h["backends"]["numba"]["dense"]["label"] == "torch h128"
    snn = h["backends"]["snntorch"]
    assert not snn["equal_to_best_dense"] and "no snntorch network" in snn["note"]
    assert snn["spiking"]["label"] == "snntorch h16" and snn["dense"]["label"] == "torch h16"


def test_without_dense_or_spiking_points_there_is_no_headline():
    assert "no dense network" in equal_return([spiking(16, 6.0)])["note"]
    assert "no spiking network" in equal_return([dense(16, 6.0)])["note"]


def _ladder(tmp_path, points, tasks="bandits:k=3,n=5,a=1,b=1,ood_a=0.5,ood_b=0.5"):
    doc = {"schema": "metaplastic.sweep", "schema_version": 1, "backend": points[0]["backend"], "tasks": tasks,
           "points": points}
    (tmp_path / "sweep.json").write_text(json.dumps(doc))
    return tmp_path


def _point(backend, size, mean, spiking_, ops):
    return {"backend": backend, "size": size, "energy_coef": 0.0, "trial_return": mean,
            "ci95": [mean - 0.04, mean + 0.04], "spiking": spiking_, "ops_per_decision": ops}


def test_a_ladder_is_read_with_its_standard_errors(tmp_path):
    d = _ladder(tmp_path, [_point("numba", 32, 6.5, True, SPIKE_OPS)])
    [p] = points_from_ladder(d)
    assert p.size == 32 and p.spiking and p.se == pytest.approx(0.04 / 1.959963984540054)


def _write(d, text):
    (d / "sweep.json").write_text(text)
    return d


@pytest.mark.parametrize("make, needle", [
    (lambda d: d, "cannot read sweep.json"),
    (lambda d: _write(d, "{"), "cannot read sweep.json (not valid JSON)"),
    (lambda d: _write(d, '{"schema": "other"}'), "is not a sweep report"),
    (lambda d: _ladder(d, [{k: v for k, v in _point("numba", 8, 6.0, True, {}).items() if k != "ops_per_decision"}]),
     "lack ops_per_decision"),
])
def test_bad_ladders_are_one_line_errors(tmp_path, make, needle):
    with pytest.raises(ConfigError, match=None) as e:
        points_from_ladder(make(tmp_path))
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_a_ladder_on_other_tasks_is_refused_before_any_work(tmp_path):
    d = _ladder(tmp_path, [_point("numba", 8, 6.0, True, SPIKE_OPS)], tasks="gridnavi:size=5,steps=15,n=4")
    assert_one_line_exit_2(*cli("bench", "--backends", "random", "--tasks", "bandits:k=3,n=5", "--ladder", str(d),
                                "--out", str(tmp_path / "out")), "not on 'bandits:k=3,n=5")
    assert not (tmp_path / "out").exists()


def test_bench_puts_ladder_points_into_the_headline(tmp_path):
    d = _ladder(tmp_path, [_point("torch", 16, 3.1, False, {"macs": 900.0}), _point("numba", 32, 3.08, True, SPIKE_OPS)])
    cfg = BenchConfig(backends=["random"], tasks="bandits:k=3,n=5", n_tasks=20, latency_decisions=50,
                      throughput_decisions=5, profiles=["loihi"], ladders=[str(d)])
    report = run_bench(cfg, progress=False)
    row = report["equal_return"]["backends"]["numba"]
    assert row["equal_to_best_dense"] and row["spiking"]["label"] == "numba h32"
    assert all(p["label"] != "random" for p in report["equal_return"]["points"])  # baselines are not networks
    md = markdown(report)
    assert "## Headline at equal return" in md and "numba h32" in md and "torch h16" in md
