"""Run directories: ``config.json`` says which backend saved the run and with what config.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> write_config(d, backend="random", config={"seed": 0})
    >>> read_config(d)["backend"]
    'random'
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from metaplastic.errors import RunDirError
from metaplastic.runs.atomic import atomic_write_json

CONFIG_NAME = "config.json"
FORMAT_VERSION = 1


def write_config(path: str | os.PathLike, *, backend: str, config: Mapping[str, Any], **extra: Any) -> None:
    """Write ``config.json`` into the run directory ``path`` (created if needed)."""
    from metaplastic import __version__

    doc = {"backend": backend, "config": dict(config), "format_version": FORMAT_VERSION, "metaplastic": __version__}
    doc.update(extra)
    atomic_write_json(Path(path) / CONFIG_NAME, doc)


def read_config(path: str | os.PathLike, *, expect_backend: str | None = None) -> dict[str, Any]:
    """Read and check a run directory's ``config.json``; one-line :class:`RunDirError` otherwise."""
    path = Path(path)
    if not path.exists():
        raise RunDirError(f"run directory {str(path)!r} does not exist; pass a folder written by learner.save() or metaplastic train")
    if not path.is_dir():
        raise RunDirError(f"{str(path)!r} is a file, not a run directory; pass the folder that holds config.json")
    cfg_path = path / CONFIG_NAME
    if not cfg_path.is_file():
        raise RunDirError(f"no {CONFIG_NAME} in {str(path)!r}; is it a run directory written by learner.save() or metaplastic train?")
    try:
        doc = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{str(cfg_path)!r} is not valid JSON ({exc}); the run directory is corrupt") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("backend"), str):
        raise RunDirError(f"{str(cfg_path)!r} has no \"backend\" name; it was not written by metaplastic")
    if not isinstance(doc.get("config", {}), dict):
        raise RunDirError(f"{str(cfg_path)!r}: \"config\" must be an object; the run directory is corrupt")
    if expect_backend is not None and doc["backend"] != expect_backend:
        raise RunDirError(
            f"{str(path)!r} was saved by backend {doc['backend']!r}, not {expect_backend!r}; load it with metaplastic.load(path)"
        )
    return doc
