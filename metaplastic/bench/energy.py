"""Modelled energy: counted operations × energy per operation on a hardware profile.

A profile is a JSON object (schema: docs/profiles.md) with the energy of each counted
operation (``energy_per_op_j``, keyed by :class:`~metaplastic.core.OpCounts` fields), a
note per constant, its citations, the kind of network it applies to (``all`` or
``spiking``) and, optionally, an idle power. Profiles are found by name through the
entry-point group ``metaplastic.profiles`` — the built-in ones (``metaplastic/bench/profiles/*.json``)
are registered there by metaplastic itself, exactly as a lab's package registers its chip's
— or read from a file given by path (``--profiles my-chip.json``).

A model has two parts, kept apart:

* **dynamic** — counts × energy per op: a lower bound that assumes the device runs at its
  peak efficiency (a GPU at batch 1 is far from it);
* **static** — idle power × the time one decision takes *there*: given only when the
  profile states its idle power and that time is known (measured on that device, or stated
  by the profile); otherwise it is ``None`` with the reason.

Example:
    >>> from metaplastic.core import OpCounts
    >>> cpu = load_profile("cpu-45nm")
    >>> e = model_energy(OpCounts(macs=1000, decisions=1), cpu, spiking=False)
    >>> round(e.dynamic_j * 1e12, 1), e.static_j is None
    (4600.0, True)
    >>> cpu.provider, "loihi" in installed_profiles()
    ('built-in', True)
"""

from __future__ import annotations

import difflib
import importlib.metadata as md
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from metaplastic.core import OpCounts
from metaplastic.errors import ConfigError
from metaplastic.registry import EntryInfo, Registry

__all__ = ["HardwareProfile", "EnergyEstimate", "TimeModel", "load_profile", "builtin_profiles", "installed_profiles",
           "profile_rows", "model_energy", "price", "time_applies", "PROFILE_DIR", "PROFILES", "PRICED_OPS", "TALLIES"]

PROFILE_DIR = Path(__file__).with_name("profiles")
#: The profiles installed: built-in ones and those of plugin packages, by name.
PROFILES = Registry("metaplastic.profiles", "hardware profile")
#: The distribution whose entry points are the built-in profiles.
_BUILTIN_DIST = "metaplastic"
_OPS = ("macs", "acs", "synaptic_events", "neuron_updates", "synaptic_updates", "trace_updates", "mem_bytes", "spikes",
        "bit_ops")
#: The :class:`OpCounts` fields a profile prices (every one, in ``energy_per_op_j``).
PRICED_OPS = _OPS
#: The :class:`OpCounts` fields that are tallies, never priced: the arithmetic they stand for
#: is counted (and priced) in ``macs``. Together with :data:`PRICED_OPS`: every field.
TALLIES = ("decisions", "energy_evals", "grad_evals", "posterior_updates", "rule_evals")
#: Operations added after profiles were first written: a profile that does not price one
#: reads as unable to execute it (null), so an older profile still loads and never prices
#: that work at zero.
_LATER_OPS = ("bit_ops",)
#: Keys of a profile object; any other key (a typo) is refused, except comments ("_...").
_KEYS = ("name", "description", "applies_to", "energy_per_op_j", "notes", "citations", "idle_power_w",
         "idle_power_source", "time_per_decision", "measured_on", "device_name_contains", "time_model")
#: Keys of a profile's ``time_model`` object.
_TIME_KEYS = ("seconds_per_decision", "seconds_per_op", "bound", "source")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_TEMPLATE = "copy a built-in profile (metaplastic/bench/profiles/*.json) as a template; schema: docs/profiles.md"


