"""Run directories written by metaplastic 0.1.0 (before the architecture refactor of issue
12) still load, evaluate to the identical JSON and export the identical network.

The fixtures in ``tests/fixtures/runs_v0_1_0`` were made with the pre-refactor code by
``metaplastic train`` (tiny budgets), and ``expected/*.json`` by ``metaplastic evaluate
--run ... --n-tasks 40 --seed 3 --json`` with that same code. Only ``wall_time_s`` may
differ. (Issues 14 and 15 added counts to ``OpCounts`` — ``energy_evals``, ``grad_evals``,
``posterior_updates``, ``rule_evals``, ``bit_ops`` — so the expected files gained those
keys, at 0; every number they held is unchanged.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from metaplastic.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "runs_v0_1_0"
EXPECTED = FIXTURES / "expected"

CASES = [
    ("torch-rl2", []),
    ("torch-rl2--ood--greedy", ["--split", "ood", "--set", "greedy=true"]),
    ("torch-maml", []),
    ("snntorch-rl2", []),
    ("snntorch-rl2--execution-numba--greedy", ["--set", "execution=numba", "--set", "greedy=true"]),
    ("snntorch-plastic", []),
    ("numba-es", []),
]


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    """A copy of the fixtures (evaluating must not touch them, but a copy proves it)."""
    dst = tmp_path / "runs"
    shutil.copytree(FIXTURES, dst, ignore=shutil.ignore_patterns("expected"))
    return dst


@pytest.mark.parametrize("expected_name,extra", CASES, ids=[c[0] for c in CASES])
def test_old_run_evaluates_to_identical_json(legacy: Path, expected_name: str, extra: list[str], capsys) -> None:
    pytest.importorskip("torch") if not expected_name.startswith("numba") else None
    run = legacy / expected_name.split("--")[0]
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    code, out, err = _run(["evaluate", "--run", str(run), "--n-tasks", "40", "--seed", "3", "--json", *extra], capsys)
    assert code == 0, err
    got = json.loads(out)
    want = json.loads((EXPECTED / f"{expected_name}.json").read_text())
    got.pop("wall_time_s")
    want.pop("wall_time_s")
    assert got == want
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before, "evaluate changed the run directory"


def test_old_plastic_run_exports_identical_network(legacy: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("snntorch")
    out = tmp_path / "net.npz"
    code, _, err = _run(["export", "--run", str(legacy / "snntorch-plastic"), "--format", "npz", "--out", str(out)], capsys)
    assert code == 0, err
    with np.load(out) as got, np.load(EXPECTED / "snntorch-plastic.export.npz") as want:
        assert sorted(got.files) == sorted(want.files)
        for k in want.files:
            np.testing.assert_array_equal(got[k], want[k], err_msg=k)


@pytest.mark.parametrize("name", ["torch-rl2", "numba-es"])
def test_old_run_resumes(legacy: Path, name: str, capsys) -> None:
    """Rerunning the original command with a larger budget resumes the old run."""
    if name.startswith("torch"):
        pytest.importorskip("torch")
    run = legacy / name
    req = json.loads((run / "train.json").read_text())
    args = ["train", "--backend", req["backend"], "--tasks", req["tasks"], "--budget", str(_updates(run) + 1),
            "--seed", str(req["seed"]), "--out", str(run)]
    for k, v in req["config"].items():
        args += ["--set", f"{k}={v}"] if k != "algo" else ["--algo", v]
    code, _, err = _run(args, capsys)
    assert code == 0, err
    assert "resuming" in err
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["update"] for x in lines] == list(range(1, _updates(run) + 1))


def _updates(run: Path) -> int:
    return int(json.loads((run / "progress.json").read_text())["updates"])
