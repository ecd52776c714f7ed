"""``WorkerProcess``: one worker running in a provisioned runtime, spoken to in frames.

The worker is started in its own process group with pipes for stdin and stdout (frames,
:mod:`metaplastic.workers.remote.frames`) and stderr (its log, kept for error messages).
It may list the POSIX shared-memory segments it creates in the file named by
``$METAPLASTIC_SHM_LOG`` (Lava's channels are such segments): a worker that is killed
cannot remove them, so the host does.
Every request waits at most ``timeout`` seconds for its reply; a worker that crashes, hangs
or is killed becomes one :class:`~metaplastic.errors.WorkerFailed` line, and the whole
process group (the worker and whatever it started) is killed, so nothing is left behind.
:meth:`close` (also run when the object is garbage-collected or the interpreter exits)
asks the worker to stop, then kills what remains.

Example:
    >>> import sys
    >>> w = WorkerProcess([sys.executable, "-c", "import sys; sys.stdin.read()"], name="demo", timeout=5)
    >>> w.pid > 0, w.alive()
    (True, True)
    >>> w.close(grace=0.2)
    >>> w.alive()
    False
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from metaplastic.errors import WorkerFailed
from metaplastic.workers.remote.frames import FrameError, read_frame, write_frame

__all__ = ["WorkerProcess"]


SHM_LOG_ENV = "METAPLASTIC_SHM_LOG"  # where a worker lists the shared-memory segments it creates


def _unlink_logged_shm(log: str) -> None:
    """Remove the POSIX shared-memory segments a killed worker listed in ``log`` (a worker
    that stops normally has removed them itself), then the list."""
    try:
        with open(log, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
    except OSError:
        names = []
    for name in names:
        if "/" not in name and name not in (".", ".."):
            try:
                os.unlink(os.path.join("/dev/shm", name))
            except OSError:
                pass
    try:
        os.unlink(log)
    except OSError:
        pass


def _kill_group(proc: subprocess.Popen, shm_log: str | None = None) -> None:
    """SIGKILL the worker's process group (it leads its own), reap the worker, and remove
    the shared memory it listed in ``shm_log``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
        pass
    for stream in (proc.stdin, proc.stdout):  # stderr: closed by the log thread at its end
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    if shm_log is not None:
        _unlink_logged_shm(shm_log)


class _Deadline:
    """The worker's stdin and stdout under one deadline: ``write`` and ``read`` raise
    ``TimeoutError`` once ``seconds`` have passed, and ``ConnectionError`` as soon as the
    worker has died (its children may hold the pipes open, so no end of file comes);
    ``read_frame`` reads through it."""

    POLL = 0.2  # seconds between checks that the worker still runs

    def __init__(self, proc: subprocess.Popen, seconds: float):
        assert proc.stdin is not None and proc.stdout is not None  # noqa: S101 - pipes made by Popen
        self.proc, self.end = proc, time.monotonic() + seconds
        self.out, self.inp = proc.stdout.fileno(), proc.stdin.fileno()

    def _wait(self, fd: int, event: int) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, event)
            while True:
                left = self.end - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                if sel.select(timeout=min(left, self.POLL)):
                    return
                if self.proc.poll() is not None:
                    raise ConnectionError("the worker exited")

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._wait(self.inp, selectors.EVENT_WRITE)
            n = os.write(self.inp, view[: 1 << 16])  # at most a pipe's buffer: never blocks after select
            view = view[n:]

    def read(self, n: int) -> bytes:
        self._wait(self.out, selectors.EVENT_READ)
        return os.read(self.out, n)

    def flush(self) -> None:
        """Nothing to flush: :meth:`write` hands every byte to the pipe."""


def _read_log(stream: Any, log: deque[str]) -> None:
    """Keep the last lines a worker writes to stderr (a function, not a method: the thread
    must not keep the WorkerProcess alive)."""
    with stream:
        for raw in stream:
            line = raw.decode(errors="replace").strip()
            if line:
                log.append(line)


