"""Modelled energy: counted operations × energy per operation on a hardware profile.

A profile is a JSON data file (``metaplastic/bench/profiles/*.json``; copy one to make
your own and pass its path to ``--profiles``) with the energy of each counted operation
(``energy_per_op_j``, keyed by :class:`~metaplastic.core.OpCounts` fields), a note and
citation per constant, the kind of network it applies to (``all`` or ``spiking``) and,
optionally, an idle power.

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
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from metaplastic.core import OpCounts
from metaplastic.errors import ConfigError

__all__ = ["HardwareProfile", "EnergyEstimate", "load_profile", "builtin_profiles", "model_energy", "time_applies",
           "PROFILE_DIR"]

PROFILE_DIR = Path(__file__).with_name("profiles")
_OPS = ("macs", "acs", "synaptic_events", "neuron_updates", "synaptic_updates", "trace_updates", "mem_bytes", "spikes",
        "bit_ops")
#: Operations added after profiles were first written: a profile that does not price one
#: reads as unable to execute it (null), so an older profile still loads and never prices
#: that work at zero.
_LATER_OPS = ("bit_ops",)


@dataclass(frozen=True)
class HardwareProfile:
    """One hardware profile (see the module docstring for the file format)."""

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
    source: str = ""                      # the file it was read from

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EnergyEstimate:
    """Modelled energy of one decision on one profile (joules)."""

    profile: str
    applicable: bool
    dynamic_j: float | None
    static_j: float | None
    note: str

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
    """Names of the profiles shipped with metaplastic."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.json"))


def _short(value: Any, limit: int = 200) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters (a name of thousands of
    characters, a whole JSON document given where a number belongs)."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's int-to-text digit limit
        return "a number of more than 4300 digits"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False where the OS refuses the name (too long, a NUL byte)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def load_profile(name_or_path: str | Path) -> HardwareProfile:
    """A built-in profile by name, or a profile file by path (one-line errors).

    The file is a JSON object with ``name``, ``energy_per_op_j`` (every operation of
    :class:`~metaplastic.core.OpCounts` priced: joules, or null where the hardware cannot
    run it) and ``citations`` (a list of sources); optional: ``description``, ``notes``
    (an object: operation name -> note; null is none), ``applies_to`` (``all`` or
    ``spiking``), ``idle_power_w`` (watts or null), ``idle_power_source``,
    ``time_per_decision``, ``measured_on``, ``device_name_contains``."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.json"
        if not _is_file(path):
            raise ConfigError(f"unknown hardware profile {_short(str(name_or_path))}; built-in: "
                              f"{', '.join(builtin_profiles())}, or give the path of a profile .json")
    try:
        raw = path.read_bytes()
    except (OSError, ValueError) as exc:  # missing, a folder, no permission, a name the OS refuses
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"{_short(str(path))}: cannot read the profile file ({why}); give the path of a "
                          "profile .json or a built-in name") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, an int of thousands of digits
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"{_short(str(path))}: not valid JSON ({first}); copy a built-in profile as a "
                          "template") from None
    return _profile_from(doc, path)


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


def _profile_from(doc: Any, path: Path) -> HardwareProfile:
    where = _short(str(path))
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a profile is a JSON object")
    missing = [k for k in ("name", "energy_per_op_j", "citations") if k not in doc]
    if missing:
        raise ConfigError(f"{where}: profile lacks {', '.join(missing)}; copy a built-in profile as a template")
    ops = doc["energy_per_op_j"]
    if not isinstance(ops, dict):
        raise ConfigError(f"{where}: energy_per_op_j must map operation names to joules")
    for k, v in ops.items():
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
    citations = doc["citations"]
    if not isinstance(citations, list):
        raise ConfigError(f"{where}: citations must be a list of sources (strings), got {_short(citations)}; "
                          "copy a built-in profile as a template")
    return HardwareProfile(
        name=str(doc["name"]), description=str(doc.get("description", "")), applies_to=applies,
        energy_per_op_j={k: (None if v is None else float(v)) for k, v in ops.items()},
        notes={str(k): str(v) for k, v in (notes or {}).items()},
        citations=[str(c) for c in citations], idle_power_w=None if idle is None else float(idle),
        idle_power_source=str(doc.get("idle_power_source", "")),
        time_per_decision=str(doc.get("time_per_decision", "measured")),
        measured_on=None if doc.get("measured_on") is None else str(doc["measured_on"]),
        device_name_contains=None if doc.get("device_name_contains") is None else str(doc["device_name_contains"]),
        source=str(path),
    )


def time_applies(profile: HardwareProfile, device: str, device_name: str) -> bool:
    """Whether a latency measured on ``device`` (named ``device_name``) is the time a
    decision takes on ``profile``'s hardware."""
    if profile.measured_on is None or profile.measured_on != device:
        return False
    return profile.device_name_contains is None or profile.device_name_contains.lower() in device_name.lower()


def model_energy(ops: OpCounts, profile: HardwareProfile, *, spiking: bool,
                 seconds_per_decision: float | None = None, time_source: str = "") -> EnergyEstimate:
    """Energy per decision of ``ops`` (summed over ``ops.decisions`` decisions) on ``profile``.

    ``seconds_per_decision`` is the time one decision takes on that hardware (measured or
    stated, described by ``time_source``); with the profile's idle power it gives the static
    part."""
    if profile.applies_to == "spiking" and not spiking:
        return EnergyEstimate(profile.name, False, None, None,
                              f"not applicable: {profile.name} runs spiking networks and this backend is not spiking")
    if ops.decisions <= 0:
        return EnergyEstimate(profile.name, False, None, None, "no decisions were counted")
    per = ops.per_decision()
    dynamic = 0.0
    for op, joules in profile.energy_per_op_j.items():
        count = per.get(op, 0.0)
        if joules is None:
            if count:
                return EnergyEstimate(profile.name, False, None, None,
                                      f"not applicable: {profile.name} cannot execute {op} ({profile.notes.get(op, '')})")
            continue
        dynamic += count * joules
    if profile.idle_power_w is None:
        static, note = None, f"static energy not modelled: {profile.idle_power_source or 'no idle power stated'}"
    elif seconds_per_decision is None:
        static, note = None, f"static energy not modelled: the time of a decision on {profile.name} is not known here"
    else:
        static = profile.idle_power_w * seconds_per_decision
        note = f"static = {profile.idle_power_w:g} W idle x {seconds_per_decision:.3g} s per decision ({time_source})"
    return EnergyEstimate(profile.name, True, dynamic, static, note)
