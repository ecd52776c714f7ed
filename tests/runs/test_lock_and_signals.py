"""Two `metaplastic train` processes on one run: the second is refused with the first's PID
(issue 13, Must 4); SIGTERM, like SIGINT, stops training after the update in progress with
a checkpoint that the same command resumes (Must 9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metaplastic.runs.rundir import KILL_ENV, RunDir

pytest.importorskip("torch", reason="training needs the 'torch' extra")


def _cmd(out: Path, budget: int) -> list[str]:
    return [sys.executable, "-m", "metaplastic", "train", "--backend", "torch", "--algo", "rl2",
            "--tasks", "bandits:k=3,n=6", "--budget", str(budget), "--set", "hidden=8", "--set", "batch_tasks=8",
            "--checkpoint-every", "3600", "--out", str(out)]


def _env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k != KILL_ENV}, "COLUMNS": "120"}


def _lines(out: Path) -> int:
    try:
        return (out / "metrics.jsonl").read_text().count("\n")
    except FileNotFoundError:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_second_writer_is_refused_and_a_signal_saves_a_checkpoint(tmp_path, sig):
    out = tmp_path / "run"
    log = tmp_path / "first.err"
    with open(log, "w") as err:
        first = subprocess.Popen(_cmd(out, 100_000), stdout=subprocess.DEVNULL, stderr=err, env=_env())
    try:
        deadline = time.monotonic() + 120
        while _lines(out) < 3 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.poll() is None, log.read_text()

        second = subprocess.run(_cmd(out, 100_000), capture_output=True, text=True, env=_env())
        assert second.returncode == 2, second.stderr
        assert second.stderr.strip().splitlines() == [
            f"metaplastic: error: {str(out)!r} is being written by process {first.pid}; wait for it to finish, "
            "stop it, or pass another --out"]

        first.send_signal(sig)
        code = first.wait(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    text = log.read_text()
    assert code == 128 + sig, text
    assert "Traceback" not in text
    assert f"{signal.Signals(sig).name}: stopped after update" in text and "checkpoint saved" in text
    done = RunDir(out).progress()["updates"]
    assert done >= 3 and [m["update"] for m in RunDir(out).metrics()] == list(range(1, done + 1))

    again = subprocess.run(_cmd(out, done + 2), capture_output=True, text=True, env=_env())
    assert again.returncode == 0, again.stderr
    assert f"resuming {out} from update {done}" in again.stderr
    assert [json.loads(x)["update"] for x in (out / "metrics.jsonl").read_text().splitlines()] == list(range(1, done + 3))
