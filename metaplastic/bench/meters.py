"""Energy meters: measured joules where a meter exists, and a reason where none does.

* ``nvml`` — NVIDIA GPUs: ``nvmlDeviceGetTotalEnergyConsumption`` (millijoules since the
  driver loaded; it updates every 20–100 ms, so windows should be long) through the
  ``nvidia-ml-py`` package;
* ``rapl`` — Linux CPUs: ``/sys/class/powercap/intel-rapl:*/energy_uj`` when readable
  (often not inside virtual machines).

A meter never makes a figure up: :meth:`Meter.measure` returns ``None`` and
:attr:`Meter.reason` says why when it cannot read one.

Example:
    >>> m = RaplMeter(root="/nonexistent")
    >>> m.available, m.reason
    (False, 'no readable RAPL counters under /nonexistent')
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

__all__ = ["Meter", "NvmlMeter", "RaplMeter", "available_meters"]


class Meter:
    """Reads a cumulative energy counter (joules)."""

    name = "meter"
    available = False
    reason = "not implemented"

    def read_j(self) -> float:
        raise NotImplementedError(self.reason)

    def measure(self, fn: Callable[[], Any], *, min_seconds: float = 1.0) -> tuple[float | None, float, int]:
        """Run ``fn`` repeatedly for at least ``min_seconds``; ``(joules, seconds, calls)``
        with joules ``None`` when the meter is unavailable (the reason in :attr:`reason`)."""
        start_j = self.read_j() if self.available else None
        t0, calls = time.perf_counter(), 0
        while True:
            fn()
            calls += 1
            if time.perf_counter() - t0 >= min_seconds:
                break
        seconds = time.perf_counter() - t0
        if start_j is None:
            return None, seconds, calls
        return self.read_j() - start_j, seconds, calls


class RaplMeter(Meter):
    """Package energy of the CPU sockets from Linux's powercap RAPL interface."""

    name = "rapl"

    def __init__(self, root: str = "/sys/class/powercap"):
        self.files = []
        for d in sorted(Path(root).glob("intel-rapl:*")) if Path(root).is_dir() else []:
            f = d / "energy_uj"
            if d.name.count(":") == 1 and f.is_file():
                try:
                    int(f.read_text())
                except (OSError, ValueError):
                    continue
                self.files.append(f)
        self.available = bool(self.files)
        self.reason = "" if self.available else f"no readable RAPL counters under {root}"

    def read_j(self) -> float:
        return sum(int(f.read_text()) for f in self.files) * 1e-6


class NvmlMeter(Meter):
    """Total energy of GPU ``index`` from NVML."""

    name = "nvml"

    def __init__(self, index: int = 0):
        self.available, self.reason = False, ""
        try:
            import pynvml  # the nvidia-ml-py package
        except ImportError:
            self.reason = "NVML not available: install nvidia-ml-py on a machine with an NVIDIA GPU"
            return
        try:
            pynvml.nvmlInit()
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
        except Exception as exc:  # noqa: BLE001 - NVMLError has many subclasses
            self.reason = f"NVML cannot read GPU {index}'s energy counter ({type(exc).__name__})"
            return
        self._nvml = pynvml
        self.available = True

    def read_j(self) -> float:
        return self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle) * 1e-3


def available_meters() -> dict[str, Meter]:
    """Every meter, available or not (each says why not)."""
    return {"nvml": NvmlMeter(), "rapl": RaplMeter()}
