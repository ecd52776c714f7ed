import json
import os

import numpy as np
import pytest

from metaplastic.training.budget import Budget
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runs.atomic import atomic_write_json, atomic_write_text
from metaplastic.runs.rundir import RunDir
from metaplastic.metrics.stats import ci95, t975


@pytest.mark.parametrize("raw, seconds, updates", [
    ("10m", 600.0, None), ("90s", 90.0, None), ("1.5h", 5400.0, None), (500, None, 500),
    ("500", None, 500), ("500-updates", None, 500), ("3 updates", None, 3),
])
def test_budget_parse(raw, seconds, updates):
    b = Budget.parse(raw)
    assert (b.seconds, b.updates) == (seconds, updates)


@pytest.mark.parametrize("raw", ["", "10x", "-5", 0, "0m", True, 1.5, "0"])
def test_budget_rejects(raw):
    with pytest.raises(ConfigError):
        Budget.parse(raw)


def test_t_quantiles_match_tables():
    # published two-sided 95% t quantiles
    for df, t in [(1, 12.706), (5, 2.571), (11, 2.201), (20, 2.086), (30, 2.042), (100, 1.984)]:
        assert abs(t975(df) - t) < 1e-3


def test_ci95_covers_the_mean_at_the_nominal_rate():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        lo, hi = ci95(rng.normal(1.0, 2.0, size=8))
        hits += lo <= 1.0 <= hi
    assert abs(hits / 2000 - 0.95) < 0.015  # 3 binomial SEs at n=2000


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "a.json"
    atomic_write_json(target, {"x": 1})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new content")
    assert json.loads(target.read_text()) == {"x": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_run_dir_errors_are_one_line(tmp_path):
    with pytest.raises(RunDirError, match="does not exist"):
        RunDir(tmp_path / "nope").config()
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunDirError, match="no config.json"):
        RunDir(tmp_path / "empty").config()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    with pytest.raises(RunDirError, match="not valid JSON"):
        RunDir(bad).config()
    (bad / "config.json").write_text('{"hello": 1}')
    with pytest.raises(RunDirError, match="no \"backend\""):
        RunDir(bad).config()
    with RunDir(tmp_path / "ok").checkpoint(backend="random", config={"seed": 1}):
        pass
    with pytest.raises(RunDirError, match="saved by backend 'random', not 'torch'"):
        RunDir(tmp_path / "ok").check_backend("torch")
    assert RunDir(tmp_path / "ok").config()["config"] == {"seed": 1}


def test_run_dir_reads_config_json_once(tmp_path):
    run = RunDir(tmp_path)
    with run.checkpoint(backend="random", config={"seed": 1}):
        pass
    fresh = RunDir(tmp_path)
    assert fresh.backend == "random"
    fresh.file(RunDir.CONFIG).write_text("{corrupted after the first read")
    assert fresh.config()["config"] == {"seed": 1}
    assert RunDir(fresh).backend == "random"  # a RunDir made from a RunDir shares what was read
    with pytest.raises(RunDirError, match="not valid JSON"):
        RunDir(tmp_path).config()


def test_run_dir_progress_and_metrics(tmp_path):
    run = RunDir(tmp_path)
    assert run.progress() is None and run.tasks_spec() is None and run.metrics() == []
    with run.checkpoint(backend="random", config={}) as ckpt:
        ckpt.write_progress(tasks="bandits:k=2", progress={"updates": 3})
    assert run.tasks_spec() == "bandits:k=2" and run.progress()["updates"] == 3
    (tmp_path / "progress.json").write_text("[1, 2]")
    with pytest.raises(RunDirError, match="not a JSON object"):
        RunDir(tmp_path).progress()
    (tmp_path / "metrics.jsonl").write_text('{"update": 1}\n{"update": 2}\n{"upd')
    assert [m["update"] for m in run.metrics()] == [1, 2]
    run.trim_metrics(1)
    assert (tmp_path / "metrics.jsonl").read_text() == '{"update": 1}\n'


@pytest.mark.parametrize("raw, match", [
    ("9" * 5000, "above the limit of 1000000000 updates"),
    ("9" * 5000 + "updates", "above the limit of 1000000000 updates"),
    (10**9 + 1, "above the limit of 1000000000 updates"),
    ("1000000001-updates", "above the limit"),
    ("9" * 5000 + "s", "above the limit of 3.1536e.08 seconds"),
    ("87601h", "above the limit"),
])
def test_budget_limits(raw, match):
    from metaplastic.errors import LimitExceeded

    with pytest.raises(LimitExceeded, match=match) as e:
        Budget.parse(raw)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


def test_budget_at_the_limits_and_leading_zeros():
    from metaplastic.training.budget import MAX_SECONDS, MAX_UPDATES

    assert Budget.parse(MAX_UPDATES).updates == MAX_UPDATES
    assert Budget.parse(f"{MAX_UPDATES}-updates").updates == MAX_UPDATES
    assert Budget.parse("87600h").seconds == MAX_SECONDS == 10 * 365 * 24 * 3600
    assert Budget.parse("0" * 5000 + "7").updates == 7
    with pytest.raises(ConfigError, match="at least 1 update"):
        Budget.parse(-10**5000)
