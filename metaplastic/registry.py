"""Entry-point discovery for backends and task families, with fallback chains.

Backends are entry points in the group ``metaplastic.backends``; task families in
``metaplastic.tasks``. Nothing is imported until it is asked for. An entry point may
name the extra it needs (``torch = "pkg.mod:Learner [torch]"``): when that extra's
requirements are not installed, the backend is listed as unavailable with the pip
command that installs them, and its module is never imported. A plugin whose import raises
anything (an ``ImportError``, any exception, even ``SystemExit``) is listed as unavailable
with the first line of the error; only ``KeyboardInterrupt`` goes through.

A *family* name is a fallback chain (data, see :data:`FALLBACK_CHAINS`): ``"spiking"``
resolves to the first available of its members.

Example:
    >>> from metaplastic.registry import BACKENDS
    >>> "random" in BACKENDS.names()
    True
"""

from __future__ import annotations

import difflib
import importlib.metadata as md
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from metaplastic.core import Capabilities
from metaplastic.errors import BackendUnavailable, MetaplasticError, UnknownNameError

#: Family names and the backends they stand for, in order of preference.
FALLBACK_CHAINS: Mapping[str, tuple[str, ...]] = {
    "spiking": ("snntorch", "numba"),
}

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class EntryInfo:
    """What the registry knows of one entry point, for listing and for error messages."""

    name: str
    group: str
    target: str
    distribution: str | None
    version: str | None
    available: bool
    reason: str | None = None
    install: str | None = None
    capabilities: Capabilities | None = None
    doc: str = ""
    obj: Any = field(default=None, repr=False, compare=False)
    #: The config keys the entry point declares (its ``config_params``), or ``None``.
    config_keys: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the loaded object left out)."""
        caps = self.capabilities
        return {
            "name": self.name,
            "available": self.available,
            "reason": self.reason,
            "install": self.install,
            "distribution": self.distribution,
            "version": self.version,
            "target": self.target,
            "doc": self.doc,
            "capabilities": None
            if caps is None
            else {k: (list(v) if isinstance(v, tuple) else v) for k, v in caps.__dict__.items()},
        }


def _missing_extra_requirements(ep: md.EntryPoint) -> list[str]:
    """Requirements of the extras an entry point declares that are not installed."""
    if not ep.extras or ep.dist is None:
        return []
    missing = []
    for req in ep.dist.requires or []:
        marker = _EXTRA_MARKER.search(req)
        if not marker or marker.group(1) not in ep.extras:
            continue
        m = _REQ_NAME.match(req)
        if not m:
            continue
        try:
            md.version(m.group(1))
        except md.PackageNotFoundError:
            missing.append(m.group(1))
    return missing


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class Registry:
    """The entry points of one group; loads each lazily and remembers the outcome."""

    def __init__(self, group: str, kind: str, chains: Mapping[str, tuple[str, ...]] | None = None,
                 plural: str | None = None):
        self.group = group
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self.chains = dict(chains or {})
        self._eps: dict[str, md.EntryPoint] | None = None
        self._infos: dict[str, EntryInfo] = {}

    def refresh(self) -> None:
        """Forget what was discovered (after installing a plugin in a running process)."""
        self._eps = None
        self._infos.clear()

    def _entry_points(self) -> dict[str, md.EntryPoint]:
        if self._eps is None:
            eps: dict[str, md.EntryPoint] = {}
            for ep in md.entry_points(group=self.group):
                eps.setdefault(ep.name, ep)  # the first on sys.path wins, as for imports
            self._eps = dict(sorted(eps.items()))
        return self._eps

    def names(self) -> list[str]:
        """Every entry-point name in the group, sorted (family names not included)."""
        return list(self._entry_points())

    def __contains__(self, name: object) -> bool:
        return name in self._entry_points() or name in self.chains

    def unknown(self, name: str) -> UnknownNameError:
        """The error for a name nobody provides, listing what is installed."""
        known = self.names() + sorted(self.chains)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listing = ", ".join(self.names()) or "none"
        if self.chains:
            listing += f" (family names: {', '.join(sorted(self.chains))})"
        return UnknownNameError(
            f"unknown {self.kind} {name!r}{hint}; installed {self.plural}: {listing}"
            f" (a plugin adds one through the entry-point group {self.group!r})"
        )

    def info(self, name: str) -> EntryInfo:
        """Load entry point ``name`` (catching every error) and describe it."""
        if name in self._infos:
            return self._infos[name]
        eps = self._entry_points()
        if name not in eps:
            raise self.unknown(name)
        ep = eps[name]
        dist = ep.dist.metadata["Name"] if ep.dist is not None else None
        version = ep.dist.version if ep.dist is not None else None
        base = dict(name=name, group=self.group, target=ep.value, distribution=dist, version=version)
        install = None
        if ep.extras and dist:
            install = f"pip install '{dist}[{','.join(ep.extras)}]'"
        missing = _missing_extra_requirements(ep)
        if missing:
            info = EntryInfo(
                **base,
                available=False,
                reason=f"needs {', '.join(missing)} (extra {','.join(ep.extras)}); install with: {install}",
                install=install,
            )
        else:
            try:
                obj = ep.load()
            except KeyboardInterrupt:  # the user's Ctrl-C still interrupts
                raise
            except BaseException as exc:  # noqa: BLE001 - a broken plugin (SystemExit included) never breaks the others
                reason = f"import failed: {_first_line(exc)}"
                if isinstance(exc, ImportError) and install:
                    reason += f"; try: {install}"
                info = EntryInfo(**base, available=False, reason=reason, install=install)
            else:
                info = self._describe(base, obj, install)
        self._infos[name] = info
        return info

    def _describe(self, base: dict[str, Any], obj: Any, install: str | None) -> EntryInfo:
        caps = getattr(obj, "capabilities", None)
        if not isinstance(caps, Capabilities):
            caps = Capabilities() if self.kind == "backend" else None
        doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
        reason = None
        check = getattr(obj, "unavailable_reason", None)
        if callable(check):
            try:
                reason = check()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - reported, not raised (SystemExit included)
                reason = f"availability check failed: {_first_line(exc)}"
        declared = getattr(obj, "config_params", None)
        keys = tuple(p.name for p in declared) if isinstance(declared, (tuple, list)) else None
        return EntryInfo(
            **base,
            config_keys=keys,
            available=reason is None,
            reason=reason,
            install=install,
            capabilities=caps,
            doc=doc[0] if doc else "",
            obj=obj,
        )

    def infos(self) -> list[EntryInfo]:
        """Every entry point of the group, described."""
        return [self.info(n) for n in self.names()]

    def resolve(self, name: str) -> str:
        """Follow a fallback chain to the first available member; plain names pass through."""
        if not isinstance(name, str):
            raise UnknownNameError(f"a {self.kind} name must be a string, got {type(name).__name__}")
        if name in self.chains:
            reasons = []
            for member in self.chains[name]:
                if member in self._entry_points():
                    info = self.info(member)
                    if info.available:
                        return member
                    reasons.append(f"{member}: {info.reason}")
                else:
                    reasons.append(f"{member}: not installed")
            raise BackendUnavailable(
                f"no {self.kind} of the family {name!r} can be used here ({'; '.join(reasons)})", name=name
            )
        if name not in self._entry_points():
            raise self.unknown(name)
        return name

    def load(self, name: str) -> tuple[str, Any]:
        """The resolved name and the loaded object; :class:`BackendUnavailable` if it can't be used."""
        resolved = self.resolve(name)
        info = self.info(resolved)
        if not info.available:
            raise BackendUnavailable(f"{self.kind} {resolved!r} cannot be used here: {info.reason}", name=resolved)
        return resolved, info.obj

    def loader(self, name: str) -> Any:
        """The ``load`` classmethod of the entry point ``name`` (a backend's run loader);
        a one-line error when the entry point is a factory without one."""
        resolved, obj = self.load(name)
        fn = getattr(obj, "load", None)  # the registry inspects entry points; nothing else probes
        if not callable(fn):
            raise MetaplasticError(f"{self.kind} {resolved!r} cannot load runs (its entry point has no load())")
        return fn


BACKENDS = Registry("metaplastic.backends", "backend", FALLBACK_CHAINS)
TASKS = Registry("metaplastic.tasks", "task family", plural="task families")
