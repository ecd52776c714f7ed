"""Output paths checked before any work: a command that will write a file or a run
directory first checks that it can (the path is not empty, is of the right kind, and its
nearest existing folder is writable), so that it fails in a second, not after minutes of
work, and writes nothing.

Example:
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> check_output(os.path.join(d, "new", "run"), kind="dir").name
    'run'
    >>> check_output("", kind="dir")
    Traceback (most recent call last):
    ...
    metaplastic.errors.ConfigError: --out is empty; pass the path of a folder
"""

from __future__ import annotations

import os
from pathlib import Path

from metaplastic.errors import ConfigError

__all__ = ["check_output"]


def check_output(path: str | os.PathLike, *, kind: str, what: str = "--out") -> Path:
    """``path`` as a :class:`Path` if a ``kind`` (``"file"`` or ``"dir"``) can be written
    there; a one-line :class:`ConfigError` otherwise. Nothing is created."""
    text = os.fspath(path)
    noun = "folder" if kind == "dir" else "file"
    if not str(text).strip():
        raise ConfigError(f"{what} is empty; pass the path of a {noun}")
    p = Path(text)
    try:
        if p.exists():
            if kind == "dir" and not p.is_dir():
                raise ConfigError(f"{what} {text!r} is a file, not a folder; pass a folder")
            if kind == "file" and p.is_dir():
                raise ConfigError(f"{what} {text!r} is a folder; pass the path of a file")
            _check_writable(p if kind == "dir" else p.absolute().parent, text, what)
            return p
        ancestor = p.absolute().parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
    except OSError as exc:
        raise ConfigError(f"{what} {text!r} cannot be used ({exc.strerror or exc})") from None
    if not ancestor.is_dir():
        raise ConfigError(f"{what} {text!r} cannot be created: {str(ancestor)!r} is a file, not a folder")
    _check_writable(ancestor, text, what)
    return p


def _check_writable(folder: Path, text: str, what: str) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {text!r} cannot be written: {str(folder)!r} is not writable; pass another {what}")
