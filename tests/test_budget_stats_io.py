import json
import os

import numpy as np
import pytest

from metaplastic.training.budget import Budget
from metaplastic.errors import ConfigError, RunDirError
from metaplastic.runs.atomic import atomic_write_json, atomic_write_text
from metaplastic.runs.config import read_config, write_config
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
        read_config(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunDirError, match="no config.json"):
        read_config(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    with pytest.raises(RunDirError, match="not valid JSON"):
        read_config(bad)
    (bad / "config.json").write_text('{"hello": 1}')
    with pytest.raises(RunDirError, match="no \"backend\""):
        read_config(bad)
    write_config(tmp_path / "ok", backend="random", config={"seed": 1})
    with pytest.raises(RunDirError, match="saved by backend 'random', not 'torch'"):
        read_config(tmp_path / "ok", expect_backend="torch")
    assert read_config(tmp_path / "ok")["config"] == {"seed": 1}