@dataclass(frozen=True)
class HardwareProfile:
    """One hardware profile (the file format: docs/profiles.md)."""

    name: str
    description: str
    applies_to: str                       # "all" or "spiking"
    energy_per_op_j: dict[str, float | None]
    notes: dict[str, str]
    citations: list[str]
    idle_power_w: float | None = None
    idle_power_source: str = ""
    time_per_decision: str = "measured"   # how the static part's time is obtained
    measured_on: str | None = None        # the device ("cpu", "cuda") whose measured latency is the time there
    device_name_contains: str | None = None  # ...and a word its name must contain ("H100")
    time_model: TimeModel | None = None   # the modelled time of a decision there, where none is measured
    source: str = ""                      # the file it was read from (or the entry point that gave it)
    provider: str = "file"                # "built-in", "plugin <distribution> <version>" or "file"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TimeModel:
    """The modelled time of one decision on a chip, from the operations it counted:
    ``seconds_per_decision + sum(seconds_per_op[op] * ops per decision)``, a ``bound``
    (``"lower"``: the model leaves work out, so the time and the static energy are at
    least this; ``"estimate"``: neither side), with its ``source`` (a citation).

    Example:
        >>> m = TimeModel(2e-7, {"neuron_updates": 6e-9}, "lower", "a paper")
        >>> round(m.seconds({"neuron_updates": 100.0}) * 1e9, 1)
        800.0
    """

    seconds_per_decision: float
    seconds_per_op: dict[str, float]
    bound: str
    source: str

    def seconds(self, per_decision: Mapping[str, float]) -> float:
        """The modelled seconds of one decision whose counted operations are ``per_decision``."""
        return self.seconds_per_decision + sum(t * per_decision.get(op, 0.0) for op, t in self.seconds_per_op.items())


@dataclass(frozen=True)
class EnergyEstimate:
    """Modelled energy of one decision on one profile (joules)."""

    profile: str
    applicable: bool
    dynamic_j: float | None
    static_j: float | None
    note: str
    seconds_per_decision: float | None = None  # the time of a decision there, used for the static part
    time_kind: str | None = None               # "measured", "modelled (lower bound)", "modelled (estimate)"

    @property
    def total_j(self) -> float | None:
        """Dynamic + static when both are known; the dynamic lower bound otherwise."""
        if self.dynamic_j is None:
            return None
        return self.dynamic_j + (self.static_j or 0.0)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(total_j=self.total_j, unit="J", kind="modelled",
                 parts="dynamic+static" if self.static_j is not None else "dynamic only (a lower bound)")
        return d


def builtin_profiles() -> list[str]:
    """Names of the profiles shipped with metaplastic: the entry points of the group
    ``metaplastic.profiles`` that metaplastic's own distribution declares.

    Example:
        >>> builtin_profiles()
        ['cpu-45nm', 'gpu-a100', 'gpu-h100', 'loihi', 'truenorth']
    """
    try:
        eps = md.distribution(_BUILTIN_DIST).entry_points
    except md.PackageNotFoundError:
        raise ConfigError("metaplastic is not installed, so its built-in hardware profiles (entry points) are not "
                          "registered; install it: pip install -e .") from None
    return sorted({ep.name for ep in eps if ep.group == PROFILES.group})


def installed_profiles() -> list[str]:
    """Names of every installed profile: the built-in ones and those plugin packages
    register in the entry-point group ``metaplastic.profiles`` (nothing is imported).

    Example:
        >>> set(builtin_profiles()) <= set(installed_profiles())
        True
    """
    return PROFILES.names()


def _short(value: Any, limit: int = 200) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters (a name of thousands of
    characters, a whole JSON document given where a number belongs)."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's int-to-text digit limit
        return "a number of more than 4300 digits"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line (line breaks as spaces), cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return _one_line(f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": "))


