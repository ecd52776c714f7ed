"""The run directory: one type that names every file of a run and is the only code that
reads or writes them.

A run directory holds:

* ``progress.json`` — the published checkpoint: the task spec the model was built for,
  the training progress (``updates``, ``seconds``, ``tasks_seen``), and which folder of
  ``checkpoints/`` holds the checkpoint's files (``"checkpoint"``, ``"files"``);
* ``checkpoints/<n>/`` — the files of one checkpoint: ``config.json`` (which backend saved
  it and with what config; ``metaplastic.load`` reads it to find the backend),
  ``policy.pt`` and ``optimizer.pt`` (torch, loaded with ``weights_only=True``),
  ``net.npz`` (a SpikingNet), ``es_state.npz`` (an ES search);
* ``config.json`` — a copy of the checkpoint's, for people and tools (the checkpoint's own
  is the one read);
* ``train.json`` — what ``metaplastic train`` was asked (to refuse resuming differently);
* ``metrics.jsonl`` — one line per update (strict JSON: a non-finite value is written as
  ``null`` and named in the line's ``"nonfinite"`` list);
* ``.lock`` — the lock a writing process holds (with its PID).

A checkpoint is one unit (:meth:`RunDir.checkpoint`): its files are written and flushed
into a new folder, then ``progress.json`` naming that folder replaces the old one in one
atomic rename, and older folders are removed. A kill at any point leaves the previous
checkpoint or the new one. Runs written before (0.1.0: every file at the top, no
``"checkpoint"`` in ``progress.json``) are read as they are, and a new checkpoint
supersedes their files.

A :class:`RunDir` reads the published checkpoint once, so everything one object reads
belongs to the same checkpoint; it is a path (``os.PathLike``), so it can be passed
wherever a backend's ``load(path)`` expects one.

Example:
    >>> import tempfile
    >>> run = RunDir(tempfile.mkdtemp())
    >>> with run.checkpoint(backend="random", config={"seed": 0}) as ckpt:
    ...     ckpt.write_progress(tasks="bandits:k=2", progress={"updates": 3})
    >>> again = RunDir(run.path)
    >>> again.backend, again.config()["config"], again.progress()["updates"]
    ('random', {'seed': 0}, 3)
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shutil
import signal
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from metaplastic.errors import RunDirError, RunLocked, first_line
from metaplastic.runs.atomic import (atomic_write_json, atomic_write_text, fsync_dir, json_text, npz_bytes,
                                     write_synced)

__all__ = ["RunDir", "Checkpoint", "MetricsLog", "FORMAT_VERSION", "finite_metrics"]

FORMAT_VERSION = 2  # 1: every file at the top (0.1.0); 2: checkpoint folders published by progress.json

#: Test hook: ``"C:S"`` SIGKILLs this process at step ``S`` of its ``C``-th checkpoint (steps:
#: each file written, then flushed, published, copied, cleaned) — for the kill tests.
KILL_ENV = "METAPLASTIC_TEST_KILL_AT"

_FOLDER = re.compile(r"^checkpoints/(\d{6,})$")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_checkpoints_written = 0  # in this process (for the test hook)


class _Read:
    """What a RunDir (and every RunDir made from it) has read: one checkpoint's view."""

    def __init__(self) -> None:
        self.config: dict[str, Any] | None = None
        self.manifest: dict[str, Any] | None = None
        self.manifest_read = False


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
    ENERGY = "energy.npz"
    RULE_PRIOR = "rule_prior.json"
    CHECKPOINTS = "checkpoints"
    LOCK = ".lock"

    #: files that belong to a checkpoint (read from the published checkpoint's folder)
    CHECKPOINT_FILES = (CONFIG, POLICY, OPTIMIZER, NET, ES_STATE, ENERGY, RULE_PRIOR)
    #: top-level files a checkpoint may not be given
    _RESERVED = (PROGRESS, TRAIN, METRICS, LOCK, CHECKPOINTS)

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path.path if isinstance(path, RunDir) else path)
        self._read = path._read if isinstance(path, RunDir) else _Read()

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def _where(self, name: str) -> str:
        return repr(str(self.path / name))

    # -- the published checkpoint -----------------------------------------------------------
    def _manifest(self) -> dict[str, Any] | None:
        """``progress.json``, read and checked once (``None`` when there is none)."""
        if not self._read.manifest_read:
            self._read.manifest = self._read_manifest()
            self._read.manifest_read = True
        return self._read.manifest

    def _read_manifest(self) -> dict[str, Any] | None:
        path = self.path / self.PROGRESS
        if not path.is_file():
            if (self.path / self.CHECKPOINTS).is_dir() and (self.path / self.CONFIG).is_file():
                raise RunDirError(f"{self._where(self.PROGRESS)} is missing: the run's training state is lost "
                                  "(it names the current checkpoint); start a new run")
            return None
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, RecursionError):  # not JSON, not UTF-8, an integer past Python's digit limit
            info = None
        if not isinstance(info, dict):
            raise RunDirError(f"{self._where(self.PROGRESS)} is not a JSON object; the run directory is corrupt")
        _check_progress(info, self._where(self.PROGRESS))
        if "checkpoint" in info:
            folder = self.path / info["checkpoint"]
            missing = [f for f in info["files"] if not (folder / f).is_file()]
            if missing:
                raise RunDirError(f"checkpoint {str(folder)!r} lacks {missing[0]}: the run's training state is "
                                  "partial; start a new run")
        return info

    def _folder(self) -> Path:
        """The folder of the published checkpoint (the run itself for a 0.1.0 run)."""
        info = self._manifest()
        return self.path / info["checkpoint"] if info is not None and "checkpoint" in info else self.path

    def file(self, name: str) -> Path:
        """The path of the run's file ``name`` (a checkpoint's file in the published checkpoint)."""
        return (self._folder() if name in self.CHECKPOINT_FILES else self.path) / name

    def has(self, name: str) -> bool:
        """Whether the run (its published checkpoint, for a checkpoint's file) holds ``name``."""
        info = self._manifest() if name in self.CHECKPOINT_FILES else None
        if info is not None and "checkpoint" in info:
            return name in info["files"]
        return self.file(name).is_file()

    def is_complete(self) -> bool:
        """Whether a save finished here (a checkpoint is published, or a 0.1.0 run's
        ``config.json`` exists)."""
        info = self._manifest()
        return (info is not None and "checkpoint" in info) or (self.path / self.CONFIG).is_file()

    # -- config.json ----------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The published checkpoint's ``config.json``, read and checked once; one-line
        :class:`RunDirError` otherwise."""
        if self._read.config is None:
            self._read.config = self._read_config()
        return self._read.config

    @property
    def backend(self) -> str:
        """The name of the backend that saved the run."""
        return self.config()["backend"]

    def check_backend(self, expected: str) -> dict[str, Any]:
        """The config, refusing a run saved by another backend."""
        doc = self.config()
        if doc["backend"] != expected:
            raise RunDirError(f"{str(self.path)!r} was saved by backend {doc['backend']!r}, not {expected!r}; "
                              f"load it with its own backend (metaplastic.load(path); on the command line "
                              f"--run {doc['backend']}=PATH)")
        return doc

    def _read_config(self) -> dict[str, Any]:
        path = self.path
        if not path.exists():
            raise RunDirError(f"run directory {str(path)!r} does not exist; pass a folder written by learner.save() or "
                              "metaplastic train")
        if not path.is_dir():
            raise RunDirError(f"{str(path)!r} is a file, not a run directory; pass the folder that holds config.json")
        cfg = self.file(self.CONFIG)
        if not cfg.is_file():
            raise RunDirError(f"no {self.CONFIG} in {str(path)!r}; is it a run directory written by learner.save() or "
                              "metaplastic train?")
        try:
            doc = json.loads(cfg.read_text(encoding="utf-8"))
        except (ValueError, RecursionError) as exc:
            raise RunDirError(f"{str(cfg)!r} is not valid JSON ({first_line(exc)}); the run directory is corrupt") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("backend"), str):
            raise RunDirError(f"{str(cfg)!r} has no \"backend\" name; it was not written by metaplastic")
        if not isinstance(doc.get("config", {}), dict):
            raise RunDirError(f"{str(cfg)!r}: \"config\" must be an object; the run directory is corrupt")
        doc.setdefault("config", {})
        return doc

    # -- progress.json ----------------------------------------------------------------------
    def progress(self) -> dict[str, Any] | None:
        """``progress.json`` of the published checkpoint as a dict (``None`` when the run has
        none): ``tasks``, what the backend recorded (e.g. ``device``) and the training
        progress (``updates``, ``seconds``, ``tasks_seen``), checked."""
        info = self._manifest()
        return None if info is None else dict(info)

    def tasks_spec(self) -> str | None:
        """The task spec the run's model was built for (``None`` if it does not say)."""
        spec = (self.progress() or {}).get("tasks")
        return spec if isinstance(spec, str) and spec else None

    # -- writing a checkpoint ------------------------------------------------------------------
    @contextlib.contextmanager
    def checkpoint(self, *, backend: str, config: Mapping[str, Any]) -> Iterator["Checkpoint"]:
        """Write one checkpoint of ``backend`` with ``config``: what the body saves through the
        yielded :class:`Checkpoint` goes into a new folder; leaving the body publishes it
        (``progress.json`` names it, one atomic rename), then older checkpoints are removed.
        An exception in the body (or a kill anywhere) leaves the previous checkpoint."""
        global _checkpoints_written
        _checkpoints_written += 1
        self.path.mkdir(parents=True, exist_ok=True)
        root = self.path / self.CHECKPOINTS
        root.mkdir(exist_ok=True)
        numbers = [int(p.name) for p in root.iterdir() if p.name.isdigit()]
        rel = f"{self.CHECKPOINTS}/{max(numbers, default=0) + 1:06d}"
        folder = self.path / rel
        folder.mkdir()
        ckpt = Checkpoint(folder, _kill_hook(_checkpoints_written))
        doc = {"backend": backend, "config": dict(config), "format_version": FORMAT_VERSION, "metaplastic": _version()}
        try:
            yield ckpt
            ckpt._put(self.CONFIG, json_text(doc).encode("utf-8"))
            fsync_dir(folder)
            fsync_dir(root)
            ckpt._step()
            manifest = {**ckpt.progress_doc, "checkpoint": rel, "files": list(ckpt.files)}
            atomic_write_json(self.path / self.PROGRESS, manifest)  # the one step that publishes it
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        ckpt._step()
        self._read.manifest, self._read.manifest_read, self._read.config = manifest, True, doc
        atomic_write_json(self.path / self.CONFIG, doc)  # the copy for people and tools
        ckpt._step()
        for old in root.iterdir():
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
        for name in self.CHECKPOINT_FILES[1:]:  # a 0.1.0 run's files, superseded
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()
        for tmp in self.path.glob(".*.tmp"):  # left by a process killed inside an atomic write
            if tmp.name.split(".")[1] in ("progress", "config", "train", "metrics"):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        ckpt._step()

    # -- torch checkpoints ------------------------------------------------------------------
    def load_torch(self, name: str, what: str = "checkpoint") -> Any:
        """The run's torch file ``name`` via ``torch.load(weights_only=True)``; a one-line
        :class:`RunDirError` for a missing, corrupt or foreign file, or one holding a NaN or
        an infinity."""
        return load_torch_file(self.file(name), what)

    # -- text files -----------------------------------------------------------------------------
    def read_text(self, name: str, what: str = "file") -> str:
        """The run's UTF-8 text file ``name`` (a one-line :class:`RunDirError` when it cannot be read)."""
        path = self.file(name)
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RunDirError(f"{str(path)!r}: cannot read the {what} ({type(exc).__name__}); the run directory is "
                              "corrupt or foreign") from None

    # -- npz files ----------------------------------------------------------------------------
    def load_npz(self, name: str, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The arrays ``keys`` of the run's npz file ``name`` (never unpickles objects; all
        finite)."""
        path = self.file(name)
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in keys}
        except (OSError, ValueError, KeyError, EOFError, AttributeError, zipfile.BadZipFile, zlib.error) as exc:
            raise RunDirError(f"{str(path)!r} is corrupt or foreign ({type(exc).__name__}); start a new run") from None
        _check_finite_arrays(arrays, path)
        return arrays

    def load_net(self, net_type: Any) -> Any:
        """The run's network, read by ``net_type.load`` (a :class:`~metaplastic.spiking.SpikingNet`),
        refusing non-finite values."""
        path = self.file(self.NET)
        net = net_type.load(path)
        _check_finite_arrays(net.to_arrays(), path)
        return net

    # -- train.json and metrics.jsonl ---------------------------------------------------------
    def request(self) -> dict[str, Any] | None:
        """What ``metaplastic train`` was asked (``train.json``), or ``None``."""
        path = self.path / self.TRAIN
        if not path.is_file():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, RecursionError) as exc:
            raise RunDirError(f"{self._where(self.TRAIN)} is unreadable ({first_line(exc)}); the run directory is "
                              "corrupt") from None
        if not isinstance(doc, dict):
            raise RunDirError(f"{self._where(self.TRAIN)} is not a JSON object; the run directory is corrupt")
        for key, kind, what in (("backend", str, "a name"), ("tasks", str, "a task spec"), ("config", dict, "an object")):
            if not isinstance(doc.get(key), kind):
                raise RunDirError(f"{self._where(self.TRAIN)}: \"{key}\" must be {what}, got {doc.get(key)!r}; "
                                  "the run directory is corrupt")
        if not _is_count(doc.get("seed")):
            raise RunDirError(f"{self._where(self.TRAIN)}: \"seed\" must be a whole number >= 0, got {doc.get('seed')!r}; "
                              "the run directory is corrupt")
        return doc

    def write_request(self, request: Mapping[str, Any]) -> None:
        atomic_write_json(self.path / self.TRAIN, dict(request))

    def metrics(self) -> list[dict[str, Any]]:
        """The metric lines, checked (a torn last line from an interrupted write is dropped)."""
        path = self.path / self.METRICS
        if not path.is_file():
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        out = []
        for i, line in enumerate(lines, 1):
            try:
                m = json.loads(line)
            except (ValueError, RecursionError):
                if i == len(lines) and not text.endswith("\n"):
                    break  # torn by a kill while it was written
                raise RunDirError(f"{self._where(self.METRICS)} line {i} is not JSON; the run directory is corrupt") from None
            if not isinstance(m, dict) or not _is_count(m.get("update")):
                raise RunDirError(f"{self._where(self.METRICS)} line {i} is not a metrics object with a whole "
                                  "\"update\" number; the run directory is corrupt")
            out.append(m)
        return out

    def trim_metrics(self, updates: int) -> None:
        """Drop metric lines past update ``updates`` (they will be redone on resume), and a
        torn last line; the file is left untouched when nothing is dropped."""
        path = self.path / self.METRICS
        if not path.is_file():
            return
        kept = "".join(_metrics_line(m) for m in self.metrics() if m["update"] <= updates)
        if kept != path.read_text(encoding="utf-8", errors="replace"):
            atomic_write_text(path, kept)

    def open_metrics(self) -> "MetricsLog":
        """An append handle on ``metrics.jsonl`` (the file is opened at the first line)."""
        return MetricsLog(self.path / self.METRICS)

    # -- the lock ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run's OS lock (``.lock``, with this process's PID) while the body writes;
        another holder raises a one-line :class:`RunLocked` naming its PID. A killed
        process's lock is released by the OS."""
        try:
            import fcntl
        except ImportError:  # no flock on this platform: unlocked
            yield
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / self.LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip()
                holder = holder if holder.isdigit() else "?"
                raise RunLocked(f"{str(self.path)!r} is being written by process {holder}; wait for it to finish, "
                                "stop it, or pass another --out") from None
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)

    def remove_training(self) -> None:
        """Remove what a training run that saved no checkpoint wrote (its request, metric
        lines, unpublished checkpoint folders): a failed start leaves nothing behind."""
        for name in (self.TRAIN, self.METRICS):
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()
        if not (self.path / self.PROGRESS).exists():  # no checkpoint was ever published
            shutil.rmtree(self.path / self.CHECKPOINTS, ignore_errors=True)


