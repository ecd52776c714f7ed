"""Install, locate, check and remove the external runtimes of :data:`~.specs.RUNTIMES`.

A runtime lives in ``<home>/runtimes/<name>/`` (:func:`runtime_home` names the home)::

    runtime.json                      the record: written last; no record = not installed
    venv/                             a virtual environment of the runtime's interpreter
    venv/bin/python                   the interpreter workers run on
    venv/lib/pythonX.Y/site-packages/metaplastic_runtime/
                                      the worker code: copies of metaplastic/workers/remote/*.py

An install is built in a sibling folder ``.<name>.partial`` and renamed into place in one
step, under a lock (``.<name>.lock``), so a runtime is there whole or not at all; a failed
or killed install leaves nothing that looks installed, and the next install removes its
leftovers. :func:`ensure_worker` re-copies the worker files when the library's differ, so
an upgrade of metaplastic never runs a stale worker.

Example:
    >>> import os, tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"METAPLASTIC_HOME": d}):
    ...     print(unavailable("lava"))
    ...     [(s.name, s.installed) for s in status()]
    runtime 'lava' is not installed; install it with: metaplastic runtime install lava
    [('lava', False)]
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from metaplastic.errors import ConfigError, RuntimeMissing

from .specs import RUNTIMES, RuntimeSpec

RECORD = "runtime.json"
RECORD_FORMAT = 1
REMOTE = Path(__file__).parent / "remote"     # the worker code copied into every runtime
VERSION_TIMEOUT_S = 20.0                      # running a candidate interpreter once
PROBE_TIMEOUT_S = 120.0                       # importing the probe module (lava: ~1 s)
_VERSION_CODE = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
_QUERY_CODE = (
    "import importlib.metadata as m, json, platform, sys, sysconfig\n"
    "print(json.dumps({'purelib': sysconfig.get_paths()['purelib'], 'python_version': platform.python_version(),"
    " 'versions': {n: m.version(n) for n in sys.argv[1:]}}))"
)
# what a host environment must not hand a foreign interpreter (the host's paths, its venv)
_HOST_ONLY_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__")


def _quiet(line: str) -> None:
    """The default ``say``: print nothing."""


# --- where runtimes live


def runtime_home() -> Path:
    """The folder runtimes are installed under: ``$METAPLASTIC_HOME`` if set, else
    ``$XDG_DATA_HOME/metaplastic``, else ``~/.local/share/metaplastic``.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"METAPLASTIC_HOME": "/srv/mp"}):
        ...     str(runtime_home())
        '/srv/mp'
        >>> env = {k: v for k, v in os.environ.items() if k != "METAPLASTIC_HOME"}
        >>> with mock.patch.dict(os.environ, {**env, "XDG_DATA_HOME": "/data"}, clear=True):
        ...     str(runtime_home())
        '/data/metaplastic'
    """
    home = os.environ.get("METAPLASTIC_HOME", "").strip()
    if home:
        return Path(home).expanduser()
    data = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(data).expanduser() if data else Path.home() / ".local" / "share") / "metaplastic"


def _spec(name: str) -> RuntimeSpec:
    if name not in RUNTIMES:
        raise ConfigError(f"unknown runtime {name!r}; known runtimes: {', '.join(sorted(RUNTIMES))}")
    return RUNTIMES[name]


def _runtimes_dir() -> Path:
    return runtime_home() / "runtimes"


def _root(name: str) -> Path:
    return _runtimes_dir() / name


def _install_hint(name: str) -> str:
    return f"metaplastic runtime install {name}"


# --- finding an interpreter


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _HOST_ONLY_ENV}


def worker_env() -> dict[str, str]:
    """The environment a worker in a runtime starts with: this process's, without what
    would point the runtime's interpreter at the host's packages (``PYTHONPATH``, ...).

    Example:
        >>> "PYTHONPATH" in worker_env()
        False
    """
    return _clean_env()


def _last_line(text: str) -> str:
    """The line of a tool's stderr that says what went wrong: its last ``ERROR`` line, else
    its last line that is not a warning, else its last line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for pick in (lambda ln: ln.startswith("ERROR"), lambda ln: not ln.startswith("WARNING")):
        chosen = [ln for ln in lines if pick(ln)]
        if chosen:
            return chosen[-1][:300]
    return lines[-1][:300] if lines else ""