def load_profile(name_or_path: str | Path) -> HardwareProfile:
    """An installed profile by name (built-in or a plugin's: the entry-point group
    ``metaplastic.profiles``), or a profile file by path; one-line :class:`ConfigError`s.

    A name with no suffix that nobody registers is an unknown profile; anything else is read
    as the path of a JSON file. The schema (every key, its unit, what null means) is in
    docs/profiles.md: ``name``, ``energy_per_op_j`` (every operation of :data:`PRICED_OPS`
    priced: joules, 0 if free, or null where the hardware cannot run it) and ``citations``
    (a non-empty list of sources) are required.

    Example:
        >>> load_profile("truenorth").applies_to
        'spiking'
        >>> load_profile("tpu-v9")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        metaplastic.errors.ConfigError: unknown hardware profile 'tpu-v9'; installed: cpu-45nm, gpu-a100, ...
    """
    path = Path(name_or_path)
    if (isinstance(name_or_path, str) or not path.suffix) and str(name_or_path) in PROFILES:
        return _from_entry_point(str(name_or_path))
    if not path.suffix:
        name = str(name_or_path)
        close = difflib.get_close_matches(name, installed_profiles(), n=1) if len(name) < 100 else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown hardware profile {_short(name)}{hint}; installed: "
                          f"{', '.join(installed_profiles()) or 'none'}; or give the path of a profile .json "
                          f"(a package adds one through the entry-point group {PROFILES.group!r}: docs/profiles.md)")
    return _profile_from(_read_json(path, _short(str(path))), path)


def _read_json(path: Path, where: str) -> Any:
    """The JSON document in ``path``; one-line errors prefixed by ``where``."""
    try:
        raw = path.read_bytes()
    except (OSError, ValueError) as exc:  # missing, a folder, no permission, a name the OS refuses
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"{where}: cannot read the profile file ({why}); give the path of a "
                          "profile .json or an installed profile's name") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, an int of thousands of digits
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"{where}: not valid JSON ({_one_line(first)}); {_TEMPLATE}") from None


def _provider(info: EntryInfo) -> str:
    if info.distribution == _BUILTIN_DIST:
        return "built-in"
    return f"plugin {info.distribution or '(no distribution)'} {info.version or ''}".rstrip()


def _from_entry_point(name: str) -> HardwareProfile:
    """The profile an entry point of ``metaplastic.profiles`` gives: a mapping (the profile),
    the path of a profile JSON file, or a function of no arguments returning either."""
    info = PROFILES.info(name)
    provider = _provider(info)
    label = f"hardware profile {_short(name)}"
    where = f"{label} ({provider}, entry point {_short(info.target)})"
    fix = (f"fix the plugin or uninstall it (pip uninstall {info.distribution})" if provider != "built-in"
           else "reinstall metaplastic (pip install -e .)")
    if not info.available:
        raise ConfigError(f"{where} cannot be loaded: {info.reason}; {fix}")
    obj = info.obj
    if callable(obj) and not isinstance(obj, (Mapping, str, os.PathLike)):  # a function returning the profile
        try:
            obj = obj()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a broken plugin is one line, SystemExit included
            raise ConfigError(f"{where}: its function raised {_first_line(exc)}; {fix}") from None
    if isinstance(obj, Mapping):
        doc, source = dict(obj), info.target
    elif isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        doc, source = _read_json(path, f"{where}, file {_short(str(path))}"), str(path)
    else:
        raise ConfigError(f"{where} gives an object of type {type(obj).__name__!r}; a profile entry point names a "
                          "dict, the path of a profile .json, or a function returning one (docs/profiles.md)")
    profile = _profile_from(doc, source, where=where)
    if profile.name != name:
        raise ConfigError(f"{where}: its name is {_short(profile.name)} but it is registered as {_short(name)}; "
                          "make the entry-point name and the profile's name equal")
    return replace(profile, provider=provider)


