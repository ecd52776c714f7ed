"""Training run directories: ``metaplastic train`` writes ``train.json`` (what was asked),
``metrics.jsonl`` (one line per update), the learner's own files (``config.json`` and its
checkpoints, written atomically by ``learner.save``), and resumes from the last
checkpoint when rerun on the same directory with the same options.

Example:
    >>> import tempfile, metaplastic
    >>> run = TrainingRun(tempfile.mkdtemp() + "/run")
    >>> run.exists()
    False
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from metaplastic.errors import MetaplasticError, RunDirError
from metaplastic.runs.atomic import atomic_write_json, atomic_write_text
from metaplastic.runs.config import CONFIG_NAME

TRAIN_FILE = "train.json"
METRICS_FILE = "metrics.jsonl"


class TrainingRun:
    """One run directory of ``metaplastic train``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def exists(self) -> bool:
        return (self.path / TRAIN_FILE).is_file()

    def request(self) -> dict[str, Any]:
        """What the run was started with (``train.json``)."""
        try:
            return json.loads((self.path / TRAIN_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{str(self.path / TRAIN_FILE)!r} is unreadable ({exc}); the run directory is corrupt") from None

    def check_same(self, request: dict[str, Any]) -> None:
        """Refuse to resume with different options (one-line error naming the first)."""
        old = self.request()
        for key in ("backend", "tasks", "seed", "config"):
            if old.get(key) != request.get(key):
                raise MetaplasticError(
                    f"{str(self.path)!r} was started with {key}={old.get(key)!r}, not {request.get(key)!r}; "
                    "rerun with the same options to resume, or pass a new --out"
                )

    def start(self, request: dict[str, Any]) -> None:
        if self.path.exists() and any(self.path.iterdir()) and not self.exists():
            raise RunDirError(f"{str(self.path)!r} exists and is not a training run; pass a new or empty --out")
        atomic_write_json(self.path / TRAIN_FILE, request)

    def has_checkpoint(self) -> bool:
        return (self.path / CONFIG_NAME).is_file()

    def trim_metrics(self, updates: int) -> None:
        """Drop metric lines past the checkpoint being resumed (they will be redone)."""
        path = self.path / METRICS_FILE
        if not path.is_file():
            return
        kept = []
        for line in path.read_text().splitlines():
            try:
                if json.loads(line).get("update", 0) <= updates:
                    kept.append(line)
            except ValueError:
                break  # a torn last line from an interrupted write
        atomic_write_text(path, "".join(k + "\n" for k in kept))

    def metrics(self) -> list[dict[str, Any]]:
        path = self.path / METRICS_FILE
        if not path.is_file():
            return []
        out = []
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                break
        return out


class MetricsWriter:
    """Appends metric lines and saves a checkpoint every ``every_s`` seconds."""

    def __init__(self, run: TrainingRun, learner: Any, every_s: float = 30.0):
        self.run, self.learner, self.every_s = run, learner, every_s
        self.fh = open(run.path / METRICS_FILE, "a", encoding="utf-8")
        self.last_save = time.monotonic()
        self.last: dict[str, Any] = {}

    def __call__(self, metrics: dict[str, Any]) -> None:
        self.fh.write(json.dumps(metrics) + "\n")
        self.fh.flush()
        self.last = metrics
        if time.monotonic() - self.last_save >= self.every_s:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Save the learner (its files are written atomically; an interrupt is held off)."""
        old = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
        try:
            self.learner.save(self.run.path)
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
        self.last_save = time.monotonic()

    def close(self) -> None:
        self.fh.close()


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
