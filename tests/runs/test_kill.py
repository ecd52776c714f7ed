"""A checkpoint is one unit: `metaplastic train` killed with SIGKILL at random points
(inside checkpoint writes too) and rerun each time ends with the same weights and the same
metric lines as an uninterrupted run (issue 13, Must 3).

``METAPLASTIC_KILL_SEED`` picks the kill points (default 0); run it with several seeds to
repeat the experiment.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metaplastic.runs.rundir import KILL_ENV, RunDir

torch = pytest.importorskip("torch", reason="training needs the 'torch' extra")

BUDGET = 40
KILLS = 12
STEPS = 7  # of a torch checkpoint: policy.pt, optimizer.pt, config.json, flushed, published, copied, cleaned
TIMING = ("elapsed_s", "update_s")


def _cmd(out: Path) -> list[str]:
    return [sys.executable, "-m", "metaplastic", "train", "--backend", "torch", "--algo", "rl2",
            "--tasks", "bandits:k=3,n=6", "--budget", str(BUDGET), "--seed", "0", "--set", "hidden=8",
            "--set", "batch_tasks=8", "--checkpoint-every", "0", "--out", str(out)]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    return {**env, "COLUMNS": "120", **extra}


def _lines(run: Path) -> int:
    try:
        return (run / "metrics.jsonl").read_text().count("\n")
    except FileNotFoundError:
        return 0


def _kill_by_timer(out: Path, rng: random.Random) -> int:
    """Start training, wait until it has logged 1-3 more updates, SIGKILL it a moment later."""
    start = _lines(out)
    target = start + rng.randint(1, 3)
    proc = subprocess.Popen(_cmd(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    deadline = time.monotonic() + 60
    while proc.poll() is None and _lines(out) < target and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(rng.uniform(0.0, 0.03))  # an update runs ~10 ms here, a checkpoint a few ms
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    return proc.wait()


def _kill_in_checkpoint(out: Path, rng: random.Random) -> int:
    """Train with the test hook that SIGKILLs the process at a step inside a checkpoint."""
    at = f"{rng.randint(1, 3)}:{rng.randint(1, STEPS)}"
    return subprocess.run(_cmd(out), capture_output=True, env=_env(**{KILL_ENV: at})).returncode


def _metrics(run: Path) -> list[dict]:
    return [{k: v for k, v in m.items() if k not in TIMING} for m in RunDir(run).metrics()]


@pytest.mark.slow
def test_sigkill_anywhere_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    seed = int(os.environ.get("METAPLASTIC_KILL_SEED", "0"))
    rng = random.Random(seed)
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    done = subprocess.run(_cmd(whole), capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stderr

    kills = inside = 0
    for _ in range(KILLS):
        how = _kill_in_checkpoint if rng.random() < 0.5 else _kill_by_timer
        code = how(killed, rng)
        assert code in (0, -signal.SIGKILL), f"seed {seed}: exit code {code}"
        kills += code == -signal.SIGKILL
        inside += code == -signal.SIGKILL and how is _kill_in_checkpoint
        if code == 0:
            break
    print(f"kill seed {seed}: {kills} SIGKILLs, {inside} of them inside a checkpoint write")
    assert kills >= 10, f"seed {seed}: only {kills} kills landed"
    final = subprocess.run(_cmd(killed), capture_output=True, text=True, env=_env())
    assert final.returncode == 0, final.stderr

    a, b = RunDir(whole), RunDir(killed)
    assert a.progress()["updates"] == b.progress()["updates"] == BUDGET
    for name in (RunDir.POLICY, RunDir.OPTIMIZER):
        sa, sb = a.load_torch(name), b.load_torch(name)
        flat_a, flat_b = _flatten(sa), _flatten(sb)
        assert flat_a.keys() == flat_b.keys()
        for key in flat_a:
            assert torch.equal(flat_a[key], flat_b[key]) if isinstance(flat_a[key], torch.Tensor) \
                else flat_a[key] == flat_b[key], f"seed {seed}: {name} {key} differs"
    assert _metrics(whole) == _metrics(killed), f"seed {seed}: metric lines differ"
    assert len(_metrics(killed)) == BUDGET
    assert len(list((killed / "checkpoints").iterdir())) == 1
    assert not list(killed.glob(".*.tmp")), "a temporary file was left behind"
    json.loads((killed / "config.json").read_text())


def _flatten(obj, key: str = "") -> dict:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{key}.{k}"))
        return out
    if isinstance(obj, (list, tuple)):
        out = {}
        for i, v in enumerate(obj):
            out.update(_flatten(v, f"{key}[{i}]"))
        return out
    return {key: obj}