def _python_version(path: str) -> tuple[str | None, str]:
    """``(full version, "")`` when ``path`` runs as Python, else ``(None, why not)``."""
    try:
        proc = subprocess.run([path, "-I", "-c", _VERSION_CODE], capture_output=True, text=True,
                              timeout=VERSION_TIMEOUT_S, env=_clean_env(), stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return None, "not found"
    except PermissionError:
        return None, "not executable"
    except OSError as exc:
        return None, f"cannot run ({exc.strerror or exc})"
    except subprocess.TimeoutExpired:
        return None, f"did not answer within {VERSION_TIMEOUT_S:g} s"
    out = proc.stdout.strip()
    if proc.returncode != 0 or not re.fullmatch(r"\d+\.\d+\.\d+", out):
        why = (proc.stderr.strip().splitlines() or [out or ""])[0][:200]
        return None, f"exit code {proc.returncode}" + (f": {why}" if why else "")
    return out, ""


def _major_minor(full: str) -> str:
    return ".".join(full.split(".")[:2])


def _numeric_key(path: str) -> tuple[int, ...]:
    """Sort key of a pyenv version folder: 3.10.13 after 3.10.9; a non-numeric suffix last."""
    name = Path(path).parents[1].name
    return tuple(int(p) for p in re.findall(r"\d+", name))


def _candidates(version: str) -> list[str]:
    found = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    pyenv = Path(os.environ.get("PYENV_ROOT", "").strip() or Path.home() / ".pyenv").expanduser()
    pattern = str(pyenv / "versions" / f"{glob.escape(version)}*" / "bin" / f"python{version}")
    found += sorted(glob.glob(pattern), key=_numeric_key, reverse=True)
    found += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    return list(dict.fromkeys(found))


def _find_python(version: str, given: str | None) -> tuple[str, str]:
    """``(path, full version)`` of a Python ``version`` interpreter (see :func:`find_python`)."""
    if given is not None:
        full, why = _python_version(given)
        if full is None:
            raise ConfigError(f"--python {given} does not run as Python ({why}); pass the path of a Python {version} interpreter")
        if _major_minor(full) != version:
            raise ConfigError(f"--python {given} reports Python {full}, not {version}; "
                              f"pass the path of a Python {version} interpreter")
        return given, full
    tried = []
    for path in _candidates(version):
        if not Path(path).exists():
            continue
        full, why = _python_version(path)
        if full is not None and _major_minor(full) == version:
            return path, full
        tried.append(f"{path}: {why or 'reports ' + str(full)}")
    seen = f" (tried {'; '.join(tried)})" if tried else ""
    raise RuntimeMissing(f"no Python {version} interpreter found{seen}; install one (e.g. `pyenv install {version}` "
                         f"or your system's python{version} package) or pass its path with --python PATH")


def find_python(version: str, given: str | None = None) -> str:
    """The path of a working Python ``version`` (``"major.minor"``) interpreter: ``given``
    if passed (it must run and report that version), else the first of
    ``python<version>`` on ``PATH``, ``$PYENV_ROOT/versions/<version>*/bin/python<version>``
    (newest first; ``PYENV_ROOT`` defaults to ``~/.pyenv``), ``/usr/bin/python<version>``
    and ``/usr/local/bin/python<version>`` that runs and reports that version (a pyenv shim
    that fails is skipped). Raises a one-line :class:`~metaplastic.errors.RuntimeMissing`
    starting "no Python <version> interpreter" when there is none, a
    :class:`~metaplastic.errors.ConfigError` when ``given`` is not one.

    Example:
        >>> import sys
        >>> here = "%d.%d" % sys.version_info[:2]
        >>> find_python(here, sys.executable) == sys.executable
        True
        >>> find_python("2.1", sys.executable)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        metaplastic.errors.ConfigError: --python ... reports Python 3..., not 2.1; pass the path of a Python 2.1 interpreter
    """
    return _find_python(version, given)[0]


# --- records and health


@dataclass(frozen=True)
class Installed:
    """An installed runtime: its ``name``, its folder ``root``, the venv interpreter
    ``python`` workers run on, and its ``record`` (the contents of ``runtime.json``).

    Example:
        >>> from pathlib import Path
        >>> rt = Installed("lava", Path("/h/runtimes/lava"), Path("/h/runtimes/lava/venv/bin/python"),
        ...                {"site_packages": "venv/lib/python3.10/site-packages", "package": "metaplastic_runtime"})
        >>> str(rt.worker_dir)
        '/h/runtimes/lava/venv/lib/python3.10/site-packages/metaplastic_runtime'
    """

    name: str
    root: Path
    python: Path
    record: dict[str, Any] = field(compare=False)

    @property
    def worker_dir(self) -> Path:
        """The folder of the worker package in the venv's site-packages (importable there
        as ``record["package"]``, e.g. ``python -m metaplastic_runtime.<module>``)."""
        return self.root / self.record["site_packages"] / self.record["package"]


def _venv_python(root: Path) -> Path:
    return root / "venv" / "bin" / "python"


def _read_record(root: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(record, None)``; ``(None, None)`` when there is none; ``(None, why)`` when it is
    unreadable or incomplete."""
    path = root / RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return None, f"its {RECORD} is unreadable ({type(exc).__name__})"
    if not isinstance(record, dict):
        return None, f"its {RECORD} is not a JSON object"
    wanted = {"name": str, "requirements": list, "site_packages": str, "package": str}
    for key, kind in wanted.items():
        if not isinstance(record.get(key), kind):
            return None, f"its {RECORD} lacks {key!r}"
    return record, None


def _cheap_check(spec: RuntimeSpec, root: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(record, None)`` if the runtime looks installed (a record for this spec, the venv
    interpreter present), else ``(None or the record, the one-line reason)``; no subprocess."""
    record, why = _read_record(root)
    if record is None and why is None:
        return None, f"runtime {spec.name!r} is not installed; install it with: {_install_hint(spec.name)}"
    reinstall = f"reinstall it with: {_install_hint(spec.name)}"
    if record is None:
        return None, f"runtime {spec.name!r} in {root} is broken: {why}; {reinstall}"
    if tuple(record["requirements"]) != spec.requirements or record["package"] != spec.package:
        return record, (f"runtime {spec.name!r} in {root} was installed with {' '.join(record['requirements'])}; "
                        f"this metaplastic needs {' '.join(spec.requirements)}; {reinstall}")
    if not _venv_python(root).exists():      # follows the symlink: a removed base interpreter counts
        return record, f"runtime {spec.name!r} in {root} has no working venv/bin/python; {reinstall}"
    return record, None


def _probe(spec: RuntimeSpec, python: Path) -> str | None:
    """None if ``python`` imports the spec's probe module, else why not (one line)."""
    try:
        proc = subprocess.run([str(python), "-I", "-c", f"import {spec.probe}"], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT_S, env=_clean_env(), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"importing {spec.probe} took over {PROBE_TIMEOUT_S:g} s"
    except OSError as exc:
        return f"{python} does not run ({exc.strerror or exc})"
    if proc.returncode != 0:
        return f"importing {spec.probe} fails: {_last_line(proc.stderr) or f'exit code {proc.returncode}'}"
    return None


def _health(spec: RuntimeSpec, root: Path) -> tuple[dict[str, Any] | None, str | None]:
    """Like :func:`_cheap_check`, and the venv interpreter imports the probe module."""
    record, why = _cheap_check(spec, root)
    if why is None:
        failed = _probe(spec, _venv_python(root))
        if failed is not None:
            why = f"runtime {spec.name!r} in {root} is broken: {failed}; reinstall it with: {_install_hint(spec.name)}"
    return record, why


def unavailable(name: str) -> str | None:
    """None if runtime ``name`` is installed (its record is there and its venv interpreter
    exists), else the one-line reason with the command that installs it. Cheap: no
    subprocess (backends call it to say whether they can run).

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"METAPLASTIC_HOME": d}):
        ...     unavailable("lava")
        "runtime 'lava' is not installed; install it with: metaplastic runtime install lava"
    """
    return _cheap_check(_spec(name), _root(name))[1]


def locate(name: str) -> Installed:
    """The installed runtime ``name``; a one-line :class:`~metaplastic.errors.RuntimeMissing`
    saying how to install it when it is not (checked cheaply, as :func:`unavailable`).

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"METAPLASTIC_HOME": d}):
        ...     locate("lava")
        Traceback (most recent call last):
        metaplastic.errors.RuntimeMissing: runtime 'lava' is not installed; install it with: metaplastic runtime install lava
    """
    spec = _spec(name)
    root = _root(name)
    record, why = _cheap_check(spec, root)
    if why is not None or record is None:
        raise RuntimeMissing(why)
    return Installed(name, root, _venv_python(root), record)


# --- the worker files


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _worker_sources() -> dict[str, bytes]:
    """File name -> contents of every ``*.py`` of the library's worker package."""
    return {p.name: p.read_bytes() for p in sorted(REMOTE.glob("*.py"))}


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary sibling and one rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_record(root: Path, record: dict[str, Any]) -> None:
    _write_atomic(root / RECORD, (json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n").encode())


def ensure_worker(installed: Installed) -> tuple[str, ...]:
    """Make the runtime's copy of the worker package match the library's: re-copy each file
    whose sha256 differs (atomically, file by file), remove copies the library no longer
    has, and update the record's ``worker_sha256``. Returns the names of the files changed
    (empty when all were current). The host calls it before it launches a worker.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     rt = Installed("lava", Path(d), Path(d) / "venv/bin/python",
        ...                    {"site_packages": "site", "package": "metaplastic_runtime"})
        ...     "frames.py" in ensure_worker(rt), ensure_worker(rt)
        (True, ())
    """
    sources = _worker_sources()
    target = installed.worker_dir
    target.mkdir(parents=True, exist_ok=True)
    changed = []
    for fname, data in sources.items():
        copy = target / fname
        if not copy.is_file() or _sha256(copy.read_bytes()) != _sha256(data):
            _write_atomic(copy, data)
            changed.append(fname)
    for copy in sorted(target.glob("*.py")):
        if copy.name not in sources:
            copy.unlink(missing_ok=True)
            changed.append(copy.name)
    if changed:
        for fname in changed:   # a bytecode cache of the same second and size would outlive the new source
            for cached in (target / "__pycache__").glob(f"{Path(fname).stem}.*.pyc"):
                cached.unlink(missing_ok=True)
        hashes = {fname: _sha256(data) for fname, data in sources.items()}
        _write_record(installed.root, {**installed.record, "worker_sha256": hashes})
    return tuple(sorted(changed))


# --- status


@dataclass(frozen=True)
class RuntimeStatus:
    """What :func:`status` reports of one runtime: ``installed`` (a record is there),
    ``healthy`` (its interpreter imports the probe module) and ``reason`` when not,
    the interpreter's ``python_version``, the ``versions`` of its pinned distributions
    (e.g. ``{"lava-nc": "0.10.0", "numpy": "1.26.4"}``) and its ``size_mb`` on disk.

    Example:
        >>> from pathlib import Path
        >>> RuntimeStatus("lava", False, Path("/h/runtimes/lava"), False, "not installed").as_dict()["installed"]
        False
    """

    name: str
    installed: bool
    path: Path
    healthy: bool
    reason: str | None = None
    python_version: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    size_mb: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (``path`` as a string)."""
        return {**asdict(self), "path": str(self.path)}


def _size_mb(root: Path) -> float:
    total = 0
    for folder, _, files in os.walk(root):
        for fname in files:
            try:
                total += os.lstat(os.path.join(folder, fname)).st_size
            except OSError:
                pass
    return round(total / 1e6, 1)


def status() -> list[RuntimeStatus]:
    """The state of every runtime of :data:`~.specs.RUNTIMES`, installed or not. An
    installed one is checked by importing its probe module in its interpreter (about a
    second).

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"METAPLASTIC_HOME": d}):
        ...     s = status()[0]
        >>> s.name, s.installed, s.healthy, s.reason
        ('lava', False, False, "runtime 'lava' is not installed; install it with: metaplastic runtime install lava")
    """
    out = []
    for name, spec in RUNTIMES.items():
        root = _root(name)
        record, why = _health(spec, root)
        if record is None and not root.exists():
            out.append(RuntimeStatus(name, False, root, False, why))
            continue
        record = record or {}
        out.append(RuntimeStatus(
            name, record != {}, root, why is None, why,
            python_version=record.get("python_version"),
            versions=dict(record.get("versions", {})),
            size_mb=_size_mb(root),
        ))
    return out


# --- install and remove


@contextmanager
def _locked(name: str, say: Callable[[str], None]) -> Iterator[None]:
    """Hold ``<home>/runtimes/.<name>.lock`` (one install or removal of a runtime at a time)."""
    import fcntl      # POSIX only, like the runtimes themselves

    folder = _runtimes_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".{name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another install or removal of runtime {name!r} (lock {path})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)     # releases the lock


def _run_step(what: str, argv: list[str], *, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run one install step; a one-line :class:`RuntimeMissing` with the last line of its
    stderr when it fails."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=_clean_env(),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RuntimeMissing(f"{what} failed: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise RuntimeMissing(f"{what} failed: cannot run {argv[0]} ({exc.strerror or exc})") from None
    if proc.returncode != 0:
        raise RuntimeMissing(f"{what} failed: {_last_line(proc.stderr) or f'exit code {proc.returncode}'}")
    return proc


def _relocate_scripts(venv: Path, old: Path, new: Path) -> None:
    """Point the venv's scripts (pip's shebangs, ``activate``) at its final folder."""
    before, after = str(old).encode(), str(new).encode()
    for path in [*sorted((venv / "bin").iterdir()), venv / "pyvenv.cfg"]:
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if before in data:
            path.write_bytes(data.replace(before, after))


def _remove_tree(path: Path) -> None:
    """Remove a folder so that it vanishes at once: renamed aside, then deleted."""
    if not path.exists() and not path.is_symlink():
        return
    aside = path.with_name(f".{path.name}.removing-{os.getpid()}")
    os.replace(path, aside)
    shutil.rmtree(aside, ignore_errors=True)


def _build(spec: RuntimeSpec, partial: Path, final: Path, python: str, full: str,
           say: Callable[[str], None]) -> dict[str, Any]:
    """Build the runtime in ``partial`` (to be renamed to ``final``); returns its record."""
    venv = partial / "venv"
    say(f"creating venv with {python} ({full})")
    _run_step(f"creating a venv with {python}", [python, "-I", "-m", "venv", str(venv)], timeout=600)
    vpy = str(venv / "bin" / "python")
    say(f"installing {' '.join(spec.requirements)} ...")
    _run_step(f"installing {' '.join(spec.requirements)}",
              [vpy, "-I", "-m", "pip", "install", "--disable-pip-version-check", "-q", *spec.requirements])
    query = _run_step("reading the installed versions", [vpy, "-I", "-c", _QUERY_CODE, *spec.distributions],
                      timeout=PROBE_TIMEOUT_S)
    facts = json.loads(query.stdout)
    site = Path(facts["purelib"]).resolve().relative_to(partial.resolve())
    record = {
        "format": RECORD_FORMAT,
        "name": spec.name,
        "python": python,
        "python_version": facts["python_version"],
        "requirements": list(spec.requirements),
        "versions": facts["versions"],
        "probe": spec.probe,
        "package": spec.package,
        "site_packages": str(site),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "metaplastic": _library_version(),
    }
    _relocate_scripts(venv, partial / "venv", final / "venv")
    ensure_worker(Installed(spec.name, partial, Path(vpy), record))   # writes the record last, with worker_sha256
    return record


def _library_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("metaplastic")
    except PackageNotFoundError:
        return None


def install(name: str, python: str | None = None, *, say: Callable[[str], None] = _quiet) -> Installed:
    """Install runtime ``name`` (see :data:`~.specs.RUNTIMES`) under :func:`runtime_home`,
    with the interpreter ``python`` (a path; default: :func:`find_python`), and return it.
    Idempotent: a runtime already installed and healthy is kept (its worker files are
    refreshed). Otherwise a venv is built beside it, its requirements installed with pip,
    the worker package copied in, ``runtime.json`` written, and the folder renamed into
    place; a failure (one line, with the last line of pip's error) leaves nothing behind.
    ``say`` receives a few progress lines.

    Example:
        >>> install("loihi3")
        Traceback (most recent call last):
        metaplastic.errors.ConfigError: unknown runtime 'loihi3'; known runtimes: lava
    """
    spec = _spec(name)
    if python is not None:
        python, full = _find_python(spec.python, python)     # a wrong --python is an error even when installed
    final = _root(name)
    with _locked(name, say):
        record, why = _health(spec, final)
        if why is None and record is not None:
            installed = Installed(name, final, _venv_python(final), record)
            changed = ensure_worker(installed)
            versions = ", ".join(f"{k} {v}" for k, v in record.get("versions", {}).items())
            refreshed = f"worker files refreshed ({', '.join(changed)})" if changed else "worker files up to date"
            say(f"runtime {name!r} is already installed in {final} ({versions}); {refreshed}")
            return locate(name)
        if record is not None or final.exists():
            say(f"replacing the runtime in {final}: {why}")
        if python is None:
            python, full = _find_python(spec.python, None)
        partial = final.with_name(f".{name}.partial")
        _remove_tree(partial)                              # a killed install's leftovers
        start = time.monotonic()
        try:
            _build(spec, partial, final, python, full, say)
            _remove_tree(final)
            os.replace(partial, final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        record, why = _health(spec, final)
        if why is not None:
            _remove_tree(final)
            raise RuntimeMissing(f"runtime {name!r} does not work once in place ({why}); nothing was kept")
        say(f"installed in {final} ({_size_mb(final):.0f} MB, {time.monotonic() - start:.0f} s)")
        return locate(name)


def remove(name: str) -> bool:
    """Delete runtime ``name``'s folder; False if it was not there.

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"METAPLASTIC_HOME": d}):
        ...     remove("lava")
        False
    """
    _spec(name)
    root = _root(name)
    if not root.exists():
        return False
    with _locked(name, _quiet):
        if not root.exists():
            return False
        _remove_tree(root)
        return True
