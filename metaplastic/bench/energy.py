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
_OPS = ("macs", "acs", "synaptic_events", "neuron_updates", "synaptic_updates", "trace_updates", "mem_bytes", "spikes")


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


def load_profile(name_or_path: str | Path) -> HardwareProfile:
    """A built-in profile by name, or a profile file by path (one-line errors)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.json"
        if not path.is_file():
            raise ConfigError(f"unknown hardware profile {str(name_or_path)!r}; built-in: {', '.join(builtin_profiles())}, "
                              "or give the path of a profile .json")
    try:
        doc = json.loads(path.read_text())
    except OSError:
        raise ConfigError(f"{path}: cannot read the profile file") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}); copy a built-in profile as a template") from None
    return _profile_from(doc, path)


def _amount(v: Any) -> bool:
    """Whether ``v`` is null or a finite non-negative number (joules, watts)."""
    return v is None or (not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and v >= 0)


def _profile_from(doc: Any, path: Path) -> HardwareProfile:
    where = str(path)
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
            raise ConfigError(f"{where}: unknown operation {k!r} in energy_per_op_j; known: {', '.join(_OPS)}")
        if not _amount(v):
            raise ConfigError(f"{where}: energy_per_op_j.{k} must be a non-negative number of joules or null, got {v!r}")
    missing_ops = [k for k in _OPS if k not in ops]
    if missing_ops:  # an unpriced operation would silently cost nothing
        raise ConfigError(f"{where}: energy_per_op_j lacks {', '.join(missing_ops)}; give joules per operation, 0 if "
                          "it is free or included elsewhere, or null if the hardware cannot execute it")
    idle = doc.get("idle_power_w")
    if not _amount(idle):
        raise ConfigError(f"{where}: idle_power_w must be a non-negative number of watts or null, got {idle!r}")
    applies = doc.get("applies_to", "all")
    if applies not in ("all", "spiking"):
        raise ConfigError(f"{where}: applies_to must be 'all' or 'spiking', got {applies!r}")
    return HardwareProfile(
        name=str(doc["name"]), description=str(doc.get("description", "")), applies_to=applies,
        energy_per_op_j={k: (None if v is None else float(v)) for k, v in ops.items()},
        notes={str(k): str(v) for k, v in dict(doc.get("notes", {})).items()},
        citations=[str(c) for c in doc["citations"]], idle_power_w=None if idle is None else float(idle),
        idle_power_source=str(doc.get("idle_power_source", "")),
        time_per_decision=str(doc.get("time_per_decision", "measured")),
        measured_on=None if doc.get("measured_on") is None else str(doc["measured_on"]),
        device_name_contains=None if doc.get("device_name_contains") is None else str(doc["device_name_contains"]),
        source=where,
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
