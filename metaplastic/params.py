"""Declared, validated parameters for task families and backends, and spec strings.

A spec string names a registered thing and its parameters: ``name:key=value,key=value``.

Example:
    >>> parse_spec("bandits:k=5,n=10")
    ('bandits', {'k': '5', 'n': '10'})
    >>> p = Param("k", int, 5, "number of arms", low=2)
    >>> coerce("bandits", (p,), {"k": "7"})
    {'k': 7}
"""

from __future__ import annotations

import dataclasses
import sys
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from metaplastic.errors import ConfigError, LimitExceeded

#: Seeds are 64-bit integers (torch.manual_seed, numpy's SeedSequence).
MAX_SEED = 2**63 - 1

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    """One declared parameter: its type, default, documentation and allowed range.

    ``low``/``high`` are inclusive bounds; ``choices`` restricts to a set of values.
    """

    name: str
    type: type
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False
    choices: tuple[Any, ...] = ()

    def describe_range(self) -> str:
        """A short human description of the allowed values (``"int >= 2"``)."""
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        kind = {int: "an integer", float: "a number", bool: "true/false", str: "a string"}.get(self.type, self.type.__name__)
        num = (lambda v: str(int(v))) if self.type is int else (lambda v: f"{v:g}")
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_exclusive else '>='} {num(self.low)}")
        if self.high is not None:
            parts.append(f"<= {num(self.high)}")
        return kind + (" " + " and ".join(parts) if parts else "")

    def convert(self, owner: str, raw: Any) -> Any:
        """Convert ``raw`` (a string from a spec, or a Python value) and check its range."""
        fix = f"{owner}: {self.name} must be {self.describe_range()}, got {raw!r}"
        value: Any
        try:
            if self.type is bool:
                if isinstance(raw, bool):
                    value = raw
                elif isinstance(raw, str) and raw.lower() in ("true", "1", "yes", "false", "0", "no"):
                    value = raw.lower() in ("true", "1", "yes")
                else:
                    raise ValueError
            elif self.type is int:
                if isinstance(raw, bool):
                    raise ValueError
                if isinstance(raw, str):
                    value = int(raw.strip())
                elif isinstance(raw, (int,)) or (hasattr(raw, "__index__") and not isinstance(raw, float)):
                    value = int(raw)
                elif isinstance(raw, float) and raw.is_integer():
                    value = int(raw)
                else:
                    raise ValueError
            elif self.type is float:
                if isinstance(raw, bool):
                    raise ValueError
                value = float(raw.strip()) if isinstance(raw, str) else float(raw)
                if not math.isfinite(value):
                    raise ValueError
            elif self.type is str:
                if not isinstance(raw, str):
                    raise ValueError
                value = raw
            else:
                value = self.type(raw)
        except (TypeError, ValueError):
            raise ConfigError(fix) from None
        if self.choices and value not in self.choices:
            raise ConfigError(fix)
        if self.low is not None and (value <= self.low if self.low_exclusive else value < self.low):
            raise ConfigError(fix)
        if self.high is not None and value > self.high:
            high = int(self.high) if self.type is int else self.high
            raise LimitExceeded(f"{owner}: {self.name}={value} is above its limit of {high} ({self.doc}); "
                                f"{self.name} must be {self.describe_range()}")
        return value


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``"name:key=value,..."`` into the name and a dict of raw string values.

    Raises :class:`ConfigError` with a one-line message on a malformed spec.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"empty spec {spec!r}; write it as name:key=value,key=value (e.g. bandits:k=5,n=10)")
    name, sep, rest = spec.strip().partition(":")
    name = name.strip()
    if not _NAME.match(name):
        raise ConfigError(f"malformed spec {spec!r}: {name!r} is not a name; write it as name:key=value (e.g. bandits:k=5)")
    values: dict[str, str] = {}
    if sep and not rest.strip():
        raise ConfigError(f"malformed spec {spec!r}: nothing after ':'; write name:key=value or just name")
    if rest.strip():
        for item in rest.split(","):
            key, eq, val = item.partition("=")
            key, val = key.strip(), val.strip()
            if not eq or not _KEY.match(key) or val == "":
                raise ConfigError(f"malformed spec {spec!r}: {item.strip()!r} is not key=value; write name:key=value,key=value")
            if key in values:
                raise ConfigError(f"malformed spec {spec!r}: {key!r} is given twice")
            values[key] = val
    return name, values


def coerce(owner: str, declared: Sequence[Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``given`` against ``declared``; return only the given keys, converted.

    Unknown keys raise :class:`ConfigError` listing the known ones.
    """
    known = {p.name: p for p in declared}
    out: dict[str, Any] = {}
    for key, raw in given.items():
        if key not in known:
            names = ", ".join(known) or "none"
            raise ConfigError(f"{owner}: unknown parameter {key!r}; known parameters: {names}")
        out[key] = known[key].convert(owner, raw)
    return out


def with_defaults(declared: Sequence[Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared parameter, ``values`` overriding the defaults."""
    return {p.name: values.get(p.name, p.default) for p in declared}


def format_spec(name: str, values: Mapping[str, Any]) -> str:
    """The inverse of :func:`parse_spec` (``format_spec("bandits", {"k": 5})`` -> ``"bandits:k=5"``)."""
    if not values:
        return name
    return name + ":" + ",".join(f"{k}={_fmt(v)}" for k, v in values.items())


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def settings_type(name: str, declared: Sequence[Param], doc: str = "", check: Any = None) -> type:
    """A frozen dataclass with one field per declared parameter (its type and default), so
    that settings derive from the ``Param`` declarations instead of repeating them.

    Example:
        >>> S = settings_type("S", (Param("lr", float, 0.1, "step size"),))
        >>> S().lr, S(lr=0.5).lr
        (0.1, 0.5)
    """
    namespace = {"__post_init__": check} if check is not None else {}
    cls = dataclasses.make_dataclass(name, [(p.name, p.type, dataclasses.field(default=p.default)) for p in declared],
                                     frozen=True, namespace=namespace)
    cls.__doc__ = doc or f"Settings declared by {', '.join(p.name for p in declared)}."
    # the defining module, as collections.namedtuple does, so that instances pickle (to workers)
    cls.__module__ = sys._getframe(1).f_globals.get("__name__", cls.__module__)
    return cls


def settings_from(settings: type, config: Mapping[str, Any]) -> Any:
    """An instance of a :func:`settings_type` class from the keys of ``config`` it declares.

    Example:
        >>> S = settings_type("S", (Param("lr", float, 0.1, "step size"),))
        >>> settings_from(S, {"lr": 0.2, "other": 1}).lr
        0.2
    """
    names = {f.name for f in dataclasses.fields(settings)}
    return settings(**{k: v for k, v in config.items() if k in names})