def profile_rows(names: list[str] | tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """What ``metaplastic profiles`` lists: one JSON-ready row per profile (``name``,
    ``available``, ``source`` — ``built-in``, ``plugin <distribution> <version>`` or
    ``file`` —, ``applies_to``, ``citations``, ``description``, ``location``, ``error``).

    ``names`` (installed names or paths of files) are each loaded, and the first that fails
    raises its one-line :class:`ConfigError`; without names every installed profile is
    listed, a broken plugin's as a row with its error (it never hides the others).

    Example:
        >>> [(r["name"], r["source"], r["applies_to"]) for r in profile_rows(["loihi"])]
        [('loihi', 'built-in', 'spiking')]
    """
    rows = []
    for name in names or installed_profiles():
        try:
            p = load_profile(name)
        except ConfigError as exc:
            if names:
                raise
            info = PROFILES.info(name)
            rows.append({"name": name, "available": False, "source": _provider(info), "applies_to": None,
                         "citations": [], "description": "", "location": info.target, "error": str(exc)})
            continue
        rows.append({"name": p.name, "available": True, "source": p.provider, "applies_to": p.applies_to,
                     "citations": list(p.citations), "description": p.description, "location": p.source, "error": None})
    return rows


def _amount(v: Any) -> bool:
    """Whether ``v`` is null or a finite non-negative number (joules, watts)."""
    if v is None:
        return True
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(v) and v >= 0
    except OverflowError:  # an int too large for a float
        return False


def _text(doc: dict[str, Any], key: str, where: str, *, default: str | None = "") -> Any:
    """``doc[key]`` if it is a string; ``default`` where it is absent or null; a one-line
    error otherwise."""
    v = doc.get(key)
    if v is None:
        return default
    if not isinstance(v, str):
        raise ConfigError(f"{where}: {key} must be a string or null, got {_short(v)}; {_TEMPLATE}")
    return v


def _profile_from(doc: Any, path: Path | str, *, where: str | None = None) -> HardwareProfile:
    """Validate a profile document (every violation: a one-line ConfigError naming the
    field and the fix) and build the profile; ``path`` is its source, ``where`` the prefix
    of errors (the path by default)."""
    where = where or _short(str(path))
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a profile is a JSON object, got {type(doc).__name__}; {_TEMPLATE}")
    missing = [k for k in ("name", "energy_per_op_j", "citations") if k not in doc]
    if missing:
        raise ConfigError(f"{where}: profile lacks {', '.join(missing)}; {_TEMPLATE}")
    unknown = [k for k in doc if not (isinstance(k, str) and (k in _KEYS or k.startswith("_")))]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), _KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{where}: unknown key {_short(unknown[0])}{hint}; known: {', '.join(_KEYS)} "
                          "(a key starting with '_' is a comment)")
    name = doc["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"{where}: name must be a string of 1 to 64 letters, digits and '.', '_', '+', '-' "
                          f"(starting with a letter or digit), got {_short(name)}")
    ops = doc["energy_per_op_j"]
    if not isinstance(ops, dict):
        raise ConfigError(f"{where}: energy_per_op_j must map operation names to joules, got {_short(ops)}; "
                          f"{_TEMPLATE}")
    for k, v in ops.items():
        if k in TALLIES:
            raise ConfigError(f"{where}: energy_per_op_j.{k} is a tally, never priced (its arithmetic is counted in "
                              f"macs); remove it")
        if k not in _OPS:
            raise ConfigError(f"{where}: unknown operation {_short(k)} in energy_per_op_j; known: {', '.join(_OPS)}")
        if not _amount(v):
            raise ConfigError(f"{where}: energy_per_op_j.{k} must be a non-negative number of joules or null, "
                              f"got {_short(v)}")
    ops = {**{k: None for k in _LATER_OPS if k not in ops}, **ops}
    missing_ops = [k for k in _OPS if k not in ops]
    if missing_ops:  # an unpriced operation would silently cost nothing
        raise ConfigError(f"{where}: energy_per_op_j lacks {', '.join(missing_ops)}; give joules per operation, 0 if "
                          "it is free or included elsewhere, or null if the hardware cannot execute it")
    idle = doc.get("idle_power_w")
    if not _amount(idle):
        raise ConfigError(f"{where}: idle_power_w must be a non-negative number of watts or null, got {_short(idle)}")
    applies = doc.get("applies_to", "all")
    if not isinstance(applies, str) or applies not in ("all", "spiking"):
        raise ConfigError(f"{where}: applies_to must be 'all' or 'spiking', got {_short(applies)}")
    notes = doc.get("notes")
    if notes is not None and not isinstance(notes, dict):
        raise ConfigError(f"{where}: notes must be an object mapping operation names to notes (or null), "
                          f"got {_short(notes)}")
    for k, v in (notes or {}).items():
        if k not in _OPS:
            raise ConfigError(f"{where}: notes has a note for {_short(k)}, which is no priced operation; known: "
                              f"{', '.join(_OPS)}")
        if v is not None and not isinstance(v, str):
            raise ConfigError(f"{where}: notes.{k} must be a string (or null: no note), got {_short(v)}")
    citations = doc["citations"]
    if not isinstance(citations, list):
        raise ConfigError(f"{where}: citations must be a list of sources (strings), got {_short(citations)}; "
                          f"{_TEMPLATE}")
    if not citations:
        raise ConfigError(f"{where}: citations is empty; give at least one source of the constants (a paper, a "
                          "datasheet, a measurement report)")
    for i, c in enumerate(citations):
        if not isinstance(c, str) or not c.strip():
            raise ConfigError(f"{where}: citations[{i}] must be a non-empty string (a source), got {_short(c)}")
    time_model = _time_model(doc.get("time_model"), where)
    return HardwareProfile(
        name=name, description=_text(doc, "description", where), applies_to=applies,
        energy_per_op_j={k: (None if v is None else float(v)) for k, v in ops.items()},
        notes={k: v for k, v in (notes or {}).items() if v is not None}, citations=list(citations),
        idle_power_w=None if idle is None else float(idle),
        idle_power_source=_text(doc, "idle_power_source", where),
        time_per_decision=_text(doc, "time_per_decision", where, default="measured"),
        measured_on=_text(doc, "measured_on", where, default=None),
        device_name_contains=_text(doc, "device_name_contains", where, default=None),
        time_model=time_model, source=str(path),
    )