class WorkerProcess:
    """A worker started from ``argv``; ``request`` sends a frame and returns the reply.

    ``env`` is the worker's environment (default: this process's); ``$METAPLASTIC_SHM_LOG``
    is added to it."""

    def __init__(self, argv: Sequence[str], *, name: str, timeout: float = 30.0, env: dict[str, str] | None = None):
        self.name, self.timeout = name, float(timeout)
        fd, self.shm_log = tempfile.mkstemp(prefix=f"metaplastic-{name}-", suffix=".shm")
        os.close(fd)
        env = {**(os.environ if env is None else env), SHM_LOG_ENV: self.shm_log}
        try:
            self.proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True, env=env)
        except OSError as e:
            os.unlink(self.shm_log)
            raise WorkerFailed(f"cannot start the {name} worker {argv[0]!r} ({e.strerror or e}); "
                               f"reinstall its runtime (metaplastic runtime install {name})") from None
        self.pid = self.proc.pid
        os.set_blocking(self.proc.stdin.fileno(), False)  # type: ignore[union-attr] - writes go through select
        self._log: deque[str] = deque(maxlen=40)
        self._drain = threading.Thread(target=_read_log, args=(self.proc.stderr, self._log), daemon=True)
        self._drain.start()
        self._finalizer = weakref.finalize(self, _kill_group, self.proc, self.shm_log)

    def alive(self) -> bool:
        """Whether the worker process is still running."""
        return self.proc.poll() is None

    def _last_log(self) -> str:
        """The worker's last line on stderr that names an error (else its last line)."""
        self._drain.join(timeout=0.5)  # the log thread ends when the worker's stderr closes
        lines = [ln for ln in self._log if ln]
        errors = [ln for ln in lines if "Error" in ln or "Exception" in ln]
        last = (errors or lines)[-1][:300] if lines else ""
        return f"; its last output: {last}" if last else ""

    def _kill(self) -> None:
        _kill_group(self.proc, self.shm_log)  # stderr closes: the log thread reads to its end
        self._finalizer.detach()

    def _fail(self, what: str) -> WorkerFailed:
        code = self.proc.poll()
        self._kill()
        if code is None:
            status = "was killed"
        elif code < 0:
            status = f"was killed by signal {-code}"
        else:
            status = f"exited with code {code}"
        return WorkerFailed(f"{self.name} worker (pid {self.pid}) {what}; it {status}{self._last_log()}")

    def request(self, op: str, arrays: dict[str, np.ndarray] | None = None, meta: dict[str, Any] | None = None,
                *, timeout: float | None = None, expect: str | None = None) -> tuple[str, dict[str, np.ndarray], dict[str, Any]]:
        """Send one request and wait (at most ``timeout``, default the worker's, for writing
        it and reading the reply) for its reply, whose op must be ``expect`` when given.

        A reply ``error`` from the worker, a worker that died, a malformed or unexpected
        reply, no reply in time, or an interruption (Ctrl-C) while waiting: a one-line
        :class:`WorkerFailed` (the interruption is re-raised), with the worker's process group
        killed, so a worker is never left with a request half answered."""
        if not self.alive():
            raise self._fail(f"is not running (asked to {op})")
        wait = self.timeout if timeout is None else float(timeout)
        io = _Deadline(self.proc, wait)
        try:
            write_frame(io, op, arrays, meta)
            reply = read_frame(io)
        except TimeoutError:
            raise self._fail(f"did not answer {op!r} within {wait:g} s (raise the timeout with --set timeout=SECONDS)") from None
        except (ConnectionError, OSError, FrameError) as e:
            raise self._fail(f"failed during {op!r} ({type(e).__name__})") from None
        except BaseException:
            self._kill()
            raise
        if reply[0] == "error":
            message = str(reply[2].get("message", "unknown error"))
            self._kill()  # what it wrote before dying is still in the pipe for the log
            raise WorkerFailed(f"{self.name} worker (pid {self.pid}): {message}{self._last_log()}")
        if expect is not None and reply[0] != expect:
            raise self._fail(f"answered {op!r} with {reply[0]!r}, not {expect!r}")
        return reply

    def close(self, *, grace: float = 5.0) -> None:
        """Ask the worker to stop (``close``), wait up to ``grace`` seconds, then kill its group
        (``grace=0``: kill at once; the shared memory it listed is removed either way)."""
        if self.alive() and grace > 0:
            try:
                self.request("close", timeout=grace, expect="ok")
            except WorkerFailed:
                pass
        if self._finalizer.alive:
            self._finalizer()
