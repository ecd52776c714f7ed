"""The shipped reference runs: each still evaluates to its record, and the bench puts them
beside the rows it trains itself."""

import json
import shutil

import pytest

import metaplastic
from metaplastic.errors import RunDirError
from metaplastic.runs import reference_runs as refs
from metaplastic.runs.reference_runs import reference_runs

SHIPPED = reference_runs()


def _needs(backend: str) -> None:
    from metaplastic.registry import BACKENDS

    reason = BACKENDS.info(backend).reason
    if reason:
        pytest.skip(f"backend {backend!r} unavailable: {reason}")


@pytest.mark.parametrize("ref", SHIPPED, ids=[r.name for r in SHIPPED])
def test_each_reference_run_evaluates_to_its_record(ref):
    _needs(ref.backend)
    learner = metaplastic.load(ref.path)
    assert learner.name == ref.backend
    e = ref.evaluation
    res = metaplastic.evaluate(learner, metaplastic.make_tasks(ref.tasks), n_tasks=e["n_tasks"], seed=e["seed"],
                               split=e["split"], progress=False)
    # the same tasks, seeds and weights give the same trial returns; a few sampled actions may
    # flip where another CPU rounds an action probability differently, hence the tolerance
    assert res.return_mean == pytest.approx(e["return_mean"], abs=0.01)


def test_a_dense_a_spiking_and_an_evolved_policy_are_shipped_for_the_main_job():
    bandits = metaplastic.make_tasks("bandits:k=5,n=10").spec
    assert {"torch", "snntorch", "numba"} <= {r.backend for r in reference_runs(bandits)}
    for r in reference_runs(bandits):
        assert r.made_by.startswith("metaplastic ") and r.description


def test_a_broken_record_is_a_one_line_error(tmp_path, monkeypatch):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "reference.json").write_text(json.dumps({"name": "bad"}))
    monkeypatch.setattr(refs, "REFERENCE_DIR", tmp_path)
    with pytest.raises(RunDirError, match="reference.json lacks backend, tasks") as e:
        reference_runs()
    assert "\n" not in str(e.value)


def test_the_bench_adds_the_shipped_rows_and_says_which_is_which(tmp_path, monkeypatch):
    from metaplastic.bench.report import markdown
    from metaplastic.bench.runner import BenchConfig, run_bench

    src = next(r for r in SHIPPED if r.backend == "numba")  # torch-free and quick
    shutil.copytree(src.path, tmp_path / src.name)
    monkeypatch.setattr(refs, "REFERENCE_DIR", tmp_path)
    cfg = BenchConfig(backends=["random"], tasks=src.tasks, n_tasks=20, latency_decisions=50, throughput_decisions=5,
                      profiles=["loihi"], reference_runs=True)
    report = run_bench(cfg, progress=False)
    row = report["backends"][src.name]
    assert row["backend"] == "numba" and row["source"].startswith(f"shipped reference run {src.name}")
    assert report["reference_runs"][src.name]["made_by"] == src.made_by
    md = markdown(report)
    assert f"Rows {src.name} are shipped trained reference runs" in md and src.made_by in md
