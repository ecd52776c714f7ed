"""The top-level functions: ``make``, ``make_tasks``, ``load``, ``available``, ``backends``.

Example:
    >>> import metaplastic
    >>> learner = metaplastic.make("random")
    >>> tasks = metaplastic.make_tasks("bandits:k=5,n=10")
    >>> tasks.episodes_per_trial
    10
"""

from __future__ import annotations

import os
from typing import Any

from metaplastic.core import MetaLearner, TaskDistribution
from metaplastic.errors import ConfigError, MetaplasticError, RunDirError
from metaplastic.params import parse_spec
from metaplastic.registry import BACKENDS, TASKS, EntryInfo
from metaplastic.runs.rundir import RunDir


def _reserved(factory: Any) -> set[str]:
    """Names no keyword can reach: the factory's positional-only parameters and, for a class,
    those of its ``__init__``/``__new__`` with the parameter they bind to the instance or class
    (``self``, ``cls``), which the class's own signature leaves out (``**config`` would accept
    them; the call would then fail with "got multiple values")."""
    import inspect

    targets = [factory]
    if isinstance(factory, type):
        targets += [factory.__init__, factory.__new__]
    names: set[str] = set()
    for i, target in enumerate(targets):
        try:
            params = list(inspect.signature(target).parameters.values())
        except (TypeError, ValueError):
            continue
        names |= {p.name for p in params if p.kind is p.POSITIONAL_ONLY}
        if i and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            names.add(params[0].name)  # self of __init__, cls of __new__
    return names


def _call(kind: str, name: str, factory: Any, config: dict[str, Any]) -> Any:
    """``factory(**config)``, with a one-line :class:`ConfigError` when the config does not
    fit its signature (checked by binding, before the call): an unknown or missing keyword,
    or a key the factory reserves (``self``, a positional-only name)."""
    import inspect

    reserved = sorted(set(config) & _reserved(factory))
    if reserved:
        raise ConfigError(f"{kind} {name!r}: {reserved[0]!r} is not a config key (it names an argument of the "
                          f"constructor itself); remove it")
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin without a signature: let the call speak
        signature = None
    if signature is not None:
        try:
            signature.bind(**config)
        except TypeError as exc:
            raise ConfigError(f"{kind} {name!r} rejected its config {sorted(config)}: {exc}") from None
    return factory(**config)


def make(name: str, /, **config: Any) -> MetaLearner:
    """Build the learner of backend ``name`` (an entry point, or a family name such as
    ``"spiking"`` that resolves to its first available member) with ``config``.

    ``name`` is positional-only: a config key ``name`` is part of ``config`` (and refused
    by a backend that declares no such key), not a second backend name.

    Example:
        >>> import metaplastic
        >>> metaplastic.make("random", seed=1).name
        'random'
    """
    resolved, factory = BACKENDS.load(name)
    return _call("backend", resolved, factory, config)


def make_tasks(spec: str, /, **params: Any) -> TaskDistribution:
    """Build a task distribution from a spec string ``"name:key=value,..."`` and/or keywords
    (``spec`` is positional-only: a keyword ``spec`` is a parameter like any other).

    Example:
        >>> import metaplastic
        >>> int(metaplastic.make_tasks("bandits", k=3).action_space.n)
        3
    """
    if isinstance(spec, TaskDistribution):
        if params:
            raise ConfigError("pass parameters with a spec string, not with a built task distribution")
        return spec  # already a distribution
    name, raw = parse_spec(spec)
    clash = sorted(set(raw) & set(params))
    if clash:
        raise ConfigError(f"{', '.join(clash)} given both in the spec {spec!r} and as keywords; give each once")
    _, factory = TASKS.load(name)
    return _call("task family", name, factory, {**raw, **params})


def load(path: str | os.PathLike, *, backend: str | None = None) -> MetaLearner:
    """Load a saved learner: read ``config.json``, find its backend, call its ``load``.

    The backend's ``load`` receives a :class:`~metaplastic.runs.rundir.RunDir` (a path
    that has already read ``config.json``, so the file is parsed once). ``backend`` loads
    the run with another backend than the one that saved it, where that backend can run
    what the run holds (``backend="lava"`` runs a snntorch or numba run's network on
    Lava); any other backend refuses a foreign run in one line.

    Example:
        >>> import metaplastic, tempfile
        >>> d = tempfile.mkdtemp()
        >>> metaplastic.make("random", seed=2).save(d)
        >>> metaplastic.load(d).config["seed"]
        2
    """
    run = RunDir(path)
    if backend is not None and backend not in BACKENDS:
        raise BACKENDS.unknown(backend)
    name = run.backend if backend is None else BACKENDS.resolve(backend)
    if name not in BACKENDS.names():
        raise RunDirError(
            f"{str(path)!r} was saved by backend {name!r}, which is not installed here; installed: {', '.join(BACKENDS.names())}"
        )
    return BACKENDS.loader(name)(run)


def backends() -> list[EntryInfo]:
    """Every backend entry point: name, availability (and why not, and what to install),
    capabilities, distribution and version.

    Example:
        >>> import metaplastic
        >>> [b.available for b in metaplastic.backends() if b.name == "random"]
        [True]
    """
    return BACKENDS.infos()


def available() -> dict[str, EntryInfo]:
    """Each backend and family name mapped to the entry point it would use here.

    A family name (``"spiking"``) maps to its first available member, or, when none is,
    to an unavailable entry whose ``reason`` lists why each member can't be used.

    Example:
        >>> import metaplastic
        >>> metaplastic.available()["random"].available
        True
    """
    out = {info.name: info for info in BACKENDS.infos()}
    for family in sorted(BACKENDS.chains):
        try:
            out[family] = BACKENDS.info(BACKENDS.resolve(family))
        except MetaplasticError as exc:
            out[family] = EntryInfo(
                name=family, group=BACKENDS.group, target="(family)", distribution=None, version=None,
                available=False, reason=str(exc),
            )
    return out


def task_families() -> list[EntryInfo]:
    """Every task-family entry point, described (see ``metaplastic tasks``)."""
    return TASKS.infos()
