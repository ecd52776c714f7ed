"""The run directory: one type that names every file of a run and is the only code that
reads or writes them.

A run directory holds:

* ``config.json`` — which backend saved the run and with what config (``metaplastic.load``
  reads it to find the backend); written last by a save, so it marks a complete run;
* ``progress.json`` — the task spec the model was built for, and the training progress;
* ``train.json`` — what ``metaplastic train`` was asked (to refuse resuming differently);
* ``metrics.jsonl`` — one line per update;
* checkpoints — ``policy.pt`` and ``optimizer.pt`` (torch, loaded with
  ``weights_only=True``), ``net.npz`` (a SpikingNet), ``es_state.npz`` (an ES search).

Every write is atomic (temporary file, then rename). ``config.json`` is parsed once per
:class:`RunDir` object. A :class:`RunDir` is a path (``os.PathLike``), so it can be passed
wherever a backend's ``load(path)`` expects one.

Example:
    >>> import tempfile
    >>> run = RunDir(tempfile.mkdtemp())
    >>> run.write_config(backend="random", config={"seed": 0})
    >>> RunDir(run.path).backend, RunDir(run.path).config()["config"]
    ('random', {'seed': 0})
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from metaplastic.errors import RunDirError
from metaplastic.runs.atomic import atomic_save_npz, atomic_write_bytes, atomic_write_json

__all__ = ["RunDir", "FORMAT_VERSION"]

FORMAT_VERSION = 1


class RunDir(os.PathLike):
    """One run directory (it need not exist yet)."""

    CONFIG = "config.json"
    PROGRESS = "progress.json"
    TRAIN = "train.json"
    METRICS = "metrics.jsonl"
    POLICY = "policy.pt"
    OPTIMIZER = "optimizer.pt"
    NET = "net.npz"
    ES_STATE = "es_state.npz"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path.path if isinstance(path, RunDir) else path)
        self._config: dict[str, Any] | None = path._config if isinstance(path, RunDir) else None

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def file(self, name: str) -> Path:
        """The path of the run's file ``name`` (one of the names above)."""
        return self.path / name

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    def _where(self, name: str) -> str:
        return repr(str(self.path / name))

    # -- config.json ----------------------------------------------------------------------
    def write_config(self, *, backend: str, config: Mapping[str, Any], **extra: Any) -> None:
        """Write ``config.json`` (last in a save: it marks the run complete)."""
        doc = {"backend": backend, "config": dict(config), "format_version": FORMAT_VERSION, "metaplastic": _version()}
        doc.update(extra)
        atomic_write_json(self.path / self.CONFIG, doc)
        self._config = doc

    def config(self) -> dict[str, Any]:
        """``config.json``, read and checked once; one-line :class:`RunDirError` otherwise."""
        if self._config is None:
            self._config = self._read_config()
        return self._config

    @property
    def backend(self) -> str:
        """The name of the backend that saved the run."""
        return self.config()["backend"]

    def check_backend(self, expected: str) -> dict[str, Any]:
        """The config, refusing a run saved by another backend."""
        doc = self.config()
        if doc["backend"] != expected:
            raise RunDirError(f"{str(self.path)!r} was saved by backend {doc['backend']!r}, not {expected!r}; "
                              "load it with metaplastic.load(path)")
        return doc

    def _read_config(self) -> dict[str, Any]:
        path = self.path
        if not path.exists():
            raise RunDirError(f"run directory {str(path)!r} does not exist; pass a folder written by learner.save() or "
                              "metaplastic train")
        if not path.is_dir():
            raise RunDirError(f"{str(path)!r} is a file, not a run directory; pass the folder that holds config.json")
        cfg = path / self.CONFIG
        if not cfg.is_file():
            raise RunDirError(f"no {self.CONFIG} in {str(path)!r}; is it a run directory written by learner.save() or "
                              "metaplastic train?")
        try:
            doc = json.loads(cfg.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunDirError(f"{str(cfg)!r} is not valid JSON ({exc}); the run directory is corrupt") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("backend"), str):
            raise RunDirError(f"{str(cfg)!r} has no \"backend\" name; it was not written by metaplastic")
        if not isinstance(doc.get("config", {}), dict):
            raise RunDirError(f"{str(cfg)!r}: \"config\" must be an object; the run directory is corrupt")
        doc.setdefault("config", {})
        return doc

    def is_complete(self) -> bool:
        """Whether a save finished here (``config.json`` exists)."""
        return self.has(self.CONFIG)

    # -- progress.json ----------------------------------------------------------------------
    def write_progress(self, *, tasks: str | None, progress: Mapping[str, Any], **extra: Any) -> None:
        """``progress.json``: the task spec the model was built for, extra facts (e.g. the
        device), and the training progress (``updates``, ``seconds``, ``tasks_seen``)."""
        atomic_write_json(self.path / self.PROGRESS, {"tasks": tasks, **extra, **dict(progress)})

    def progress(self) -> dict[str, Any] | None:
        """``progress.json`` as a dict (``None`` when the run has none)."""
        if not self.has(self.PROGRESS):
            return None
        try:
            info = json.loads((self.path / self.PROGRESS).read_text())
        except (ValueError, UnicodeDecodeError):
            info = None
        if not isinstance(info, dict):
            raise RunDirError(f"{self._where(self.PROGRESS)} is not a JSON object; the run directory is corrupt")
        return info

    def tasks_spec(self) -> str | None:
        """The task spec the run's model was built for (``None`` if it does not say)."""
        spec = (self.progress() or {}).get("tasks")
        return spec if isinstance(spec, str) and spec else None

    # -- torch checkpoints ------------------------------------------------------------------
    def save_torch(self, name: str, obj: Any) -> None:
        """``torch.save`` ``obj`` to the run's file ``name`` atomically."""
        import torch

        buf = io.BytesIO()
        torch.save(obj, buf)
        atomic_write_bytes(self.path / name, buf.getvalue())

    def load_torch(self, name: str, what: str = "checkpoint") -> Any:
        """The run's torch file ``name`` via ``torch.load(weights_only=True)``; a one-line
        :class:`RunDirError` for a missing, corrupt or foreign file."""
        return load_torch_file(self.path / name, what)

    # -- npz files ----------------------------------------------------------------------------
    def save_npz(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        atomic_save_npz(self.path / name, arrays)

    def load_npz(self, name: str, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The arrays ``keys`` of the run's npz file ``name`` (never unpickles objects)."""
        try:
            with np.load(self.path / name, allow_pickle=False) as z:
                return {k: z[k] for k in keys}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise RunDirError(f"{self._where(name)} is corrupt or foreign ({type(exc).__name__}); start a new run") from None

    def save_net(self, net: Any) -> None:
        """Write the run's network (``net.npz``, via ``SpikingNet.save``, atomic)."""
        net.save(self.path / self.NET)

    def load_net(self, net_type: Any) -> Any:
        """The run's network, read by ``net_type.load`` (a :class:`~metaplastic.spiking.SpikingNet`)."""
        return net_type.load(self.path / self.NET)

    # -- train.json and metrics.jsonl ---------------------------------------------------------
    def request(self) -> dict[str, Any] | None:
        """What ``metaplastic train`` was asked (``train.json``), or ``None``."""
        if not self.has(self.TRAIN):
            return None
        try:
            doc = json.loads((self.path / self.TRAIN).read_text())
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{self._where(self.TRAIN)} is unreadable ({exc}); the run directory is corrupt") from None
        if not isinstance(doc, dict):
            raise RunDirError(f"{self._where(self.TRAIN)} is not a JSON object; the run directory is corrupt")
        return doc

    def write_request(self, request: Mapping[str, Any]) -> None:
        atomic_write_json(self.path / self.TRAIN, dict(request))

    def metrics(self) -> list[dict[str, Any]]:
        """The metric lines (a torn last line from an interrupted write is dropped)."""
        path = self.path / self.METRICS
        if not path.is_file():
            return []
        out = []
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                break
        return out

    def trim_metrics(self, updates: int) -> None:
        """Drop metric lines past update ``updates`` (they will be redone on resume)."""
        from metaplastic.runs.atomic import atomic_write_text

        if not self.has(self.METRICS):
            return
        kept = [json.dumps(m) for m in self.metrics() if isinstance(m, dict) and m.get("update", 0) <= updates]
        atomic_write_text(self.path / self.METRICS, "".join(k + "\n" for k in kept))

    def open_metrics(self) -> Any:
        """An append handle on ``metrics.jsonl``."""
        self.path.mkdir(parents=True, exist_ok=True)
        return open(self.path / self.METRICS, "a", encoding="utf-8")


def _version() -> str:
    """This package's version (as ``metaplastic.__version__``, read without importing the facade)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("metaplastic")
    except PackageNotFoundError:
        return "0+unknown"


def load_torch_file(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` with one-line errors for missing, corrupt or
    foreign files."""
    import torch

    if not Path(path).is_file():
        raise RunDirError(f"{str(path)!r} does not exist; the run directory is incomplete")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise RunDirError(f"{what} {str(path)!r} is corrupt or not a metaplastic checkpoint ({first})") from None