class Checkpoint:
    """One checkpoint being written (see :meth:`RunDir.checkpoint`): say what it holds —
    ``save_torch``, ``save_npz``, ``save_net``, ``write_progress`` — and the run directory
    decides where."""

    def __init__(self, folder: Path, kill_hook: Any = None) -> None:
        self.folder = folder
        self.files: list[str] = []
        self.progress_doc: dict[str, Any] = {"tasks": None}
        self._hook = kill_hook

    def _step(self) -> None:
        if self._hook is not None:
            self._hook()

    def _name(self, name: str) -> Path:
        if not _NAME.match(name) or name in RunDir._RESERVED or name in self.files:
            raise ValueError(f"a checkpoint cannot hold a file named {name!r} (twice, reserved or not a plain name)")
        return self.folder / name

    def _put(self, name: str, data: bytes) -> None:
        write_synced(self._name(name), data)
        self.files.append(name)
        self._step()

    def save_torch(self, name: str, obj: Any) -> None:
        """``torch.save`` ``obj`` as the checkpoint's file ``name``."""
        import torch

        buf = io.BytesIO()
        torch.save(obj, buf)
        self._put(name, buf.getvalue())

    def save_text(self, name: str, text: str) -> None:
        """UTF-8 text (e.g. a readable JSON document) as the checkpoint's file ``name``."""
        self._put(name, text.encode("utf-8"))

    def save_npz(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        """Arrays as the checkpoint's npz file ``name`` (no pickled objects)."""
        self._put(name, npz_bytes(arrays))

    def save_net(self, net: Any) -> None:
        """The checkpoint's network (``net.npz``, via ``SpikingNet.save``)."""
        net.save(self._name(RunDir.NET))
        self.files.append(RunDir.NET)
        self._step()

    def write_progress(self, *, tasks: str | None, progress: Mapping[str, Any], **extra: Any) -> None:
        """What ``progress.json`` says once the checkpoint is published: the task spec the
        model was built for, extra facts (e.g. the device), and the training progress."""
        self.progress_doc = {"tasks": tasks, **extra, **dict(progress)}
        for key in ("checkpoint", "files"):
            self.progress_doc.pop(key, None)


class MetricsLog:
    """The append handle of ``metrics.jsonl``: one strict-JSON line per update."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: Any = None

    def write(self, metrics: Mapping[str, Any]) -> None:
        if self.fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(self.path, "a", encoding="utf-8")
        self.fh.write(_metrics_line(metrics))
        self.fh.flush()

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def finite_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """``metrics`` with each non-finite number replaced by ``None`` and named in the
    ``"nonfinite"`` list (JSON has no NaN or infinity).

    Example:
        >>> finite_metrics({"update": 3, "loss": float("nan")})
        {'update': 3, 'loss': None, 'nonfinite': ['loss']}
    """
    out: dict[str, Any] = {}
    bad = [k for k in metrics.get("nonfinite", []) if isinstance(k, str)] if isinstance(metrics.get("nonfinite"), list) else []
    for key, value in metrics.items():
        if key == "nonfinite":
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None
            bad.append(key)
        out[key] = value
    if bad:
        out["nonfinite"] = list(dict.fromkeys(bad))
    return out


def _metrics_line(metrics: Mapping[str, Any]) -> str:
    return json.dumps(finite_metrics(metrics), allow_nan=False) + "\n"


def _is_count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _check_progress(info: dict[str, Any], where: str) -> None:
    """Refuse a ``progress.json`` whose known fields have the wrong type (one line)."""
    def bad(key: str, what: str) -> RunDirError:
        return RunDirError(f"{where}: \"{key}\" must be {what}, got {info[key]!r}; the run directory is corrupt")

    if info.get("tasks") is not None and not isinstance(info["tasks"], str):
        raise bad("tasks", "a task spec or null")
    for key in ("updates", "tasks_seen"):
        if key in info and not _is_count(info[key]):
            raise bad(key, "a whole number >= 0")
    if "seconds" in info:
        s = info["seconds"]
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s < 0:
            raise bad("seconds", "a number >= 0")
    if "device" in info and not isinstance(info["device"], str):
        raise bad("device", "a device name")
    if ("checkpoint" in info) != ("files" in info):
        raise RunDirError(f"{where} names a checkpoint without its files (or files without a checkpoint); "
                          "the run directory is corrupt")
    if "checkpoint" in info:
        if not isinstance(info["checkpoint"], str) or not _FOLDER.match(info["checkpoint"]):
            raise bad("checkpoint", "a folder checkpoints/<number>")
        files = info["files"]
        if (not isinstance(files, list) or not all(isinstance(f, str) and _NAME.match(f) for f in files)
                or RunDir.CONFIG not in files):
            raise bad("files", "the list of the checkpoint's file names, config.json among them")


def _check_finite_arrays(arrays: Mapping[str, Any], path: Path) -> None:
    for key, value in arrays.items():
        a = np.asarray(value)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            raise RunDirError(f"{str(path)!r} holds a NaN or an infinity in {key!r}: training diverged before it was "
                              "saved; use an earlier run or retrain (e.g. with a smaller lr)")


def _check_finite_torch(obj: Any, path: Path, key: str = "") -> None:
    import torch

    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point() or obj.is_complex():
            if not bool(torch.isfinite(obj).all()):
                raise RunDirError(f"{str(path)!r} holds a NaN or an infinity in {key or 'its tensor'!r}: training "
                                  "diverged before it was saved; use an earlier run or retrain (e.g. with a smaller lr)")
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            _check_finite_torch(v, path, f"{key}.{k}" if key else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_finite_torch(v, path, f"{key}[{i}]")


def _kill_hook(number: int) -> Any:
    """The test hook of :data:`KILL_ENV` for this process's checkpoint ``number`` (or None)."""
    spec = os.environ.get(KILL_ENV, "")
    target, _, step = spec.partition(":")
    if not (target.isdigit() and step.isdigit()) or int(target) != number:
        return None
    count = [0]

    def hook() -> None:
        count[0] += 1
        if count[0] == int(step):
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def _version() -> str:
    """This package's version (as ``metaplastic.__version__``, read without importing the facade)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("metaplastic")
    except PackageNotFoundError:
        return "0+unknown"


def load_torch_file(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` with one-line errors for missing, corrupt or
    foreign files, and for files holding a NaN or an infinity."""
    import torch

    if not Path(path).is_file():
        raise RunDirError(f"{str(path)!r} does not exist; the run directory is incomplete")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise RunDirError(f"{what} {str(path)!r} is corrupt or not a metaplastic checkpoint ({first_line(exc)})") from None
    _check_finite_torch(obj, Path(path))
    return obj