def _time_model(doc: Any, where: str) -> TimeModel | None:
    """Validate a profile's ``time_model`` (null: none); one-line errors naming the field."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: time_model must be an object (seconds_per_decision, seconds_per_op, bound, "
                          f"source) or null, got {_short(doc)}")
    unknown = [k for k in doc if not (isinstance(k, str) and (k in _TIME_KEYS or k.startswith("_")))]
    if unknown:
        raise ConfigError(f"{where}: unknown key {_short(unknown[0])} in time_model; known: {', '.join(_TIME_KEYS)}")
    fixed = doc.get("seconds_per_decision", 0.0)
    if fixed is None or not _amount(fixed):
        raise ConfigError(f"{where}: time_model.seconds_per_decision must be a non-negative number of seconds, "
                          f"got {_short(fixed)}")
    per_op = doc.get("seconds_per_op", {})
    if not isinstance(per_op, dict):
        raise ConfigError(f"{where}: time_model.seconds_per_op must map operation names to seconds, got {_short(per_op)}")
    for k, v in per_op.items():
        if k not in _OPS:
            raise ConfigError(f"{where}: unknown operation {_short(k)} in time_model.seconds_per_op; known: "
                              f"{', '.join(_OPS)}")
        if v is None or not _amount(v):
            raise ConfigError(f"{where}: time_model.seconds_per_op.{k} must be a non-negative number of seconds, "
                              f"got {_short(v)}")
    bound = doc.get("bound", "estimate")
    if bound not in ("lower", "estimate"):
        raise ConfigError(f"{where}: time_model.bound must be 'lower' or 'estimate', got {_short(bound)}")
    source = doc.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{where}: time_model.source must cite where the model and its constants come from "
                          f"(a non-empty string), got {_short(source)}")
    return TimeModel(float(fixed), {k: float(v) for k, v in per_op.items()}, bound, source)


def time_applies(profile: HardwareProfile, device: str, device_name: str) -> bool:
    """Whether a latency measured on ``device`` (named ``device_name``) is the time a
    decision takes on ``profile``'s hardware.

    Example:
        >>> h100 = load_profile("gpu-h100")
        >>> time_applies(h100, "cuda:0", "NVIDIA H100 80GB HBM3"), time_applies(h100, "cuda", "NVIDIA A100-SXM4-80GB")
        (True, False)
    """
    if profile.measured_on is None or profile.measured_on != device.split(":")[0]:  # "cuda:1" is a cuda device
        return False
    return profile.device_name_contains is None or profile.device_name_contains.lower() in device_name.lower()


def model_energy(ops: OpCounts, profile: HardwareProfile, *, spiking: bool,
                 seconds_per_decision: float | None = None, time_source: str = "") -> EnergyEstimate:
    """Energy per decision of ``ops`` (summed over ``ops.decisions`` decisions) on ``profile``.

    ``seconds_per_decision`` is the time one decision takes on that hardware, measured there
    (described by ``time_source``); without it the profile's ``time_model`` gives a modelled
    time from the counted operations. With the profile's idle power that time gives the
    static part.

    Example:
        >>> e = model_energy(OpCounts(neuron_updates=256, synaptic_events=2000, spikes=40, decisions=2),
        ...                  load_profile("loihi"), spiking=True)
        >>> e.time_kind, e.static_j is not None and e.static_j > 0
        ('modelled (lower bound)', True)
    """
    if profile.applies_to == "spiking" and not spiking:
        return EnergyEstimate(profile.name, False, None, None,
                              f"not applicable: {profile.name} runs spiking networks and this backend is not spiking")
    if ops.decisions <= 0:
        return EnergyEstimate(profile.name, False, None, None, "no decisions were counted")
    return price(ops.per_decision(), profile, spiking=spiking, seconds_per_decision=seconds_per_decision,
                 time_source=time_source)


def price(per: Mapping[str, float], profile: HardwareProfile, *, spiking: bool,
          seconds_per_decision: float | None = None, time_source: str = "") -> EnergyEstimate:
    """:func:`model_energy` of one decision given its operations per decision (a mapping of
    :class:`OpCounts` field names to counts, as ``OpCounts.per_decision()`` gives them, or
    as a saved report records them).

    Example:
        >>> price({"macs": 1000.0}, load_profile("cpu-45nm"), spiking=False).dynamic_j
        4.6e-09
    """
    if profile.applies_to == "spiking" and not spiking:
        return EnergyEstimate(profile.name, False, None, None,
                              f"not applicable: {profile.name} runs spiking networks and this backend is not spiking")
    dynamic = 0.0
    for op, joules in profile.energy_per_op_j.items():
        count = per.get(op, 0.0)
        if joules is None:
            if count:
                return EnergyEstimate(profile.name, False, None, None,
                                      f"not applicable: {profile.name} cannot execute {op} ({profile.notes.get(op, '')})")
            continue
        dynamic += count * joules
    kind = None
    if seconds_per_decision is not None:
        kind = "measured"
    elif profile.time_model is not None:
        seconds_per_decision = profile.time_model.seconds(per)
        kind = f"modelled ({'lower bound' if profile.time_model.bound == 'lower' else 'estimate'})"
        time_source = f"{kind}: {profile.time_model.source}"
    if profile.idle_power_w is None:
        static, note = None, f"static energy not modelled: {profile.idle_power_source or 'no idle power stated'}"
    elif seconds_per_decision is None:
        static, note = None, (f"static energy not modelled: the time of a decision on {profile.name} is neither "
                              "measured here nor modelled by the profile")
    else:
        static = profile.idle_power_w * seconds_per_decision
        note = f"static = {profile.idle_power_w:g} W idle x {seconds_per_decision:.3g} s per decision ({time_source})"
    return EnergyEstimate(profile.name, True, dynamic, static, note, seconds_per_decision, kind)
